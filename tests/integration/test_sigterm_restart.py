"""SIGTERM to a worker mid-run, then a restart: the worker exits 0 within its shutdown
deadline, and every job comes out of <pipeline>.done exactly once.

Two workers to stop: one fed gradually (slow -> victim: a few tasks in its hands, more
arriving while it is down), and one of a slow stage sitting on a backlog it has
already fetched (the common case for a slow stage: SIGTERM to redeploy it)."""

import time

from conftest import (
    apply_topics, done_at_least, exec_stage, input_depth, pipeline_spec, read_done,
    read_settled_done, status_json, submit, verify, wait_until, write_spec)

SHUTDOWN_DEADLINE_S = 30  # the worker's default shutdown deadline


def _stop(spec, worker, jobs, when_done):
    """SIGTERM once `when_done` jobs are done. Returns what went wrong with the stop
    (not 0, not within the deadline), to report along with the outcome."""
    at_signal = wait_until(lambda: done_at_least(spec, when_done), 60,
                           f"at least {when_done} jobs done")
    signalled = time.monotonic()
    code = worker.terminate(timeout=SHUTDOWN_DEADLINE_S + 60)
    stopped_after = time.monotonic() - signalled
    at_exit = status_json(spec)["done"]
    print(f"\nmeasured: SIGTERM to {worker.stage} at {at_signal} done: exit {code} after "
          f"{stopped_after:.1f}s, {at_exit} done then")
    assert at_signal < jobs, "every job was done before the SIGTERM: not mid-run"
    problems = []
    if code != 0:
        problems.append(f"exit {code} after SIGTERM")
    if stopped_after >= SHUTDOWN_DEADLINE_S:
        problems.append(f"stopped {stopped_after:.1f}s after SIGTERM, past its "
                        f"{SHUTDOWN_DEADLINE_S}s shutdown deadline")
    if problems:
        problems.append(f"its log ends: {worker.stderr_tail(10)}")
    return problems


def _check_exactly_once(spec, job_ids, expected_stages, problems):
    read_done(spec, len(job_ids), timeout=120)
    records = read_settled_done(spec)  # with whatever the restart redid
    result = verify(job_ids, records)
    print(f"measured: after the restart, {len(records)} done records: {result}")
    assert all(r["payload"]["stages"] == expected_stages for r in records)
    assert result.ok and not problems, "; ".join([str(result), *problems])


def test_sigterm_to_a_worker_fed_gradually(broker, pipeline_name, tmp_path, start_worker):
    jobs = 2_000
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        # ~4 tasks per 20 ms: about 10 s for all jobs.
        exec_stage("slow", "--delay-ms", 20, "--concurrency", 4, concurrency=4,
                   next=["victim"]),
        # Faster than its feed, but busy: tasks are in flight when it is stopped.
        exec_stage("victim", "--delay-ms", 5, "--concurrency", 4, concurrency=4),
    ], partitions=3))
    apply_topics(spec)
    start_worker(spec, "slow")
    victim = start_worker(spec, "victim")
    job_ids = submit(spec, [{"n": i} for i in range(jobs)])

    problems = _stop(spec, victim, jobs, when_done=jobs // 5)
    queued = wait_until(lambda: input_depth(spec, "victim"), 30,
                        "jobs queued for the stopped victim")
    print(f"measured: restarting with {queued} queued for it")
    restarted = start_worker(spec, "victim")
    _check_exactly_once(spec, job_ids, ["slow", "victim"], problems)
    assert restarted.terminate(timeout=SHUTDOWN_DEADLINE_S + 10) == 0, restarted.stderr_tail()


def test_sigterm_to_a_worker_with_a_backlog(broker, pipeline_name, tmp_path, start_worker):
    # 4 tasks per 100 ms, 40 jobs/s: stopped at 100 done, it has fetched (nearly) all
    # the rest, far more than the 1,200 jobs it could finish within its deadline.
    jobs = 2_000
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        exec_stage("slow", "--delay-ms", 100, "--concurrency", 4, concurrency=4),
    ], partitions=3))
    apply_topics(spec)
    worker = start_worker(spec, "slow")
    job_ids = submit(spec, [{"n": i} for i in range(jobs)])

    problems = _stop(spec, worker, jobs, when_done=100)
    restarted = start_worker(spec, "slow")
    _check_exactly_once(spec, job_ids, ["slow"], problems)
    assert restarted.terminate(timeout=SHUTDOWN_DEADLINE_S + 10) == 0, restarted.stderr_tail()
