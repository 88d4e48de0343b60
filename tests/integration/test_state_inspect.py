"""`sluice state get` and `sluice state dump` (issue 10): a stage's state read from its
changelog with no worker running. Builtin `count` (state: true, exactly_once) counts
300 jobs of 5 keys, each key a different number of times; once every job is done and
the worker has stopped, `state get` prints each key's count, an unknown key exits 1,
`state dump` lists exactly the 5 counts, a stage without state exits 2. A foreign
record on the changelog is reported, never shown, and a write in a transaction still
open is not read (read_committed)."""

import json
import random

from conftest import (apply_topics, builtin_stage, open_transaction, pipeline_spec,
                      raw_produce, read_done, run_sluice, submit, verify, write_spec)

# Jobs per key: distinct, so a count that landed on the wrong key shows.
JOBS_OF = {"k0": 20, "k1": 40, "k2": 60, "k3": 80, "k4": 100}


def state(spec, *args):
    return run_sluice("state", *args[:1], "-f", spec, *args[1:])


def test_state_get_and_dump_show_each_keys_count_after_the_worker_stopped(
        broker, pipeline_name, tmp_path, start_worker):
    counts = builtin_stage("counts", "count", next=["after"], state=True,
                           retry={"mode": "in_place"}, state_dir="state")
    spec = write_spec(tmp_path, pipeline_spec(
        pipeline_name, broker, [counts, builtin_stage("after", "passthrough")],
        guarantee="exactly_once"))
    apply_topics(spec)
    payloads = [{"k": key} for key, jobs in JOBS_OF.items() for _ in range(jobs)]
    random.Random(10).shuffle(payloads)
    worker = start_worker(spec, "all")
    job_ids = submit(spec, payloads, "--key-field", "k")
    result = verify(job_ids, read_done(spec, len(payloads), timeout=180))
    assert result.missing == 0 and result.unexpected == 0, result
    assert worker.terminate() == 0, worker.stderr_tail()

    changelog = f"{pipeline_name}.counts.changelog"
    raw_produce(broker, changelog, "foreign-key", b"junk")
    # Last: read_committed readers stop before it, and the broker aborts it later.
    open_transaction(broker, changelog, "k\x02k0", b"999", timeout_ms=60000)

    for key, jobs in JOBS_OF.items():
        got = state(spec, "get", "--stage", "counts", key)
        assert got.returncode == 0, got.stderr
        assert got.stdout == f"{jobs}\n", (key, got.stdout)

    shown = state(spec, "get", "--stage", "counts", "--json", "k3")
    assert shown.returncode == 0, shown.stderr
    line = json.loads(shown.stdout)
    assert {k: line[k] for k in ("key", "name", "value")} == {"key": "k3", "name": "",
                                                              "value": 80}, line
    assert line["partition"] in range(3) and line["offset"] >= 0, line

    unknown = state(spec, "get", "--stage", "counts", "nobody")
    assert unknown.returncode == 1, unknown
    assert unknown.stdout == ""
    assert unknown.stderr.strip() == "sluice: stage counts has no state for key nobody"
    named = state(spec, "get", "--stage", "counts", "--name", "other", "k0")
    assert named.returncode == 1 and "no state named \"other\" for key k0" in named.stderr

    dump = state(spec, "dump", "--stage", "counts")
    assert dump.returncode == 0, dump.stderr
    entries = [json.loads(text) for text in dump.stdout.splitlines()]
    assert {e["key"]: e["value"] for e in entries} == JOBS_OF, entries
    assert len(entries) == len(JOBS_OF)
    assert all(e["scope"] == "key" and e["name"] == "" for e in entries), entries
    places = [(e["partition"], e["key"]) for e in entries]
    assert places == sorted(places), places
    assert "skipped 1 records whose keys are not state keys" in dump.stderr, dump.stderr

    by_partition = []
    for partition in range(3):
        one = state(spec, "dump", "--stage", "counts", "--partition", partition)
        assert one.returncode == 0, one.stderr
        by_partition += [json.loads(text) for text in one.stdout.splitlines()]
    assert by_partition == entries
    beyond = state(spec, "dump", "--stage", "counts", "--partition", 3)
    assert beyond.returncode == 2 and "has 3 partitions" in beyond.stderr, beyond

    for command in (("get", "--stage", "after", "k0"), ("dump", "--stage", "after")):
        stateless = state(spec, *command)
        assert stateless.returncode == 2, stateless
        assert stateless.stderr.strip() == (
            f"sluice: stage after keeps no state: {spec} does not set `state: true` for it")
    print(f"\nmeasured: {len(job_ids)} jobs done; state dump: {len(entries)} entries")
