"""An unreachable broker: `submit`, `run`, `topics apply` and `verify` exit 1 within a bounded
time with one error line that says Kafka cannot be reached, and where."""

import re
import time

import pytest

from conftest import builtin_stage, free_port, pipeline_spec, run_sluice, write_spec

BOUND_S = 30
COMMANDS = {
    "submit": ("submit", '{"n": 1}'),
    "run": ("run", "--stage", "first"),
    "topics apply": ("topics", "apply"),
    "verify": ("verify", "--jobs", "/dev/null"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_unreachable_broker_fails_fast_and_says_where(command, pipeline_name, tmp_path):
    # Nothing listens on a port that was free a moment ago: connections are refused.
    address = f"127.0.0.1:{free_port()}"
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, address, [
        builtin_stage("first", "tag", next=["second"]),
        builtin_stage("second", "tag")]))

    started = time.monotonic()
    result = run_sluice(*COMMANDS[command], "-f", spec, timeout=BOUND_S + 30)
    elapsed = time.monotonic() - started
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("sluice:")]
    print(f"\nmeasured: `{command}` against {address}: exit {result.returncode} after "
          f"{elapsed:.1f}s, {len(lines)} stderr lines, error: {errors}")
    assert result.returncode == 1, result.stderr
    assert elapsed < BOUND_S
    # Exactly one error line, the last; a worker may log before it (its log is stderr).
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    assert address in errors[0]
    assert re.search(r"(cannot|can't|could not|unable to) (reach|connect)", errors[0], re.I)
    assert "kafka" in errors[0].lower()
    if command != "run":
        assert len(lines) == 1, f"`{command}`: expected one stderr line, got {lines}"
    assert result.stdout == "", f"`{command}` printed {result.stdout!r}"
