"""A zombie under exactly_once (issue 9, "Must show"): two workers of one exec stage
(instances work-a and work-b) share its partitions while jobs flow; work-a is paused
with SIGSTOP past the session timeout, so that the group gives its partitions to
work-b, and jobs keep coming; then SIGCONT. While it was stopped, work-a's agent went
on finishing the tasks it had been given: their answers wait in its pipe, and on
SIGCONT work-a turns them into outputs of a transaction the group has moved past.
None of them may reach done: every job is in done exactly once (`sluice verify`
exit 0). work-a's log must say that it lost its partitions or was fenced, and then it
recovers (rejoins and works) or exits cleanly; the test prints which.
"""

import re
import signal
import time

from chaos import cli_verify, verify_settled
from conftest import (APPEND_AGENT, apply_topics, free_port, pipeline_spec, scrape_metrics,
                      status_json, submit, wait_until, write_spec)

STAGE = "work"
PARTITIONS = 6
# The broker's minimum: the pause need not be long to outlast it.
SESSION_TIMEOUT_MS = 6000
# Three batches: before the pause, during it, after it.
BATCH = 1500
# Per worker at most CONCURRENCY * 1000 / DELAY_MS = 400 tasks a second: the first
# batch is still flowing when work-a stops, with tasks in its agent.
CONCURRENCY, DELAY_MS = 8, 20
# What a worker logs when the group has moved on without it (worker_partitions.cc), or
# when its producer was fenced (the broker's error, in output_sink_transactions.cc's
# line about aborting or rebuilding).
LOST = re.compile(r"assignment of \d+ partitions lost|fenced", re.I)


def completed(address):
    samples = scrape_metrics(address) or []
    return sum(v for n, labels, v in samples
               if n == "sluice_tasks_total" and labels.get("stage") == STAGE)


def zombie_spec(tmp_path, pipeline_name, broker):
    spec = pipeline_spec(pipeline_name, broker, [{
        "name": STAGE, "kind": "exec", "concurrency": CONCURRENCY,
        "command": ["python3", APPEND_AGENT, STAGE, "--delay-ms", str(DELAY_MS),
                    "--concurrency", str(CONCURRENCY)]}],
        partitions=PARTITIONS, guarantee="exactly_once")
    spec["kafka"]["properties"] = {"session.timeout.ms": str(SESSION_TIMEOUT_MS),
                                   "heartbeat.interval.ms": "1000"}
    path = write_spec(tmp_path, spec)
    apply_topics(path)
    return path


def test_a_paused_worker_is_fenced(broker, pipeline_name, tmp_path, start_worker):
    spec = zombie_spec(tmp_path, pipeline_name, broker)
    metrics = {name: f"127.0.0.1:{free_port()}" for name in ("a", "b")}
    workers = {name: start_worker(spec, STAGE, "--instance", f"work-{name}",
                                  "--metrics-addr", metrics[name]) for name in ("a", "b")}
    zombie, survivor = workers["a"], workers["b"]
    wait_until(lambda: status_json(spec)["stages"][0]["workers"] == 2, 60,
               "both workers in the group")

    job_ids = submit(spec, [{"n": n} for n in range(BATCH)])
    wait_until(lambda: completed(metrics["a"]) > 0 and completed(metrics["b"]) > 0, 60,
               "both workers to complete tasks")
    # work-b logged "assigned 6 partitions" once already, alone in the group before
    # work-a joined: only what it logs from here on can show the handover.
    survivor_log_before_stop = len(survivor.stderr())
    zombie.proc.send_signal(signal.SIGSTOP)  # the worker alone: its agent goes on
    stopped = time.monotonic()
    before_stop = completed(metrics["b"])
    try:
        job_ids += submit(spec, [{"n": n} for n in range(BATCH, 2 * BATCH)])
        # The group gave work-a's partitions to work-b: work-b was assigned all of
        # them, once work-a's session timed out.
        wait_until(lambda: re.search(rf"assigned {PARTITIONS} partitions of",
                                     survivor.stderr()[survivor_log_before_stop:]), 60,
                   f"work-b to be assigned all {PARTITIONS} partitions")
        wait_until(lambda: completed(metrics["b"]) > before_stop, 60,
                   "work-b to complete tasks on its new assignment")
        paused_s = time.monotonic() - stopped
    finally:
        zombie.proc.send_signal(signal.SIGCONT)
    print(f"\nmeasured: work-a stopped {paused_s:.1f}s (session timeout "
          f"{SESSION_TIMEOUT_MS / 1000:.0f}s), until work-b owned all {PARTITIONS} partitions "
          f"and worked on them")
    job_ids += submit(spec, [{"n": n} for n in range(2 * BATCH, 3 * BATCH)])
    job_ids_file = tmp_path / "job-ids"
    job_ids_file.write_text("".join(j + "\n" for j in job_ids))

    verified = verify_settled(spec, job_ids_file, timeout=120)
    assert verified.code == 0, verified
    zombie_log = zombie.stderr()
    said = [line for line in zombie_log.splitlines() if LOST.search(line)]
    rejoined = zombie.running() and status_json(spec)["stages"][0]["workers"] == 2
    after = completed(metrics["a"]) if zombie.running() else None
    for worker in workers.values():
        worker.terminate()
    # Stopped, the workers committed what was complete and aborted the rest: what
    # verify says now is final.
    verified = cli_verify(spec, job_ids_file)
    print(f"measured: {verified}")
    print("measured: work-a's log on waking: " + " | ".join(said[:5]))
    print(f"measured: work-a {'kept running and rejoined the group' if rejoined else 'did not rejoin'}"
          f"; exit code at the test's SIGTERM {zombie.proc.returncode}; tasks completed in its "
          f"life {after}")
    assert verified.code == 0, verified
    assert said, f"work-a's log says nothing of losing its partitions: {zombie_log[-3000:]}"
    assert rejoined or zombie.proc.returncode == 0, zombie_log[-3000:]
