"""kill -9 of a worker of one stage, five times at random moments, while 20,000 jobs
flow through FIRST (exec) -> MIDDLE (builtin) -> LAST (exec), each kill followed by a
restart (issue 9, "Must show"); see chaos.py for the pipeline and the killer.

at_least_once: 0 lost; duplicates counted, printed and bounded by what the killed
worker held uncommitted (bound below). exactly_once: 0 lost, 0 duplicated, no
transaction left open, per `sluice verify` (exit 0).

One ctest per case (CMakeLists.txt): chaos_kills_<guarantee>_<stage>.
"""

import pytest

from chaos import COMMIT_INTERVAL_S, FIRST, LAST, MIDDLE, Plan, jobs, run_chaos
from conftest import tail_records

# What one kill can make the pipeline do twice, under at_least_once.
#
# A restarted worker resumes at the committed position of each partition (skipping
# the offsets the commit's metadata names as done above it), so it redoes the tasks
# the killed one completed after its last commit the broker confirmed; what was in
# flight but not completed had produced nothing. Each redone task adds one record to
# done (every stage answers one output per task): a duplicate. The worker commits,
# every COMMIT_INTERVAL_S, what the broker acknowledged; the commit in flight at the
# kill may be lost, so the window of completed, uncommitted work is at most two
# intervals plus the round trips of the acknowledgement and of the commit:
WINDOW_S = 2 * COMMIT_INTERVAL_S + 1.0
# In that window an exec worker completes at most C tasks per D ms (each task sleeps D
# ms on one of C agent threads): C * (WINDOW_S / D + 1), Plan.max_rate(). The builtin
# has no pace of its own (it completes what FIRST sent it, a backlog after a restart
# at thousands a second): for it, and for any stage, the redone tasks lie between its
# committed offsets and the end of its input (and retry) topic, measured right after
# the kill (Kill.uncommitted).


def uncommitted_bound(plan, kill):
    """The most duplicates `kill` can cause (see above)."""
    rate = plan.max_rate(kill.stage)
    if rate is None:
        return kill.uncommitted
    return min(int(plan.concurrency + rate * WINDOW_S), kill.uncommitted)


def run_and_check(plan, *fixtures):
    """Runs the plan; checks that every kill was a kill -9 mid-run and, under
    exactly_once, `sluice verify` exit 0 (0 lost, 0 duplicated, no transaction left
    open); under at_least_once 0 lost, nothing unexpected, duplicates within the
    bound. Returns the ChaosResult (its accounting: at_least_once only)."""
    result = run_chaos(plan, *fixtures)
    assert len(result.kills) == plan.kills
    assert all(k.exit_code == -9 for k in result.kills), result.kills
    if plan.guarantee == "exactly_once":
        print(f"measured: {result.verified}")
        assert result.verified.code == 0, result.verified
        return result

    accounting = result.accounting
    bounds = [uncommitted_bound(plan, k) for k in result.kills]
    print(f"measured: kill -9 of {plan.victim} x{plan.kills} (failures {plan.failures}): "
          f"DUPLICATES {accounting.duplicates} (bound {sum(bounds)}: per kill {bounds}; "
          f"held uncommitted {[k.uncommitted for k in result.kills]}); "
          f"{result.elapsed_s:.1f}s")
    assert accounting.lost == 0, accounting
    assert accounting.unexpected == 0, accounting
    assert accounting.duplicates <= sum(bounds), accounting
    return result


@pytest.mark.parametrize("victim", [FIRST, MIDDLE, LAST])
@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_kill9_of_a_stages_worker_five_times(guarantee, victim, broker, pipeline_name,
                                             tmp_path, start_worker):
    run_and_check(Plan(guarantee=guarantee, victim=victim, kills=5, jobs=20_000),
                  tmp_path, pipeline_name, broker, start_worker)


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_kill9_with_poison_and_transient_failures(guarantee, broker, pipeline_name,
                                                  tmp_path, start_worker):
    """1% of jobs poison, 5% failing twice at LAST, whose worker is killed five times:
    ok + dead-lettered = submitted, each poison job's letter after max_attempts."""
    plan = Plan(guarantee=guarantee, victim=LAST, failures="mix", kills=5, jobs=20_000)
    result = run_and_check(plan, tmp_path, pipeline_name, broker, start_worker)
    accounting = result.accounting
    if accounting is None:
        # exactly_once: `sluice verify` counted done + dead-lettered = submitted, each
        # job once; the letters are exactly the poison jobs, each after max_attempts.
        job_ids = result.job_ids_file.read_text().split()
        poison = {j for j, p in zip(job_ids, jobs(plan)) if p["fate"] == "always"}
        assert result.verified.report["dead_lettered"] == len(poison), result.verified
        letters = tail_records(result.spec, "--dlq", LAST, max_records=len(poison))
        assert len(letters) == len(poison)
        assert {r["job_id"] for r in letters} == poison
        wrong = [r for r in letters if r.get("attempt") != plan.max_attempts]
        assert not wrong, wrong[:3]
        return
    assert accounting.dead_jobs == plan.jobs // 100, accounting  # every poison job, only
    assert accounting.done_jobs + accounting.dead_jobs == plan.jobs, accounting
    assert accounting.wrong_attempts == 0, accounting
