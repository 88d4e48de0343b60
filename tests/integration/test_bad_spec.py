"""A broken spec is refused before anything touches Kafka: `validate`, `topics apply`,
`run` and `submit` exit 2 with one stderr line naming the file, the line and the field,
and the broker (asked with Kafka's own admin tool) has no topic of the pipeline."""

import re

import pytest

from conftest import apply_topics, kafka_topics, run_sluice, write_spec

# A valid three-stage spec; each case below breaks one thing in it.
GOOD = """\
pipeline: {name}
kafka:
  brokers: {broker}
defaults:
  partitions: 2
  timeout: 10s
  retry: {{max_attempts: 3, backoff: 100ms}}
stages:
  - name: fetch
    kind: builtin
    builtin: tag
    next: [summarize]
  - name: summarize
    kind: builtin
    builtin: tag
    concurrency: 2
    next: [publish]
  - name: publish
    kind: builtin
    builtin: passthrough
"""

# case: (text in GOOD, its replacement, the fields the error may name)
CASES = {
    "unknown_field": ("    concurrency: 2", "    concurency: 2", {"stages[1].concurency"}),
    "next_names_no_stage": ("    next: [summarize]", "    next: [sumarize]",
                            {"stages[0].next"}),
    "cycle": ("    builtin: passthrough", "    builtin: passthrough\n    next: [summarize]",
              {"stages[1].next", "stages[2].next"}),
    "bad_duration": ("  timeout: 10s", "  timeout: 10 seconds", {"defaults.timeout"}),
    "bad_stage_duration": ("    concurrency: 2", "    concurrency: 2\n    timeout: 1.5s",
                           {"stages[1].timeout"}),
    "bad_stage_name": ("  - name: summarize\n", "  - name: Sum_marize\n",
                       {"stages[1].name"}),
    "bad_pipeline_name": ("pipeline: {name}", "pipeline: {name}_x", {"pipeline"}),
}

COMMANDS = {
    "validate": ("validate",),
    "topics apply": ("topics", "apply"),
    "run": ("run", "--stage", "all"),
    "submit": ("submit", '{"n": 1}'),
}

_ERROR = re.compile(r"sluice: (?P<file>.+?):(?P<line>\d+): (?P<field>[^:\s]+): \S.*")


def _field_on_line(text, line, field):
    """Whether line `line` (1-based) of `text` holds the last part of `field`, e.g.
    `next:` for stages[0].next; the pipeline name for `pipeline`."""
    key = re.sub(r"\[\d+\]$", "", field.rsplit(".", 1)[-1])
    lines = text.splitlines()
    return 1 <= line <= len(lines) and re.match(rf"\s*(- )?{re.escape(key)}:",
                                                lines[line - 1]) is not None


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_spec_is_refused_before_touching_kafka(case, broker, pipeline_name,
                                                      tmp_path):
    old, new, fields = CASES[case]
    good = GOOD.format(name=pipeline_name, broker=broker)
    old, new = (s.replace("{name}", pipeline_name) for s in (old, new))
    assert good.count(old) == 1, f"case {case}: {old!r} must occur once in the spec"
    text = good.replace(old, new)
    spec = write_spec(tmp_path, text, name=f"{case}.yaml")

    print()
    for command, args in COMMANDS.items():
        result = run_sluice(*args, "-f", spec, timeout=30)
        lines = result.stderr.splitlines()
        print(f"measured: {case}: `{command}` exit {result.returncode}: "
              f"{result.stderr.strip()}")
        assert result.returncode == 2, f"`{command}`: {result.stderr}"
        assert len(lines) == 1, f"`{command}`: expected one stderr line, got {lines}"
        match = _ERROR.fullmatch(lines[0])
        assert match, f"`{command}`: not 'sluice: FILE:LINE: FIELD: what': {lines[0]!r}"
        assert match["file"] == str(spec)
        assert match["field"] in fields, f"`{command}` names {match['field']}, not {fields}"
        assert _field_on_line(text, int(match["line"]), match["field"]), (
            f"`{command}`: line {match['line']} does not hold {match['field']}: "
            f"{text.splitlines()[int(match['line']) - 1]!r}")
        assert result.stdout == "", f"`{command}` printed {result.stdout!r}"

    ours = sorted(t for t in kafka_topics(broker) if t.startswith(pipeline_name))
    print(f"measured: {case}: topics of {pipeline_name} on the broker: {ours}")
    assert ours == []


def test_a_good_spec_creates_topics_seen_by_the_admin_tool(broker, pipeline_name, tmp_path):
    # The check above means something only if the admin tool sees what sluice creates.
    spec = write_spec(tmp_path, GOOD.format(name=pipeline_name, broker=broker))
    apply_topics(spec)
    ours = {t for t in kafka_topics(broker) if t.startswith(pipeline_name)}
    print(f"\nmeasured: good spec: topics {sorted(ours)}")
    assert f"{pipeline_name}.intake" in ours
    assert f"{pipeline_name}.done" in ours
