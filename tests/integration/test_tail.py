"""How `sluice tail` reads its command line."""

from conftest import builtin_stage, pipeline_spec, run_sluice, write_spec


def test_a_flag_after_dlq_is_not_read_as_the_stage(tmp_path):
    spec = write_spec(tmp_path, pipeline_spec("p", "127.0.0.1:1", [
        builtin_stage("only", "passthrough")]))
    result = run_sluice("tail", "-f", spec, "--dlq", "--from-beginning")
    print(f"\nmeasured: tail --dlq --from-beginning: exit {result.returncode}: "
          f"{result.stderr.strip()}")
    assert result.returncode == 2, result.stderr
    assert "--dlq: a stage name is needed, not the option --from-beginning" in result.stderr
