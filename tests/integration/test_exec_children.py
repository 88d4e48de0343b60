"""Exec children that misbehave, seen through the CLI (issue 7, items 1, 2 and 5): a
poison task is the only one charged; a command that cannot start stops `run` with one
line and charges no job; children die with their worker; SIGHUP stops a worker like
SIGTERM."""

import os
import re
import signal

from conftest import (
    apply_topics, pipeline_spec, read_done, run_sluice, status_json, submit, tail_records,
    wait_until, write_spec)

# Exits on every attempt of a job whose payload says "poison"; answers the rest. Tasks
# are taken one line at a time, so a child dies holding the tasks written after it.
POISON_AGENT = r'''
import json, os, sys
for line in sys.stdin:
    t = json.loads(line)
    if t["payload"].get("poison"):
        print("poisoned by", t["id"], file=sys.stderr, flush=True)
        os._exit(3)
    print(json.dumps({"id": t["id"], "outputs": [{"payload": t["payload"]}]}), flush=True)
'''


def exec_spec(tmp_path, pipeline_name, broker, command, **defaults):
    stage = {"name": "agent", "kind": "exec", "command": command}
    return write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [stage], **defaults))


def test_only_poison_tasks_are_dead_lettered_not_their_neighbours(
        broker, pipeline_name, tmp_path, start_worker):
    (tmp_path / "poison_agent.py").write_text(POISON_AGENT)
    # A relative path: it resolves against the spec's directory (tmp_path), not the
    # worker's cwd (the repository).
    spec = exec_spec(tmp_path, pipeline_name, broker, ["python3", "poison_agent.py"],
                     concurrency=4, partitions=1,
                     retry={"max_attempts": 3, "backoff": "100ms", "max_backoff": "200ms"})
    apply_topics(spec)
    worker = start_worker(spec, "agent")
    jobs = [{"n": i, "poison": i in (2, 5, 9)} for i in range(12)]
    ids = submit(spec, jobs, "--key-field", "n")
    poison_ids = {ids[i] for i in (2, 5, 9)}

    done = read_done(spec, 9, timeout=90)
    assert {r["job_id"] for r in done} == set(ids) - poison_ids
    def three_dead_letters():
        letters = tail_records(spec, "--dlq", "agent", idle_timeout="2s")
        return letters if len(letters) >= 3 else None
    dead = wait_until(three_dead_letters, 90, "the 3 poison jobs to be dead-lettered")
    print(f"\nmeasured: {len(done)} done, {len(dead)} dead letters")
    assert {d["job_id"] for d in dead} == poison_ids
    for letter in dead:
        assert len(letter["errors"]) == 3, letter["errors"]
        assert all(e["kind"] == "crash" for e in letter["errors"])
        assert "poisoned by" in letter["errors"][-1]["message"]
    assert worker.terminate() == 0, worker.stderr_tail()


def test_a_command_that_cannot_start_stops_run_with_one_line_and_charges_no_job(
        broker, pipeline_name, tmp_path, start_worker):
    typo = exec_spec(tmp_path, pipeline_name, broker, ["pyhton3", "agent.py"])
    checked = run_sluice("validate", "-f", typo)
    assert checked.returncode == 2, checked
    assert re.search(r"pipeline\.yaml:\d+: stages\[0\]\.command: program 'pyhton3' is not on PATH",
                     checked.stderr), checked.stderr
    assert len(checked.stderr.strip().splitlines()) == 1, checked.stderr

    spec = exec_spec(tmp_path, pipeline_name, broker, ["python3", "-c", "import nosuchmodule"])
    apply_topics(spec)
    submit(spec, [{"n": i} for i in range(20)])
    worker = start_worker(spec, "agent")
    wait_until(lambda: not worker.running(), 60, "run to give up on the command")
    assert worker.proc.returncode == 1, worker.stderr_tail()
    last = worker.stderr().strip().splitlines()[-1]
    assert re.search(r"stage agent: \[python3 -c import nosuchmodule\] failed 3 times in a row "
                     r"at start-up; the last: child pid \d+ exited with status 1", last), last
    assert "No module named 'nosuchmodule'" in last, last
    queue = status_json(spec)["stages"][0]["queue"]
    print(f"\nmeasured: run exited {worker.proc.returncode}; queue {queue}")
    assert queue["input"]["depth"] == 20, "every job is still waiting on the input"
    assert queue["dlq"]["depth"] == 0, "no job was charged"


def child_pids(worker):
    return [int(p) for p in re.findall(r"started child pid (\d+)", worker.stderr())]


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_children_die_with_a_worker_killed_with_9(broker, pipeline_name, tmp_path,
                                                   start_worker):
    spec = exec_spec(tmp_path, pipeline_name, broker,
                     ["python3", "-c", "import sys\nfor line in sys.stdin: pass"])
    apply_topics(spec)
    worker = start_worker(spec, "agent")
    pids = wait_until(lambda: child_pids(worker), 30, "the worker to start its child")
    assert alive(pids[0])
    worker.crash()
    wait_until(lambda: not alive(pids[0]), 10, f"child {pids[0]} to die with its worker")


def test_sighup_stops_a_worker_gracefully(broker, pipeline_name, tmp_path, start_worker):
    spec = exec_spec(tmp_path, pipeline_name, broker,
                     ["python3", "-c", "import sys\nfor line in sys.stdin: pass"])
    apply_topics(spec)
    worker = start_worker(spec, "agent")
    pids = wait_until(lambda: child_pids(worker), 30, "the worker to start its child")
    os.kill(worker.pid, signal.SIGHUP)
    wait_until(lambda: not worker.running(), 30, "the worker to stop on SIGHUP")
    assert worker.proc.returncode == 0, worker.stderr_tail()
    assert not alive(pids[0])
