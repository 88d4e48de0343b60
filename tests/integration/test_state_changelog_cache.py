"""The changelog cache of a stateful stage under at_least_once (engine/src/
changelog_cache.h): a key written by many tasks between two commits costs one changelog
record, not one per task; and no write is lost through a kill -9, because a task's
offset commits only once the changelog has its writes.

Builtin `count` (state: true) over JOBS jobs of KEYS keys, on the real broker."""

import json
import shutil

from conftest import (apply_topics, builtin_stage, exec_stage, pipeline_spec, read_done,
                      read_settled_done, run_sluice, status_json, submit, verify, wait_until,
                      write_spec)

JOBS = 4000
KILL_JOBS = 4000
KEYS = 10


def count_spec(tmp_path, pipeline_name, broker):
    stage = builtin_stage("counts", "count", state=True, retry={"mode": "in_place"},
                          state_dir="state")
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [stage], partitions=2))
    apply_topics(spec)
    return spec


def state_of(spec, key):
    """`sluice state get --json KEY`: the changelog's latest record of the key's count."""
    shown = run_sluice("state", "get", "-f", spec, "--stage", "counts", "--json", key)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_a_key_counted_many_times_between_commits_is_one_changelog_record(
        broker, pipeline_name, tmp_path, start_worker):
    spec = count_spec(tmp_path, pipeline_name, broker)
    worker = start_worker(spec, "counts")
    payloads = [{"n": n, "k": f"k{n % KEYS}"} for n in range(JOBS)]
    job_ids = submit(spec, payloads, "--key-field", "k")
    records = read_done(spec, JOBS)
    assert verify(job_ids, records).ok
    # A stop flushes the cache and commits what it covered.
    assert worker.terminate() == 0, worker.stderr_tail()
    wait_until(lambda: status_json(spec)["stages"][0]["queue"]["input"]["depth"] == 0, 30,
               "the input committed to its end")

    states = {f"k{k}": state_of(spec, f"k{k}") for k in range(KEYS)}
    assert {key: int(s["value"]) for key, s in states.items()} == \
        {f"k{k}": JOBS // KEYS for k in range(KEYS)}
    # Offsets on the changelog: one record per write would put a key's latest one
    # near JOBS / 2 (two partitions); each flush writes a key once.
    last_offset = max(s["offset"] for s in states.values())
    print(f"\nmeasured: {JOBS} counts of {KEYS} keys; the changelog's last offset "
          f"{last_offset} (one record per task: about {JOBS // 2})")
    assert last_offset < JOBS // 20, states


def test_no_count_is_lost_through_a_kill_and_a_lost_state_directory(
        broker, pipeline_name, tmp_path, start_worker):
    # Commits every 200 ms, at the pace of a slower next stage (backpressure), and the
    # kill after some: the restored state then has to agree with offsets that were
    # committed, not only with an empty start.
    stages = [builtin_stage("counts", "count", state=True, retry={"mode": "in_place"},
                            state_dir="state", next=["slow"]),
              exec_stage("slow", "--delay-ms", 2,
                         backpressure={"high_watermark": 100, "low_watermark": 20})]
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, stages, partitions=2,
                                              commit_interval="200ms"))
    apply_topics(spec)
    start_worker(spec, "slow")
    victim = start_worker(spec, "counts", "--instance", "w1")
    payloads = [{"n": n, "k": f"k{n % KEYS}"} for n in range(KILL_JOBS)]
    job_ids = submit(spec, payloads, "--key-field", "k")
    committed = wait_until(
        lambda: (lambda depth: depth < KILL_JOBS * 3 // 4 and KILL_JOBS - depth)(
            status_json(spec)["stages"][0]["queue"]["input"]["depth"]),
        120, f"a quarter of {KILL_JOBS} jobs committed", interval=0.05)
    assert victim.crash() == -9
    shutil.rmtree(tmp_path / "state" / pipeline_name / "counts" / "w1")
    # Restored from the changelog alone: a write whose offset was committed before
    # the changelog had it would be missing, and its key's count would come out low.
    start_worker(spec, "counts", "--instance", "w1")
    records = read_settled_done(spec)
    assert verify(job_ids, records).missing == 0
    final = {}
    for record in records:
        key = record["payload"]["k"]
        final[key] = max(final.get(key, 0), record["payload"]["count"])
    low = {key: count for key, count in final.items() if count < KILL_JOBS // KEYS}
    print(f"\nmeasured: kill -9 with {committed} of {KILL_JOBS} jobs committed; "
          f"{len(records)} outputs; final counts {sorted(final.values())} "
          f"({KILL_JOBS // KEYS} jobs a key)")
    assert not low, f"counts lower than their keys' jobs: {low}"
