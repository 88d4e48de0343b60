"""The long soak of issue 9 (label soak: not in CI; `ops/test.sh --no-setup -L soak`):
SOAK_JOBS (100,000) jobs through chaos.py's FIRST (exec) -> MIDDLE (builtin) -> LAST
(exec), exactly_once, on a 3-node cluster of its own (replication 3,
min.insync.replicas 2), while every 20-40 s (seeded: SLUICE_CHAOS_SEED replays it) either
a worker of a random stage is killed -9 and restarted under the same instance, or a
random node is killed -9 and restarted 10 s later (then a wait until it is back in the
in-sync replicas), for SOAK_SECONDS (600). Then `sluice verify`: 0 lost, 0 duplicated,
no transaction left open. The recorded results are in tests/README.md."""

import os
import random
import time

from chaos import MIDDLE, LAST, STAGES, Plan, run_chaos, seed_for_run
from conftest import wait_until
from test_chaos_brokers import BrokerChaos, warm_up

SOAK_JOBS = int(os.environ.get("SOAK_JOBS", "100000"))
SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
NODE_DOWN_S = 10


class Soak:
    """run_chaos's `disrupt`: a kill every 20-40 s until SOAK_SECONDS have passed."""

    def __init__(self, cluster, plan, pipeline_name, seed):
        self.cluster, self.plan = cluster, plan
        self.brokers = BrokerChaos(cluster, plan, pipeline_name)
        self.rng = random.Random(seed)
        self.events = []

    def _kill_worker(self, pipeline, progress):
        stage = self.rng.choice(STAGES)
        worker = pipeline.slots[stage][0]
        done = progress.done()
        worker.crash()
        pipeline.start(stage, 0)
        self.events.append(f"kill -9 of worker {stage} at {done} done")

    def _kill_node(self, pipeline, progress):
        node = self.rng.choice((1, 2, 3))
        done = progress.done()
        self.cluster.kill_node(node)
        killed = time.monotonic()
        # Not a condition but the experiment: the node stays down this long.
        while time.monotonic() < killed + NODE_DOWN_S:
            pipeline.check_alive()
            time.sleep(0.5)
        self.brokers._back(f"kill -9 of node {node}", node, killed, done, pipeline)
        self.events.append(f"kill -9 of node {node} at {done} done")

    def __call__(self, pipeline, progress):
        self.brokers.progress = progress
        wait_until(lambda: pipeline.check_alive() and
                   all(pipeline.completed(s, 0) for s in STAGES),
                   120, "every stage to work before the first kill")
        ends = time.monotonic() + SOAK_SECONDS
        while time.monotonic() < ends:
            pause = self.rng.uniform(20, 40)
            until = time.monotonic() + pause
            while time.monotonic() < until:  # the experiment's own rhythm
                pipeline.check_alive()
                time.sleep(0.5)
            kill = self._kill_node if self.rng.random() < 0.3 else self._kill_worker
            kill(pipeline, progress)
            print(f"soak: {self.events[-1]} ({len(self.events)} kills so far)")
        return self.events


def test_soak_kills_workers_and_brokers_for_ten_minutes(kafka_cluster, pipeline_name,
                                                         tmp_path, start_worker):
    plan = Plan(guarantee="exactly_once", jobs=SOAK_JOBS, kills=0, replication=3,
                timeout_s=900)
    seed = seed_for_run()
    warm_up(kafka_cluster, tmp_path, pipeline_name)
    soak = Soak(kafka_cluster, plan, pipeline_name, seed)
    result = run_chaos(plan, tmp_path, pipeline_name, kafka_cluster.bootstrap, start_worker,
                       seed=seed, disrupt=soak)
    print(f"measured: soak of {SOAK_SECONDS:.0f}s, {len(result.kills)} kills "
          f"({sum('node' in k for k in result.kills)} of nodes); every job accounted for "
          f"{result.elapsed_s:.1f}s after submit; longest stall of done "
          f"{result.longest_stall_s:.1f}s; {result.verified}")
    assert result.verified.code == 0, result.verified
