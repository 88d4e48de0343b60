"""`sluice status` on a broker started moments ago, while the first workers join
(the README's tour): the broker is still creating and loading its group coordinator
(__consumer_offsets), and answers "Coordinator load in progress" or "Not
coordinator" for a while (seen in the tour: `status` exited 1 with either). status must wait that out, not exit 1 with it."""

import time

from conftest import (apply_topics, builtin_stage, exec_stage, free_port, pipeline_spec,
                      run_sluice, status_json, submit, write_spec)

STATUS_CALLS = 20


# own_broker before start_worker: the workers are stopped before their broker.
def test_status_while_the_first_workers_join_a_fresh_broker(tmp_path, own_broker, start_worker):
    # The tour's pipeline, on a broker of its own: its group names decide which
    # partitions of __consumer_offsets coordinate them.
    spec = write_spec(tmp_path, pipeline_spec("tour", own_broker.address, [
        exec_stage("enrich", next=["tag"]),
        builtin_stage("tag", "tag", next=["publish"]),
        exec_stage("publish")], partitions=6))
    apply_topics(spec)
    # As in the tour, one worker serves metrics: its queue-depth refresher is the
    # first client to ask for the groups' offsets, which creates the coordinator.
    workers = [start_worker(spec, "enrich"), start_worker(spec, "tag"),
               start_worker(spec, "publish", "--metrics-addr", free_port())]
    submit(spec, [{"n": n} for n in range(1000)])
    failures = []
    for _ in range(STATUS_CALLS):
        result = run_sluice("status", "-f", spec)
        if result.returncode != 0:
            failures.append(result.stderr.strip())
        time.sleep(0.25)  # a user typing the next command; not a condition
    print(f"\nmeasured: {len(failures)} of {STATUS_CALLS} status calls failed: "
          f"{failures[:3]}")
    assert failures == []
    assert [s["workers"] for s in status_json(spec)["stages"]] == [1, 1, 1]
    for worker in workers:
        assert worker.terminate() == 0
