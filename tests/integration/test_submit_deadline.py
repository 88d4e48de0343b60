"""`sluice submit --deadline D` sets every submitted job's deadline (envelope
deadline_unix_ms, shown by `sluice tail` as RFC 3339 `deadline`): D is a duration from
now or an RFC 3339 time. A deadline not in the future, or one that cannot be read, is
exit 2 with one line, and nothing is submitted."""

import time
from datetime import datetime, timezone

from conftest import passthrough_pipeline, run_sluice, submit, tail_records


def _unix_ms(rfc3339):
    return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000)


def _intake(spec, count):
    return tail_records(spec, "--stage", "only", max_records=count, idle_timeout="10s")


def test_a_duration_deadline_is_set_on_every_job(broker, pipeline_name, tmp_path):
    spec = passthrough_pipeline(tmp_path, pipeline_name, broker)
    before = int(time.time() * 1000)
    ids = submit(spec, [{"n": 1}, {"n": 2}, {"n": 3}], "--deadline", "5m")
    after = int(time.time() * 1000)
    records = _intake(spec, 3)
    print(f"\nmeasured: deadlines {[r.get('deadline') for r in records]}")
    assert sorted(r["job_id"] for r in records) == sorted(ids)
    deadlines = {r["deadline"] for r in records}
    assert len(deadlines) == 1, deadlines  # one deadline for the whole submission
    deadline = _unix_ms(deadlines.pop())
    # RFC 3339 to the millisecond: within the run's window, five minutes on.
    assert before + 300_000 <= deadline <= after + 300_000


def test_an_rfc3339_deadline_is_kept_and_shown_in_utc(broker, pipeline_name, tmp_path):
    spec = passthrough_pipeline(tmp_path, pipeline_name, broker)
    [with_deadline] = submit(spec, [{"n": 1}], "--deadline", "2099-12-01T19:00:00+01:00")
    result = run_sluice("submit", "-f", spec, '{"n": 2}')
    assert result.returncode == 0, result.stderr
    [without] = result.stdout.split()
    records = {r["job_id"]: r for r in _intake(spec, 2)}
    assert records[with_deadline]["deadline"] == "2099-12-01T18:00:00Z"
    assert "deadline" not in records[without]


def test_a_deadline_in_the_past_or_unreadable_is_exit_2(broker, pipeline_name, tmp_path):
    spec = passthrough_pipeline(tmp_path, pipeline_name, broker)
    cases = {
        "2020-01-01T00:00:00Z": "sluice: --deadline 2020-01-01T00:00:00Z: not in the future (now is ",
        "0s": "sluice: --deadline 0s: not in the future (now is ",
        "tomorrow": "sluice: --deadline 'tomorrow': expected a duration from now (30s, 5m, 2h) "
                    "or an RFC 3339 time (2026-12-01T18:00:00Z)",
        "2026-12-01T18:00:00": "sluice: --deadline: bad time '2026-12-01T18:00:00': expected an "
                               "RFC 3339 time such as 2026-12-01T18:00:00Z or "
                               "2026-12-01T19:00:00+01:00",
    }
    for deadline, message in cases.items():
        result = run_sluice("submit", "-f", spec, "--deadline", deadline, '{"n": 1}')
        print(f"\nmeasured: --deadline {deadline}: exit {result.returncode}, "
              f"stderr {result.stderr!r}")
        assert result.returncode == 2, deadline
        [line] = result.stderr.splitlines()
        assert line.startswith(message), line
        assert result.stdout == ""
    assert tail_records(spec, "--stage", "only", idle_timeout="5s") == []
