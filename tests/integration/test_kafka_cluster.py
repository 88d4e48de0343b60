"""The local 3-node Kafka cluster (`ops/kafka/kafka.sh start --nodes 3`), which the
chaos tests run on: a spec's `replication: 3` creates its topics with 3 replicas, and
with the leader of the entry topic's partition killed -9 a pipeline (sluice submit and
a passthrough worker) still delivers every job, since min.insync.replicas=2 lets the
two nodes left take writes; restarted, the node rejoins (back in the partitions'
in-sync replicas). Starts a cluster of its own (fixture kafka_cluster)."""

import pathlib
import re
import time

from conftest import (apply_topics, builtin_stage, pipeline_spec, read_done, run_sluice,
                      submit, verify, wait_until, write_spec)

JOBS_BEFORE, JOBS_DURING = 300, 300
PARTITIONS = 3


# kafka_cluster before start_worker: the worker is stopped before its brokers.
def test_replicated_topics_survive_a_node_killed_and_restarted(
        kafka_cluster, pipeline_name, tmp_path, start_worker):
    stage = builtin_stage("only", "passthrough")
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, kafka_cluster.bootstrap, [stage],
                                              partitions=PARTITIONS, replication=3))
    created = apply_topics(spec).stdout
    assert "5 created, 0 already there" in created, created
    # The broker's own count, through the CLI: the same topics with replication 1
    # differ from what the cluster holds, 3.
    single = write_spec(tmp_path, pipeline_spec(pipeline_name, kafka_cluster.bootstrap, [stage],
                                                partitions=PARTITIONS, replication=1),
                        name="single.yaml")
    compared = run_sluice("topics", "apply", "-f", single)
    assert compared.returncode == 1, compared.stderr
    assert compared.stdout.count("replication: spec 1, broker 3") == 5, compared.stdout

    # Every job through while all three run: the group's offsets topic exists from here
    # on, with 3 replicas (created on first use, which needs all three).
    worker = start_worker(spec, "only")
    before = submit(spec, [{"n": n} for n in range(JOBS_BEFORE)])
    assert verify(before, read_done(spec, JOBS_BEFORE, timeout=60)).ok

    intake = f"{pipeline_name}.intake"
    victim = kafka_cluster.leader(intake, 0)
    killed = time.monotonic()
    kafka_cluster.kill_node(victim)
    during = submit(spec, [{"n": n} for n in range(JOBS_BEFORE, JOBS_BEFORE + JOBS_DURING)])
    records = read_done(spec, JOBS_BEFORE + JOBS_DURING, timeout=90)
    delivered = time.monotonic() - killed
    result = verify(before + during, records)
    print(f"\nmeasured: node {victim} (leader of {intake} [0]) killed -9; "
          f"{JOBS_DURING} more jobs submitted and done {delivered:.1f}s later: {result}")
    assert result.missing == 0, result
    assert result.unexpected == 0, result
    assert kafka_cluster.leader(intake, 0) != victim

    restarted = time.monotonic()
    kafka_cluster.start_node(victim)
    answered = time.monotonic() - restarted
    wait_until(lambda: all(victim in kafka_cluster.isr(intake, p) for p in range(PARTITIONS)),
               60, f"node {victim} back in the in-sync replicas of {intake}")
    print(f"measured: node {victim} answered {answered:.1f}s after start-node, in sync "
          f"{time.monotonic() - restarted:.1f}s after; RSS per node: {_rss_mib(kafka_cluster)}")
    assert worker.terminate() == 0


def _rss_mib(cluster):
    """{node: resident MiB} of the cluster's JVMs (DIR/nodeN/pid, see ops/kafka)."""
    rss = {}
    for node in (1, 2, 3):
        pid = (cluster.directory / f"node{node}" / "pid").read_text().strip()
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
        rss[node] = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) // 1024
    return rss
