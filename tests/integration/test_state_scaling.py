"""A stateful stage scaled 1 -> 2 -> 3 -> 1 workers during a run (issue 10): each
partition's state follows it to whichever worker is given it (restored from the
changelog there, or from the local checkpoint when it comes back to a worker that
closed it cleanly). Builtin `count` under exactly_once: every job comes out once, and
each key's jobs, in submission order, carry 1, 2, 3, ...: no task ran against stale
state (a count restored short would repeat a number, one restored from a stale
checkpoint would skip back)."""

import re

from conftest import (apply_topics, assert_exactly_once, builtin_stage, counted,
                      done_at_least, keys_off_their_prefix, pipeline_spec, read_done, submit,
                      wait_until, write_spec)

JOBS = 20_000
KEYS = 60
STEPS = 4  # the jobs go in four parts: one before each change of scale, one after


def test_state_follows_its_partitions_from_one_worker_to_three_and_back(
        broker, pipeline_name, tmp_path, start_worker):
    stage = builtin_stage("counts", "count", state=True, retry={"mode": "in_place"},
                          state_dir="state")
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [stage],
                                              guarantee="exactly_once", partitions=6))
    apply_topics(spec)
    payloads = [{"n": n, "k": f"k{n % KEYS}"} for n in range(JOBS)]
    part = JOBS // STEPS
    job_ids = []

    def submit_part(i):
        job_ids.extend(submit(spec, payloads[i * part:(i + 1) * part], "--key-field", "k"))
        wait_until(lambda: done_at_least(spec, i * part + part // 2), 180,
                   f"{i * part + part // 2} jobs done")

    def worker(name):
        return start_worker(spec, "counts", "--instance", name)

    w1 = worker("w1")
    submit_part(0)
    w2 = worker("w2")          # 1 -> 2
    submit_part(1)
    w3 = worker("w3")          # 2 -> 3
    submit_part(2)
    assert w2.terminate() == 0  # 3 -> 1: w2 and w3 leave cleanly, checkpointing
    assert w3.terminate() == 0
    submit_part(3)
    records = read_done(spec, JOBS, timeout=300)
    print(f"\nmeasured: {assert_exactly_once(spec, job_ids, records, tmp_path)}")
    assert w1.running(), w1.stderr_tail()
    wrong = keys_off_their_prefix(job_ids, payloads, records, "k", counted)
    assert not wrong, f"{len(wrong)} keys with running counts off their input prefix, e.g. " \
                      f"{next(iter(wrong.items()))}"
    # The partitions moved: w1 restored state it had given away, from a changelog
    # that others had written meanwhile.
    restores = re.findall(r"restored up to \S+@(\d+)", w1.stderr())
    print(f"measured: w1's restores, to changelog offsets {restores}")
    assert any(int(offset) > 0 for offset in restores), restores
