"""Builtin `dedupe` on the real broker: jobs keyed by their "order" field (`submit
--key-field order`, so that repeats of an order land on the same input partition, where
the stage's partition-wide state remembers it). Orders A, B, C and A again, within the
3 s window: done holds A, B and C once each, and the second A's offset is committed with
no output. Once the window has passed since the first A went through, A passes again."""

import time

from conftest import (apply_topics, builtin_stage, pipeline_spec, read_done,
                      read_settled_done, submit, write_spec)

WINDOW_S = 3


def orders(records):
    return sorted(r["payload"]["order"] for r in records)


def test_a_repeat_within_the_window_is_dropped_and_passes_after_it(
        broker, pipeline_name, tmp_path, start_worker):
    stage = builtin_stage("once", "dedupe", state=True, retry={"mode": "in_place"},
                          state_dir="state",
                          dedupe={"window": f"{WINDOW_S}s", "field": "order"})
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [stage]))
    apply_topics(spec)
    worker = start_worker(spec, "once")

    first = submit(spec, [{"order": o, "n": n} for n, o in enumerate("ABCA")],
                   "--key-field", "order")
    read_done(spec, 3, timeout=120)
    # Every input offset committed (the second A's too, with no output): done is final.
    records = read_settled_done(spec)
    # The first A went through before the pipeline settled: its window ends by now + 3 s.
    window_over = time.monotonic() + WINDOW_S
    print(f"\nmeasured: done after A, B, C, A: {orders(records)}")
    assert worker.running(), worker.stderr_tail()
    assert orders(records) == ["A", "B", "C"], records
    assert sorted(r["job_id"] for r in records) == sorted(first[:3])

    # Waiting out the window is what is tested here: time is the condition.
    time.sleep(max(0.0, window_over - time.monotonic()) + 0.5)
    again = submit(spec, [{"order": "A", "n": 4}], "--key-field", "order")
    read_done(spec, 4, timeout=120)
    records = read_settled_done(spec)
    print(f"measured: done after A once more, past the window: {orders(records)}")
    assert orders(records) == ["A", "A", "B", "C"], records
    assert again[0] in {r["job_id"] for r in records}
    assert first[3] not in {r["job_id"] for r in records}, "the repeat within the window passed"
