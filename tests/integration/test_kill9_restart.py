"""kill -9 of a worker mid-run, then a restart: nothing is lost. At-least-once allows
duplicates (work done after the last commit is done again): the test counts them and
prints the count.

Same shape as test_sigterm_restart: slow -> victim, the victim killed while jobs are
in its hands and more keep arriving. Its exec child, orphaned, must not linger."""

import time

from conftest import (
    apply_topics, done_at_least, exec_stage, input_depth, pipeline_spec, read_done,
    read_settled_done, status_json, submit, verify, wait_until, write_spec)

JOBS = 2_000
SLOW, VICTIM = "slow", "victim"


def test_kill9_midrun_then_restart_loses_nothing(broker, pipeline_name, tmp_path,
                                                 start_worker):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        exec_stage(SLOW, "--delay-ms", 20, "--concurrency", 4, concurrency=4,
                   next=[VICTIM]),
        exec_stage(VICTIM, "--delay-ms", 5, "--concurrency", 4, concurrency=4),
    ], partitions=3))
    apply_topics(spec)
    start_worker(spec, SLOW)
    victim = start_worker(spec, VICTIM)
    job_ids = submit(spec, [{"n": i} for i in range(JOBS)])

    at_kill = wait_until(lambda: done_at_least(spec, JOBS // 5), 60,
                         f"at least {JOBS // 5} jobs done")
    assert victim.running(), victim.stderr_tail()
    code = victim.crash()
    print(f"\nmeasured: kill -9 at {at_kill} done (exit {code})")
    assert code == -9
    # The orphaned exec child sees its stdin close and exits.
    orphans_gone = time.monotonic()
    wait_until(lambda: not victim.group_processes(), 30,
               "the killed worker's exec child to exit")
    print(f"measured: orphaned exec child gone after {time.monotonic() - orphans_gone:.1f}s")

    queued = wait_until(lambda: input_depth(spec, VICTIM), 30,
                        "jobs queued for the killed victim")
    assert status_json(spec)["done"] < JOBS, "every job was done before the kill: not mid-run"
    restarted = time.monotonic()
    start_worker(spec, VICTIM)
    read_done(spec, JOBS, timeout=120)
    all_done = time.monotonic() - restarted
    records = read_settled_done(spec)  # with whatever the restart redid
    result = verify(job_ids, records)
    print(f"measured: restarted with {queued} queued, every job done {all_done:.1f}s later; "
          f"{len(records)} done records: {result}")
    print(f"measured: DUPLICATES after kill -9: {result.duplicates}")
    assert result.missing == 0, result
    assert result.unexpected == 0, result
    assert all(r["payload"]["stages"] == [SLOW, VICTIM] for r in records)
