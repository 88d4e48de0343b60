"""An exec child that crashes on some tasks (os._exit on every 100th job's first
attempt): those tasks are retried in a restarted child, nothing is lost, nothing is
dead-lettered, and the other jobs keep flowing."""

import time

from conftest import (
    apply_topics, exec_stage, free_port, metric_total, pipeline_spec, read_done,
    read_settled_done, scrape_metrics, status_json, submit, tail_records, verify, wait_until,
    write_spec)

JOBS = 2_000
CRASH_EVERY = 100
CRASHING_JOBS = JOBS // CRASH_EVERY  # n = 0, 100, 200, ...
STAGE = "flaky"


def test_crashing_exec_child_is_restarted_and_loses_nothing(
        broker, pipeline_name, tmp_path, start_worker):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        exec_stage(STAGE, "--crash-every", CRASH_EVERY, "--concurrency", 4, concurrency=4),
    ], partitions=3))
    apply_topics(spec)
    metrics = f"127.0.0.1:{free_port()}"
    worker = start_worker(spec, STAGE, "--metrics-addr", metrics)
    wait_until(lambda: scrape_metrics(metrics) is not None, 30, f"/metrics at {metrics}")

    started = time.monotonic()
    job_ids = submit(spec, [{"n": i} for i in range(JOBS)])
    read_done(spec, JOBS, timeout=150)
    elapsed = time.monotonic() - started
    records = read_settled_done(spec)
    result = verify(job_ids, records)
    print(f"\nmeasured: {JOBS} jobs, {CRASHING_JOBS} crashing the child once each, all done "
          f"in {elapsed:.1f}s; {len(records)} done records: {result}")
    assert result.missing == 0 and result.unexpected == 0, result
    assert all(r["payload"]["stages"] == [STAGE] for r in records)

    counts = {o: metric_total(metrics, "sluice_tasks_total", stage=STAGE, outcome=o)
              for o in ("ok", "retried", "dead_lettered")}
    print(f"measured: sluice_tasks_total {counts}")
    assert counts["retried"] >= CRASHING_JOBS, "each crashing task is retried at least once"
    assert counts["dead_lettered"] == 0

    dead = tail_records(spec, "--dlq", STAGE, idle_timeout="3s")
    status = status_json(spec)["stages"][0]["queue"]
    print(f"measured: {len(dead)} dead letters; status queue {status}")
    assert dead == [], f"dead letters: {[(d['job_id'], d['errors']) for d in dead[:3]]}"
    assert status["dlq"]["depth"] == 0

    assert worker.running(), worker.stderr_tail()
    assert worker.terminate(timeout=40) == 0, worker.stderr_tail()
