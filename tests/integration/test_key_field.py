"""`sluice submit --key-field F` on a job without that field: exit 2 with one stderr line
that names the flag, the field and, for JSON lines, the line; the jobs before it are
submitted and their ids printed."""

from conftest import passthrough_pipeline, run_sluice


def test_key_field_missing_from_the_job_argument(broker, pipeline_name, tmp_path):
    spec = passthrough_pipeline(tmp_path, pipeline_name, broker)
    result = run_sluice("submit", "-f", spec, "--key-field", "user", '{"n": 1}')
    print(f"\nmeasured: exit {result.returncode}, stderr {result.stderr!r}")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "sluice: --key-field user: the job has no string or number field 'user'"]
    assert result.stdout == ""


def test_key_field_missing_from_a_json_line(broker, pipeline_name, tmp_path):
    spec = passthrough_pipeline(tmp_path, pipeline_name, broker)
    result = run_sluice("submit", "-f", spec, "--key-field", "user", "-",
                        input='{"user": "a"}\n{"n": 1}\n')
    print(f"\nmeasured: exit {result.returncode}, stderr {result.stderr!r}")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "sluice: stdin:2: --key-field user: the job has no string or number field 'user' "
        "(not submitted, nor any line after it)"]
    assert len(result.stdout.split()) == 1
