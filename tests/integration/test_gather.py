"""Fan-out and gather (issue 10), exactly_once on the real broker: an exec stage splits
each job into its items (examples/agents/split_agent.py: one output per item, each a
part of the job's group), builtin `tag` marks every part, and builtin `gather` joins
them again. Every job comes out once, with all its parts in order; a job one of whose
parts is lost on the way (tag dead-letters an item that is not an object) is
dead-lettered by gather after its timeout, naming the missing part, whole: the parts
that did arrive are in the letter."""

import collections

from conftest import (apply_topics, builtin_stage, pipeline_spec, read_done, repo_path,
                      run_sluice, submit, tail_records, wait_until, write_spec)

JOBS = 300
SPLIT_AGENT = str(repo_path() / "examples/agents/split_agent.py")
LOST_JOB = 7  # its item 1 is no object: tag dead-letters it


def items_of(n):
    items = [{"job": n, "item": i} for i in range(2 + n % 4)]
    if n == LOST_JOB:
        items[1] = "not an object"
    return items


def test_every_job_is_gathered_once_and_a_job_with_a_lost_part_is_dead_lettered(
        broker, pipeline_name, tmp_path, start_worker):
    split = {"name": "split", "kind": "exec", "next": ["mark"], "concurrency": 4,
             "command": ["python3", SPLIT_AGENT, "--concurrency", "4"]}
    mark = builtin_stage("mark", "tag", next=["join"], concurrency=8)
    join = builtin_stage("join", "gather", state=True, retry={"mode": "in_place"},
                         state_dir="state", gather={"timeout": "3s"})
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [split, mark, join],
                                              guarantee="exactly_once", partitions=3))
    apply_topics(spec)
    workers = [start_worker(spec, stage) for stage in ("split", "mark", "join")]
    job_ids = submit(spec, [{"n": n, "items": items_of(n)} for n in range(JOBS)])
    lost_job = job_ids[LOST_JOB]

    records = read_done(spec, JOBS - 1, timeout=180)
    by_job = collections.defaultdict(list)
    for record in records:
        by_job[record["job_id"]].append(record["payload"])
    assert lost_job not in by_job, by_job[lost_job]
    assert len(by_job) == JOBS - 1, f"{JOBS - 1 - len(by_job)} jobs missing from done"
    copies = {job: len(payloads) for job, payloads in by_job.items() if len(payloads) > 1}
    assert not copies, f"jobs gathered more than once: {list(copies.items())[:5]}"
    for n, job_id in enumerate(job_ids):
        if n == LOST_JOB:
            continue
        expected = [{**item, "stages": ["mark"]} for item in items_of(n)]
        assert by_job[job_id] == [{"parts": expected}], (n, by_job[job_id])

    # The lost part: dead-lettered by tag at once, and its group by gather after 3 s.
    letters = wait_until(lambda: tail_records(spec, "--dlq", "join", max_records=1,
                                              idle_timeout="2s") or None,
                         60, "gather's dead letter")
    assert len(letters) == 1, letters
    letter = letters[0]
    print(f"\nmeasured: {len(by_job)} jobs gathered once each; gather's dead letter: "
          f"{letter['errors'][-1]}")
    assert letter["job_id"] == lost_job
    error = letter["errors"][-1]
    assert error["kind"] == "gather_timeout", error
    assert error["message"].endswith(f"of group {letter['payload']['group']} arrived within "
                                     f"3000 ms; missing part 1"), error
    parts = len(items_of(LOST_JOB))
    assert letter["payload"]["missing"] == [1]
    assert letter["payload"]["count"] == parts
    assert letter["payload"]["parts"] == {
        str(i): {**item, "stages": ["mark"]}
        for i, item in enumerate(items_of(LOST_JOB)) if i != 1}
    marked = tail_records(spec, "--dlq", "mark", max_records=1)
    assert [r["job_id"] for r in marked] == [lost_job]
    for worker in workers:
        assert worker.running(), worker.stderr_tail()


def test_a_timeout_set_before_a_crash_fires_on_the_worker_that_takes_the_state_over(
        broker, pipeline_name, tmp_path, start_worker):
    split = {"name": "split", "kind": "exec", "next": ["mark"],
             "command": ["python3", SPLIT_AGENT]}
    mark = builtin_stage("mark", "tag", next=["join"])
    join = builtin_stage("join", "gather", state=True, retry={"mode": "in_place"},
                         state_dir="state", gather={"timeout": "5s"})
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [split, mark, join],
                                              guarantee="exactly_once", partitions=1))
    apply_topics(spec)
    start_worker(spec, "split")
    start_worker(spec, "mark")
    first = start_worker(spec, "join", "--instance", "j1")
    [job_id] = submit(spec, [{"items": [{"i": 0}, "lost", {"i": 2}]}])

    def kept_parts():
        dump = run_sluice("state", "dump", "-f", spec, "--stage", "join")
        return [line for line in dump.stdout.splitlines() if '"name":"g/' in line] or None

    wait_until(lambda: kept_parts() and len(kept_parts()) == 2, 30, "gather keeping 2 parts")
    assert first.kill() == -9  # its tick for the timeout dies with it
    start_worker(spec, "join", "--instance", "j2")  # another machine: restores from the changelog
    letters = wait_until(lambda: tail_records(spec, "--dlq", "join", max_records=1,
                                              idle_timeout="2s") or None,
                         60, "gather's dead letter from the second worker")
    assert [letter["job_id"] for letter in letters] == [job_id]
    assert letters[0]["payload"]["missing"] == [1], letters[0]["payload"]
