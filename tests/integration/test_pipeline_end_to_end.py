"""A three-stage pipeline (exec in Python -> builtin tag -> exec) on the real broker:
10,000 jobs come out of <pipeline>.done exactly once each, transformed by every stage,
in submission order per key; afterwards `status` shows empty queues."""

import collections
import time

from conftest import (
    apply_topics, builtin_stage, exec_stage, pipeline_spec, read_done, status_json, submit,
    verify, wait_until, write_spec)

JOBS = 10_000
USERS = 50
STAGES = ("enrich", "mark", "publish")


def _spec(tmp_path, pipeline_name, broker):
    first, middle, last = STAGES
    return write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        exec_stage(first, "--concurrency", 8, concurrency=8, next=[middle]),
        builtin_stage(middle, "tag", next=[last]),
        exec_stage(last, "--concurrency", 8, concurrency=8),
    ], partitions=3))


def _wrong_payloads(records, n_of_job):
    """Records whose payload is not the submitted job with every stage appended."""
    wrong = []
    for r in records:
        n = n_of_job.get(r["job_id"])
        expected = {"n": n, "user": f"u{n % USERS}", "stages": list(STAGES)}
        if n is None or r["payload"] != expected or r["key"] != expected["user"]:
            wrong.append((r["job_id"], r["key"], r["payload"]))
    return wrong


def _key_order_violations(records):
    """Per key: all records in one partition, and in offset order their n ascend (the
    order they were submitted in)."""
    by_key = collections.defaultdict(list)
    for r in records:
        by_key[r["key"]].append(r)
    problems = []
    for key, rs in sorted(by_key.items()):
        partitions = {r["partition"] for r in rs}
        if len(partitions) != 1:
            problems.append(f"key {key} in partitions {sorted(partitions)}")
            continue
        ns = [r["payload"]["n"] for r in sorted(rs, key=lambda r: r["offset"])]
        out_of_order = [(a, b) for a, b in zip(ns, ns[1:]) if b <= a]
        if out_of_order:
            problems.append(f"key {key}: n {out_of_order[0][1]} after {out_of_order[0][0]} "
                            f"({len(out_of_order)} inversions)")
    return by_key, problems


def _queues_empty(spec):
    status = status_json(spec)
    depths = {s["stage"]: {q: v["depth"] for q, v in s["queue"].items()}
              for s in status["stages"]}
    empty = all(d["input"] == 0 for d in depths.values()) and status["done"] == JOBS
    return (status, depths) if empty else None


def test_three_stages_deliver_every_job_once_in_key_order(
        broker, pipeline_name, tmp_path, start_worker):
    spec = _spec(tmp_path, pipeline_name, broker)
    apply_topics(spec)
    workers = [start_worker(spec, stage) for stage in STAGES]

    payloads = [{"n": i, "user": f"u{i % USERS}"} for i in range(JOBS)]
    started = time.monotonic()
    job_ids = submit(spec, payloads, "--key-field", "user")
    submitted = time.monotonic()
    records = read_done(spec, JOBS, timeout=150)
    finished = time.monotonic()

    result = verify(job_ids, records)
    print(f"\nmeasured: {JOBS} jobs, submit {submitted - started:.1f}s, all done "
          f"{finished - started:.1f}s after submit began ({JOBS / (finished - started):.0f} "
          f"jobs/s end to end); {len(records)} done records: {result}")
    assert result.ok, result

    n_of_job = {job_id: n for n, job_id in enumerate(job_ids)}
    wrong = _wrong_payloads(records, n_of_job)
    assert not wrong, f"{len(wrong)} records not transformed as expected, e.g. {wrong[:3]}"

    by_key, problems = _key_order_violations(records)
    print(f"measured: {len(by_key)} keys over "
          f"{len({r['partition'] for r in records})} partitions, order violations: "
          f"{len(problems)}")
    assert len(by_key) == USERS
    assert not problems, f"per-key order broken: {problems[:5]}"

    for worker in workers:
        assert worker.running(), f"{worker} died: {worker.stderr_tail()}"
    # Commits follow completion by up to a commit interval: wait for them.
    status, depths = wait_until(lambda: _queues_empty(spec), 30,
                                "every stage's input depth 0 and done == JOBS in status")
    print(f"measured: status done {status['done']}, depths {depths}")
    assert [s["stage"] for s in status["stages"]] == list(STAGES)

    for worker in workers:
        assert worker.terminate(timeout=40) == 0, worker.stderr_tail()
