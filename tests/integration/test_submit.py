"""What `sluice submit` does with the jobs it is given: a line it cannot take is refused
by number and nothing after it is submitted (exit 2); a job it takes keeps its bytes."""

import json

from conftest import (apply_topics, builtin_stage, pipeline_spec, run_sluice, tail_records,
                      write_spec)


def _pipeline(tmp_path, pipeline_name, broker, builtin="passthrough"):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("only", builtin)], partitions=1))
    apply_topics(spec)
    return spec


def test_submit_refuses_deeply_nested_json_by_line_number(broker, pipeline_name, tmp_path):
    spec = _pipeline(tmp_path, pipeline_name, broker)
    deep = "[" * 100_000 + "]" * 100_000
    lines = f'{{"n": 1}}\n{deep}\n{{"n": 3}}\n'
    result = run_sluice("submit", "-f", spec, "-", input=lines)
    print(f"\nmeasured: submit of a 100k-deep array: exit {result.returncode}: "
          f"{result.stderr.strip()[:200]}")
    assert result.returncode == 2, result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith("sluice: stdin:2: JSON nested deeper than 256 levels")
    assert "nor any line after it" in errors[0]
    [printed] = result.stdout.split()  # the id of line 1, which went in
    intake = tail_records(spec, "--stage", "only", idle_timeout="5s")
    assert [r["job_id"] for r in intake] == [printed]


def _tail_lines(spec, *selector, count):
    result = run_sluice("tail", "-f", spec, *selector, "--from-beginning", "--max", count,
                        "--idle-timeout", "30s")
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


# A job as a user might write it: key order of their own, a number no double holds.
EXACT_JOB = '{"zeta": 1, "id": 123456789012345678901234567890, "price": 1.10}'


def test_submit_keeps_the_jobs_bytes(broker, pipeline_name, tmp_path):
    spec = _pipeline(tmp_path, pipeline_name, broker)
    result = run_sluice("submit", "-f", spec, "--key-field", "id", EXACT_JOB)
    assert result.returncode == 0, result.stderr
    [line] = _tail_lines(spec, "--stage", "only", count=1)
    print(f"\nmeasured: the job on the intake: {line[-120:]}")
    assert '"payload":' + EXACT_JOB in line
    assert json.loads(line)["key"] == "123456789012345678901234567890"


def test_a_builtin_changes_only_its_own_field(broker, pipeline_name, tmp_path, start_worker):
    spec = _pipeline(tmp_path, pipeline_name, broker, builtin="tag")
    result = run_sluice("submit", "-f", spec, EXACT_JOB)
    assert result.returncode == 0, result.stderr
    start_worker(spec, "only")
    [line] = _tail_lines(spec, "--done", count=1)
    assert '"payload":' + EXACT_JOB[:-1] + ',"stages":["only"]}' in line, line

