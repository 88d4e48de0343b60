"""What a user sees when they get the command line or a spec slightly wrong: exactly one
line on stderr, saying what and where, with a "did you mean" where a name was misspelt,
and exit 2. No broker: every case is refused before anything connects (the spec names
an address where nothing listens)."""

from conftest import builtin_stage, pipeline_spec, run_sluice, write_spec

NOWHERE = "127.0.0.1:9"  # nothing listens there; no case may try to connect


def _refused(result):
    """The one stderr line of a command that must exit 2."""
    lines = result.stderr.splitlines()
    print(f"\nmeasured: exit {result.returncode}, stderr {result.stderr!r}")
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_misspelt_command_suggests_the_right_one():
    line = _refused(run_sluice("stauts", "-f", "x.yaml"))
    assert line == "sluice: unknown command 'stauts' (did you mean 'status'?)"


def test_misspelt_subcommand_of_topics_suggests_apply():
    line = _refused(run_sluice("topics", "aply", "-f", "x.yaml"))
    assert line == "sluice: unknown command 'topics aply' (did you mean 'apply'?)"


def _one_stage_spec(tmp_path, stage_lines):
    """A spec whose only stage is `stage_lines` (YAML, indented under `- `); the first of
    them is line 5 of the file."""
    text = f"pipeline: msgs\nkafka:\n  brokers: {NOWHERE}\nstages:\n  - " + \
        "\n    ".join(stage_lines) + "\n"
    return write_spec(tmp_path, text)


def test_unknown_builtin_is_refused_by_validate_as_by_run(tmp_path):
    spec = _one_stage_spec(tmp_path, ["name: count", "kind: builtin", "builtin: wordcount"])
    want = (f"sluice: {spec}:7: stages[0].builtin: unknown builtin 'wordcount' "
            f"(did you mean 'word-count'?)")
    assert _refused(run_sluice("validate", "-f", spec)) == want
    assert _refused(run_sluice("run", "-f", spec, "--stage", "count")) == want
    assert _refused(run_sluice("run", "-f", spec, "--stage", "all")) == want


def test_misspelt_stage_on_the_command_line_suggests_the_right_one(tmp_path):
    spec = write_spec(tmp_path, pipeline_spec("msgs", NOWHERE, [
        builtin_stage("fetch", "tag", next=["summarize"]),
        builtin_stage("summarize", "tag")]))
    want = f"sluice: {spec}: no stage named 'sumarize' (did you mean 'summarize'?)"
    for args in (("run", "--stage", "sumarize"), ("tail", "--stage", "sumarize"),
                 ("tail", "--dlq", "sumarize")):
        assert _refused(run_sluice(args[0], "-f", spec, *args[1:])) == want, args


def test_a_flag_without_its_value_is_one_line_naming_the_flag():
    line = _refused(run_sluice("submit", "-f", "x.yaml", "{}", "--key-field"))
    assert line == "sluice: --key-field needs a value (see --help)"


def test_a_log_level_not_understood_is_said_once(tmp_path, monkeypatch):
    spec = write_spec(tmp_path, pipeline_spec("msgs", NOWHERE, [builtin_stage("a", "tag")]))
    monkeypatch.setenv("SLUICE_LOG_LEVEL", "loud")
    result = run_sluice("validate", "-f", spec)
    print(f"\nmeasured: exit {result.returncode}, stderr {result.stderr!r}")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].endswith(
        "SLUICE_LOG_LEVEL=loud is not a level (trace, debug, info, warn, error, critical, "
        "off); using info"), result.stderr
