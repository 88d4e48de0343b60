"""A changelog whose retention would lose state (issue 10): a stateful stage refuses to
run on a changelog with cleanup.policy=delete, naming the topic and the fix, and warns
on compact,delete with a finite retention. The policy is changed with Kafka's own admin
tool, as an operator (or a cluster default) would."""

from conftest import (alter_topic_config, apply_topics, builtin_stage, pipeline_spec,
                      wait_or_kill, wait_until, write_spec)


def count_spec(tmp_path, pipeline_name, broker):
    stage = builtin_stage("counts", "count", state=True, retry={"mode": "in_place"},
                          state_dir="state")
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [stage]))
    apply_topics(spec)
    return spec


def test_a_changelog_that_deletes_is_refused(broker, pipeline_name, tmp_path, start_worker):
    spec = count_spec(tmp_path, pipeline_name, broker)
    changelog = f"{pipeline_name}.counts.changelog"
    alter_topic_config(broker, changelog, "cleanup.policy=delete")
    worker = start_worker(spec, "counts")
    code = wait_or_kill(worker.proc, 60)
    lines = [line for line in worker.stderr().splitlines() if "cleanup.policy" in line]
    assert code == 2, worker.stderr_tail()
    assert len(lines) == 1, worker.stderr_tail()
    assert f"topic {changelog} has cleanup.policy=delete: the broker deletes old state " \
           f"changes" in lines[0], lines
    assert "--add-config cleanup.policy=compact" in lines[0], lines


def test_compact_and_delete_with_a_retention_is_a_warning(broker, pipeline_name, tmp_path,
                                                          start_worker):
    spec = count_spec(tmp_path, pipeline_name, broker)
    changelog = f"{pipeline_name}.counts.changelog"
    alter_topic_config(broker, changelog, "cleanup.policy=[compact,delete],retention.ms=86400000")
    worker = start_worker(spec, "counts")
    warning = wait_until(
        lambda: next((line for line in worker.stderr().splitlines()
                      if "retention.ms=86400000" in line), None), 60, "the retention warning")
    assert f"topic {changelog} has cleanup.policy=compact,delete" in warning, warning
    assert worker.running(), worker.stderr_tail()
    assert worker.terminate() == 0
