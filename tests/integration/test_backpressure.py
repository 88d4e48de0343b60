"""Backpressure from lag (issue 11): a slow last stage pauses the stage before it, the
pause propagates back to intake, where `sluice submit` is refused as busy (exit 3), and
nothing is lost. `sluice status` shows the pause and its cause, not "stuck"; a stage
whose worker is SIGSTOPped shows stuck."""

import json
import os
import signal
import time

from conftest import (apply_topics, builtin_stage, exec_stage, free_port, pipeline_spec,
                      read_done, run_sluice, scrape_metrics, status_json, submit, verify,
                      wait_until, write_spec)

JOBS = 3000
DELAY_MS = 20  # stage 3's every task: ~50 tasks/s on one worker, concurrency 1
MARKS = {"s1": (300, 50), "s2": (300, 50), "s3": (200, 50)}
# What one poll of a worker may take in (engine/src/worker_intake.cc, kMaxBatch): the
# bound of a next stage's overshoot past its high watermark.
FETCH_BATCH = 500
# Every worker's peak RSS with the default memory bounds (bench/README.md: flood).
RSS_BOUND_KB = 150 * 1024


def marks(stage):
    high, low = MARKS[stage]
    return {"backpressure": {"high_watermark": high, "low_watermark": low}}


def three_stages(tmp_path, name, broker):
    return write_spec(tmp_path, pipeline_spec(name, broker, [
        builtin_stage("s1", "passthrough", next=["s2"], **marks("s1")),
        builtin_stage("s2", "passthrough", next=["s3"], **marks("s2")),
        exec_stage("s3", "--delay-ms", DELAY_MS, **marks("s3"))],
        commit_interval="200ms"))


def by_stage(status):
    return {s["stage"]: s for s in status["stages"]}


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def test_a_slow_stage_holds_back_the_pipeline_up_to_intake(broker, pipeline_name, tmp_path,
                                                          start_worker):
    spec = three_stages(tmp_path, pipeline_name, broker)
    apply_topics(spec)
    s2_metrics = f"127.0.0.1:{free_port()}"
    workers = [start_worker(spec, "s1"), start_worker(spec, "s2", "--metrics-addr", s2_metrics),
               start_worker(spec, "s3")]
    job_ids = submit(spec, [{"n": n} for n in range(JOBS)])

    samples = []

    def paused_and_full():
        stages = by_stage(status_json(spec))
        samples.append(stages)
        return (stages["s2"]["paused_by"] == "s3" and
                stages["s1"]["queue"]["input"]["depth"] > MARKS["s1"][0]) and stages

    stages = wait_until(paused_and_full, 60, "s2 paused by s3 and intake over its mark",
                        interval=0.5)
    assert stages["s2"]["state"] == "paused" and stages["s2"]["stuck"] is False, stages["s2"]
    assert stages["s3"]["state"] == "running", stages["s3"]

    # Held back, s2 says so on /metrics too, whenever it is scraped: it takes in only
    # the room s3 leaves, and the pause it spends most of each second in did not
    # cover the moments it took that room in (a scrape read 0 about half the time).
    gauges = []
    for _ in range(12):
        samples_now = scrape_metrics(s2_metrics) or []
        gauges += [v for name, _, v in samples_now if name == "sluice_backpressure_paused"]
        time.sleep(0.25)  # sampling spaced over 3 s, not waiting for a condition
    assert gauges == [1.0] * 12, gauges

    # Throughput, drain time and the bottleneck: s3 runs ~50 tasks/s on one worker.
    def measured():
        status = status_json(spec)
        s3 = by_stage(status)["s3"]
        return s3["throughput"] > 10 and status
    status = wait_until(measured, 30, "s3's throughput in its workers' reports")
    s3 = by_stage(status)["s3"]
    print(f"\nmeasured: s3 {s3['throughput']:.1f} tasks/s, drains in {s3['drain_seconds']} s; "
          f"bottleneck {status['bottleneck']}")
    assert s3["throughput"] < 1000 / DELAY_MS * 1.5
    assert status["bottleneck"]["stage"] == "s3", status["bottleneck"]
    assert s3["drain_seconds"] is not None and s3["workers_to_drain"] >= 1
    table = run_sluice("status", "-f", spec).stdout
    assert "paused by s3" in table and "bottleneck: " in table, table

    busy = run_sluice("submit", "-f", spec, "--no-wait", json.dumps({"late": 1}))
    assert busy.returncode == 3, busy.stderr
    assert busy.stdout == ""
    assert f"busy: stage s1 holds" in busy.stderr
    assert f"over its high watermark {MARKS['s1'][0]}" in busy.stderr

    started = time.monotonic()
    waited = run_sluice("submit", "-f", spec, "--wait", "1s", json.dumps({"late": 2}))
    assert waited.returncode == 3, waited.stderr
    assert "waiting for room: stage s1 holds" in waited.stderr
    assert time.monotonic() - started >= 1.0

    def drained():
        stages = by_stage(status_json(spec))
        samples.append(stages)
        return all(s["queue"]["input"]["depth"] == 0 for s in stages.values())

    wait_until(drained, 180, "every stage to drain", interval=0.5)
    records = read_done(spec, JOBS)
    result = verify(job_ids, records)
    assert result.ok, result

    peak = {s: max(x[s]["queue"]["input"]["depth"] for x in samples) for s in MARKS}
    rss = {w.stage: peak_rss_kb(w.pid) for w in workers}
    print(f"\nmeasured: peak input depth {peak} (marks {MARKS}); peak RSS kB {rss}; "
          f"{len(samples)} samples")
    assert peak["s3"] <= MARKS["s3"][0] + FETCH_BATCH, peak
    assert peak["s2"] <= MARKS["s2"][0] + FETCH_BATCH, peak
    assert all(kb < RSS_BOUND_KB for kb in rss.values()), rss

    # Room again: admitted at once.
    accepted = run_sluice("submit", "-f", spec, "--no-wait", json.dumps({"late": 3}))
    assert accepted.returncode == 0, accepted.stderr
    assert len(accepted.stdout.split()) == 1


def test_a_stopped_worker_shows_stuck_and_recovers(broker, pipeline_name, tmp_path,
                                                   start_worker):
    only = pipeline_spec(pipeline_name, broker, [
        exec_stage("only", "--delay-ms", 50)], partitions=1, commit_interval="200ms")
    # Stuck from 5 s without a report until the group evicts the stopped worker (then
    # "no workers", and its tasks run again): a session of 30 s, not 10, leaves the
    # test that whole window.
    only["kafka"]["properties"] = {"session.timeout.ms": "30000"}
    spec = write_spec(tmp_path, only)
    apply_topics(spec)
    worker = start_worker(spec, "only")
    wait_until(lambda: by_stage(status_json(spec))["only"]["workers"] == 1, 60,
               "the worker to join")
    job_ids = submit(spec, [{"n": n} for n in range(200)])
    wait_until(lambda: status_json(spec)["done"] > 0, 60, "the first outputs")

    os.killpg(worker.pid, signal.SIGSTOP)
    try:
        stuck = wait_until(
            lambda: (lambda s: s["stuck"] and s)(by_stage(status_json(spec))["only"]),
            40, "status to show the stopped stage stuck", interval=0.5)
        assert stuck["state"] == "stuck" and stuck["paused_by"] is None, stuck
        assert stuck["stuck_partitions"] == 1
        table = run_sluice("status", "-f", spec)
        assert "stuck (1 partition)" in table.stdout, table.stdout
    finally:
        os.killpg(worker.pid, signal.SIGCONT)

    wait_until(lambda: not by_stage(status_json(spec))["only"]["stuck"], 30,
               "the stage to be no longer stuck")
    records = read_done(spec, len(job_ids))
    assert verify(job_ids, records).ok
