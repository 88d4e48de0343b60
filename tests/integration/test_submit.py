"""What `sluice submit` does with the jobs it is given: a line it cannot take is refused
by number and nothing after it is submitted (exit 2)."""

from conftest import (apply_topics, builtin_stage, pipeline_spec, run_sluice, tail_records,
                      write_spec)


def _pipeline(tmp_path, pipeline_name, broker):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("only", "passthrough")], partitions=1))
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

