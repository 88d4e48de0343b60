"""`sluice status --json` right after `sluice topics apply` (what a script or a user
does next): exit 0, every stage in spec order with its group and topics, empty
queues, no workers, nothing done."""

import json

from conftest import apply_topics, builtin_stage, pipeline_spec, run_sluice, write_spec

PIPELINES = 3  # fresh topics each time: the moment right after creation is the point


def test_status_of_a_fresh_pipeline(broker, pipeline_name, tmp_path):
    for i in range(PIPELINES):
        name = f"{pipeline_name}-{i}"
        spec = write_spec(tmp_path, pipeline_spec(name, broker, [
            builtin_stage("first", "tag", next=["second"]),
            builtin_stage("second", "tag")], partitions=6), name=f"{name}.yaml")
        apply_topics(spec)

        result = run_sluice("status", "-f", spec, "--json")
        print(f"\nmeasured: status right after topics apply ({name}): exit "
              f"{result.returncode} {result.stderr.strip()}")
        assert result.returncode == 0, result.stderr
        status = json.loads(result.stdout)
        assert status["pipeline"] == name
        assert status["done"] == 0
        assert [s["stage"] for s in status["stages"]] == ["first", "second"]
        for stage, input_topic in (("first", f"{name}.intake"),
                                   ("second", f"{name}.second")):
            s = next(s for s in status["stages"] if s["stage"] == stage)
            assert s["group"] == f"sluice.{name}.{stage}"
            assert s["workers"] == 0
            assert s["queue"] == {
                "input": {"topic": input_topic, "depth": 0},
                "retry": {"topic": f"{name}.{stage}.retry", "depth": 0},
                "dlq": {"topic": f"{name}.{stage}.dlq", "depth": 0}}
