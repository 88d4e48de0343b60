"""A stateful stage under exactly_once, through a crash that takes its local state with
it (issue 10's first must-show): builtin `count` over JOBS jobs of KEYS keys on two
workers; one is killed -9 mid-run, its state directory deleted, and restarted under the
same --instance (fencing its zombie transaction). Its partitions' state comes back from
the changelog (read_committed: without the aborted writes). Every job comes out once,
and each key's jobs, in the order they were submitted, carry the counts 1, 2, 3, ...:
every emitted running count matches its input prefix, and the final counts are exact."""

import re
import shutil

from conftest import (apply_topics, assert_exactly_once, builtin_stage, counted,
                      done_at_least, keys_off_their_prefix, pipeline_spec, read_done, submit, wait_until,
                      write_spec)

JOBS = 50_000
KEYS = 100


def test_counts_stay_exact_through_a_kill_and_a_lost_state_directory(
        broker, pipeline_name, tmp_path, start_worker):
    # state_dir is relative to the spec's directory; each worker's store is under
    # <pipeline>/<stage>/<instance> there.
    stage = builtin_stage("counts", "count", state=True, retry={"mode": "in_place"},
                          state_dir="state")
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [stage],
                                              guarantee="exactly_once", partitions=4))
    apply_topics(spec)
    state = {name: tmp_path / "state" / pipeline_name / "counts" / name
             for name in ("w1", "w2")}

    def worker(name):
        return start_worker(spec, "counts", "--instance", name)

    survivor = worker("w1")
    victim = worker("w2")
    # The victim holds partitions (and their state) before it is killed.
    wait_until(lambda: "assigned" in victim.stderr(), 60, "w2 assigned partitions")
    payloads = [{"n": n, "k": f"k{n % KEYS}"} for n in range(JOBS)]
    half = JOBS // 2
    job_ids = submit(spec, payloads[:half], "--key-field", "k")

    at_kill = wait_until(lambda: done_at_least(spec, JOBS // 10), 120,
                         f"at least {JOBS // 10} jobs done")
    assert victim.running(), victim.stderr_tail()
    assert victim.crash() == -9
    assert (state["w2"] / "db").is_dir(), "w2 kept no local state where the spec says"
    shutil.rmtree(state["w2"])
    restarted = worker("w2")
    # The second half's counts go on from the first half's, restored from the
    # changelog wherever w2's partitions are now.
    job_ids += submit(spec, payloads[half:], "--key-field", "k")
    records = read_done(spec, JOBS, timeout=300)
    measured = assert_exactly_once(spec, job_ids, records, tmp_path)
    print(f"\nmeasured: kill -9 of w2 at {at_kill} done, its state directory deleted; "
          f"{measured}")
    # Each key's jobs in submission order must carry 1, 2, 3, ...
    wrong = keys_off_their_prefix(job_ids, payloads, records, "k", counted)
    assert not wrong, f"{len(wrong)} keys with running counts off their input prefix, e.g. " \
                      f"{next(iter(wrong.items()))}"
    # The killed worker's partitions had state, and whoever took them over restored
    # it from the changelog (the restarted w2, or w1).
    restores = [int(m) for w in (survivor, restarted)
                for m in re.findall(r"restored up to \S+@(\d+)",
                                    w.stderr_path.read_text(errors="replace"))]
    print(f"measured: restores after the kill, to changelog offsets {restores}")
    assert any(offset > 0 for offset in restores), restores
