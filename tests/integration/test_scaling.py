"""Two workers of one stage (6 partitions) share its partitions: each processes some
jobs, per its own /metrics, together exactly the jobs submitted, and nothing is lost;
also when the second one starts while the first works through a backlog."""

import os
import re
import time

import pytest

from conftest import (
    apply_topics, done_at_least, exec_stage, free_port, metric_total, pipeline_spec, read_done,
    read_settled_done, scrape_metrics, status_json, submit, verify, wait_until, write_spec)

JOBS = 4_000
PARTITIONS = 6
STAGE = "work"
_ASSIGNED = re.compile(r"stage \S+: (assigned|revoked) (\d+) partitions")


def _owned_partitions(worker):
    """How many partitions the worker owns now, per the assigned/revoked lines it logs."""
    owned = 0
    for verb, count in _ASSIGNED.findall(worker.stderr()):
        owned += int(count) if verb == "assigned" else -int(count)
    return owned


def _ok_tasks(address):
    return metric_total(address, "sluice_tasks_total", stage=STAGE, outcome="ok")


def test_two_workers_share_one_stage(broker, pipeline_name, tmp_path, start_worker):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        exec_stage(STAGE, "--concurrency", 4, concurrency=4)], partitions=PARTITIONS))
    apply_topics(spec)

    addresses = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    workers = [start_worker(spec, STAGE, "--metrics-addr", a) for a in addresses]
    for address in addresses:
        wait_until(lambda: scrape_metrics(address) is not None, 30, f"/metrics at {address}")
    # Jobs go in once the group has settled with partitions on both workers; the
    # workers' own logs are the only outside view of who owns what.
    owned = wait_until(
        lambda: ([_owned_partitions(w) for w in workers]
                 if all(_owned_partitions(w) > 0 for w in workers)
                 and sum(_owned_partitions(w) for w in workers) == PARTITIONS else None),
        60, f"both workers owning partitions, {PARTITIONS} in all")
    status = status_json(spec)
    print(f"\nmeasured: partitions owned per worker {owned}, status workers "
          f"{status['stages'][0]['workers']}")
    assert status["stages"][0]["workers"] == 2

    started = time.monotonic()
    job_ids = submit(spec, [{"n": i} for i in range(JOBS)])
    records = read_done(spec, JOBS, timeout=120)
    elapsed = time.monotonic() - started
    result = verify(job_ids, records)
    print(f"measured: {JOBS} jobs done in {elapsed:.1f}s: {result}")
    assert result.ok, result

    # A counter may lag the output it counts by a moment: wait for both to add up.
    ok = wait_until(lambda: ([_ok_tasks(a) for a in addresses]
                             if sum(_ok_tasks(a) for a in addresses) >= JOBS else None),
                    15, f"ok tasks of both workers to add up to {JOBS}")
    print(f"measured: ok tasks per worker {[int(n) for n in ok]}, sum {int(sum(ok))}")
    assert all(n > 0 for n in ok), f"a worker processed nothing: {ok}"
    assert sum(ok) == JOBS

    for worker in workers:
        assert worker.terminate(timeout=40) == 0, worker.stderr_tail()


# Eager (the default) and cooperative rebalancing: the worker core serves both.
@pytest.mark.parametrize("assignor", ["roundrobin", "cooperative-sticky", "kip848"])
def test_a_worker_started_mid_run_takes_a_share(broker, pipeline_name, tmp_path,
                                                start_worker, assignor):
    # Scaling out the bottleneck while it works through a backlog: a slow stage (4
    # tasks per 50 ms, 80 jobs/s: 25 s of work), a second worker once a tenth is done.
    jobs = 2_000
    spec_dict = pipeline_spec(pipeline_name, broker, [
        exec_stage(STAGE, "--delay-ms", 50, "--concurrency", 4, concurrency=4)],
        partitions=PARTITIONS)
    if assignor == "kip848":
        if not os.environ.get("SLUICE_KAFKA_VERSION", "").startswith("4."):
            pytest.skip("group.protocol=consumer needs a Kafka 4 broker (label kafka4)")
        spec_dict["kafka"]["properties"] = {"group.protocol": "consumer"}
    else:
        spec_dict["kafka"]["properties"] = {"partition.assignment.strategy": assignor}
    spec = write_spec(tmp_path, spec_dict)
    apply_topics(spec)
    addresses = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    first = start_worker(spec, STAGE, "--metrics-addr", addresses[0])
    job_ids = submit(spec, [{"n": i} for i in range(jobs)])

    at_start = wait_until(lambda: done_at_least(spec, jobs // 10), 60,
                          f"{jobs // 10} jobs done by the first worker")
    started = time.monotonic()
    second = start_worker(spec, STAGE, "--metrics-addr", addresses[1])
    owned = wait_until(lambda: (lambda owned: owned if owned > 0 else None)(
        _owned_partitions(second)), 90, "partitions for the second worker")
    owned_after = time.monotonic() - started
    owned_at = status_json(spec)["done"]
    read_done(spec, jobs, timeout=120)
    all_done = time.monotonic() - started
    records = read_settled_done(spec)
    result = verify(job_ids, records)
    ok = [_ok_tasks(a) for a in addresses]
    print(f"\nmeasured ({assignor}): second worker started at {at_start} done, owned {owned} partitions "
          f"{owned_after:.1f}s later (at {owned_at} done); all done {all_done:.1f}s after it "
          f"started; ok tasks per worker {[int(n) for n in ok]}; {result}")
    assert result.missing == 0 and result.unexpected == 0, result
    assert ok[1] > 0, (f"the second worker processed nothing: it got partitions only "
                       f"{owned_after:.1f}s after it started, with {owned_at} of {jobs} done")
    for worker in (first, second):
        assert worker.terminate(timeout=40) == 0, worker.stderr_tail()
