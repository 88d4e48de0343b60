"""`sluice topics apply` on topics that exist with other partition counts than the spec
asks for: exit 1, one `differs` line per difference naming the topic, the setting, the
spec's value and the broker's, and never `exists` for a topic that differs. Topics that
match are `exists`; nothing on the broker is changed (a second apply says the same)."""

from conftest import apply_topics, builtin_stage, pipeline_spec, run_sluice, write_spec


def _spec(tmp_path, pipeline_name, broker, b_partitions):
    return write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("a", "tag", next=["b"]),
        builtin_stage("b", "tag", partitions=b_partitions)], partitions=2))


def _lines(stdout, verb):
    return sorted(line.split(None, 1)[1] for line in stdout.splitlines()
                  if line.startswith(verb + " "))


def test_partition_counts_that_differ_exit_1_one_line_each(broker, pipeline_name, tmp_path):
    p = pipeline_name
    first = apply_topics(_spec(tmp_path, p, broker, b_partitions=2))
    assert len(_lines(first.stdout, "created")) == 9, first.stdout

    wider = _spec(tmp_path, p, broker, b_partitions=3)
    for attempt in range(2):  # the broker is left as it is: the second apply agrees
        result = run_sluice("topics", "apply", "-f", wider)
        print(f"\nmeasured: apply {attempt + 1} exit {result.returncode}\n{result.stdout}"
              f"{result.stderr}")
        assert result.returncode == 1, result.stderr
        differing = [f"{p}.b", f"{p}.b.dlq", f"{p}.b.retry", f"{p}.done"]
        assert _lines(result.stdout, "differs") == sorted(
            f"{t}: partitions: spec 3, broker 2 (left as is)" for t in differing)
        # The replay ledgers have one partition whatever the stage has.
        assert _lines(result.stdout, "exists") == [
            f"{p}.a.dlq", f"{p}.a.dlq.replayed", f"{p}.a.retry", f"{p}.b.dlq.replayed",
            f"{p}.intake"]
        assert _lines(result.stdout, "created") == []
        assert result.stderr.splitlines() == [
            "sluice: 4 topics differ from the spec; topics apply never changes an existing "
            "topic"]
