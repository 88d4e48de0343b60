"""`sluice status --json` right after `sluice topics apply` (what a script or a user
does next): exit 0, every stage in spec order with its group and topics, empty
queues, no workers, nothing done."""

import json

from conftest import (apply_topics, builtin_stage, open_transaction, pipeline_spec,
                      raw_produce, run_sluice, write_spec)

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


def test_status_answers_while_a_transaction_holds_offsets(broker, pipeline_name, tmp_path):
    """A worker killed -9 mid-transaction leaves a pending offset commit of its group
    for up to transaction.timeout.ms plus the broker's abort check interval; status
    must answer meanwhile, counting from the last committed offset (none here)."""
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("only", "passthrough")], partitions=1, guarantee="exactly_once"))
    apply_topics(spec)
    intake = f"{pipeline_name}.intake"
    for n in range(3):
        raw_produce(broker, intake, f"k{n}", b"{}")
    # The open transaction holds a fourth record of the intake and a commit of
    # offset 2 for the stage's group; the broker ends it a minute from now at the
    # earliest, long after status's 10 s bound.
    open_transaction(broker, intake, "k3", b"{}", timeout_ms=60000,
                     group=f"sluice.{pipeline_name}.only", offset=2)

    result = run_sluice("status", "-f", spec, "--json", timeout=60)
    print(f"\nmeasured: status with a transaction open: exit {result.returncode} "
          f"{result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    stage = json.loads(result.stdout)["stages"][0]
    assert stage["queue"]["input"] == {"topic": intake, "depth": 4}
