"""`sluice verify -f SPEC --jobs IDS_FILE`: the job ids `submit` printed against what
is in <p>.done and the DLQs (read_committed), and transactions left open. Exit 0 when
nothing is lost (under exactly_once: nor duplicated, nor a transaction open); 1
otherwise; 2 for bad usage."""

import json
import time

from conftest import (
    apply_topics, builtin_stage, open_transaction, passthrough_pipeline, pipeline_spec,
    raw_produce, run_sluice, sluice_verify, wait_until, write_spec)

JOBS = 40


def envelope(job_id):
    """The smallest sluice.v1.Envelope: field 1 (job_id) alone, as protobuf writes it."""
    data = job_id.encode()
    assert len(data) < 128  # a one-byte length
    return b"\x0a" + bytes([len(data)]) + data


def write_ids(tmp_path, ids, name="ids.txt"):
    path = tmp_path / name
    path.write_text("".join(f"{i}\n" for i in ids))
    return path


def counts(report):
    return {k: report[k] for k in ("submitted", "done", "dead_lettered", "lost", "duplicated",
                                   "extra_copies", "unexpected", "unreadable")}


def clean(submitted, done, dead_lettered=0):
    return {"submitted": submitted, "done": done, "dead_lettered": dead_lettered, "lost": 0,
            "duplicated": 0, "extra_copies": 0, "unexpected": 0, "unreadable": 0}


def test_verify_counts_what_came_out(tmp_path, pipeline_name, broker, start_worker):
    spec = passthrough_pipeline(tmp_path, pipeline_name, broker)
    jobs = "".join(json.dumps({"n": n}) + "\n" for n in range(JOBS))
    submitted = run_sluice("submit", "-f", spec, "-", input=jobs)
    assert submitted.returncode == 0, submitted.stderr
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(submitted.stdout)  # as a user would: `sluice submit ... > ids.txt`
    ids = submitted.stdout.split()
    assert len(ids) == JOBS

    # Before the worker ran: every job is lost.
    code, report = sluice_verify(spec, ids_file)
    assert (code, report["lost"], report["done"]) == (1, JOBS, 0), report
    assert report["examples"]["lost"] == sorted(ids)[:5]

    start_worker(spec, "only")
    done = wait_until(lambda: (lambda r: r if r[1]["done"] == JOBS else None)(
        sluice_verify(spec, ids_file)), 60, f"verify to count {JOBS} jobs done")
    code, report = done
    print(f"\nmeasured: verify after the run: exit {code}, {counts(report)}")
    assert code == 0, report
    assert counts(report) == clean(JOBS, JOBS)
    assert report["records"] == {"done": JOBS, "dlq": 0, "dlq_replayed": 0}
    assert report["open_transactions"] == [] and report["ok"] is True
    assert report["guarantee"] == "at_least_once"

    table = run_sluice("verify", "-f", spec, "--jobs", ids_file)
    assert table.returncode == 0, table.stderr
    assert table.stderr == ""
    lines = table.stdout.splitlines()
    assert lines[0] == f"pipeline {pipeline_name} (at_least_once)"
    assert lines[1].split() == ["submitted", str(JOBS)]
    assert lines[-1] == "ok"

    # An id that was never submitted: lost, exit 1, named.
    never = "0" * 32
    with_never = write_ids(tmp_path, [*ids, "", never, "  "], "with-never.txt")
    code, report = sluice_verify(spec, with_never)
    assert code == 1 and report["lost"] == 1 and report["submitted"] == JOBS + 1, report
    assert report["examples"]["lost"] == [never] and report["failures"] == ["1 lost"]
    table = run_sluice("verify", "-f", spec, "--jobs", with_never)
    assert table.returncode == 1 and "  e.g. " + never in table.stdout.splitlines()
    assert table.stdout.splitlines()[-1] == "FAILED: 1 lost"

    # A dead letter of a submitted job counts as its outcome.
    dead = "d" * 32
    raw_produce(broker, f"{pipeline_name}.only.dlq", dead, envelope(dead))
    ids_file = write_ids(tmp_path, [*ids, dead], "with-dead.txt")
    code, report = sluice_verify(spec, ids_file)
    assert (code, counts(report)) == (0, clean(JOBS + 1, JOBS, dead_lettered=1)), report

    # Replayed (`dlq replay`) and done: the letter the ledger records as sent back is
    # no outcome any more, the job is not duplicated.
    replayed = run_sluice("dlq", "replay", "-f", spec, "--stage", "only")
    assert replayed.returncode == 0, replayed.stderr
    code, report = wait_until(lambda: (lambda r: r if r[1]["done"] == JOBS + 1 else None)(
        sluice_verify(spec, ids_file)), 60, "the replayed job to be done")
    assert (code, counts(report)) == (0, clean(JOBS + 1, JOBS + 1)), report
    assert report["records"] == {"done": JOBS + 1, "dlq": 0, "dlq_replayed": 1}

    # A second copy of a job on done: duplicated, which at_least_once allows.
    raw_produce(broker, f"{pipeline_name}.done", ids[3], envelope(ids[3]))
    code, report = sluice_verify(spec, ids_file)
    assert code == 0, report
    assert (report["duplicated"], report["extra_copies"]) == (1, 1), report
    assert report["examples"]["duplicated"] == [ids[3]] and report["lost"] == 0

    # Foreign bytes and a job nobody submitted, on done.
    raw_produce(broker, f"{pipeline_name}.done", "foreign", b"n\xff\x00 not an envelope")
    raw_produce(broker, f"{pipeline_name}.done", "stranger", envelope("e" * 32))
    code, report = sluice_verify(spec, ids_file)
    print(f"measured: verify after the extra records: exit {code}, {counts(report)}")
    assert code == 0, report
    assert (report["unreadable"], report["unexpected"]) == (1, 1), report
    assert report["examples"]["unexpected"] == ["e" * 32]
    assert report["records"] == {"done": JOBS + 3, "dlq": 0, "dlq_replayed": 1}


def test_verify_bad_usage_exits_2(tmp_path, pipeline_name, broker):
    spec = passthrough_pipeline(tmp_path, pipeline_name, broker)
    missing = tmp_path / "no-such-ids.txt"
    for ids_file, says in ((missing, "No such file"), (tmp_path, "Is a directory"),
                           (spec, f"{spec}:2: not a job id")):
        result = run_sluice("verify", "-f", spec, "--jobs", ids_file)
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines() == [result.stderr.strip()], result.stderr
        assert says in result.stderr and str(ids_file) in result.stderr, result.stderr
        assert result.stdout == ""
    result = run_sluice("verify", "-f", spec)
    assert result.returncode == 2 and "--jobs" in result.stderr, result.stderr
    embedded = write_spec(tmp_path, pipeline_spec(pipeline_name, "embedded", [
        builtin_stage("only", "passthrough")]), "embedded.yaml")
    result = run_sluice("verify", "-f", embedded, "--jobs", write_ids(tmp_path, []))
    assert result.returncode == 2 and "brokers is embedded" in result.stderr, result.stderr


def test_verify_without_topics_says_apply(tmp_path, pipeline_name, broker):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("only", "passthrough")]))
    result = run_sluice("verify", "-f", spec, "--jobs", write_ids(tmp_path, []))
    assert result.returncode == 1, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "does not exist" in result.stderr and "sluice topics apply" in result.stderr


def test_verify_reports_a_transaction_left_open(tmp_path, pipeline_name, broker):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("only", "passthrough")], partitions=1, guarantee="exactly_once"))
    apply_topics(spec)
    job = "a" * 32
    ids_file = write_ids(tmp_path, [job])
    done_topic = f"{pipeline_name}.done"
    raw_produce(broker, done_topic, job, envelope(job))
    code, report = sluice_verify(spec, ids_file)
    assert (code, report["guarantee"], counts(report)) == (0, "exactly_once", clean(1, 1))

    # A producer gone mid-transaction: its record is not read (read_committed), and the
    # partition stays unstable until the broker aborts the transaction.
    open_transaction(broker, done_topic, "b" * 32, envelope("b" * 32), timeout_ms=15000)
    code, report = sluice_verify(spec, ids_file, "--timeout", "1s")
    print(f"\nmeasured: verify with a transaction open: exit {code}, "
          f"{report['open_transactions']}, {report['failures']}")
    assert code == 1, report
    assert report["open_transactions"] == [
        {"topic": done_topic, "partition": 0, "stable_offset": 1, "high_watermark": 2}]
    assert report["failures"] == ["1 partition with a transaction left open"]
    assert counts(report) == clean(1, 1)  # the open transaction's record is not counted
    table = run_sluice("verify", "-f", spec, "--jobs", ids_file, "--timeout", "1s")
    assert table.returncode == 1
    assert f"  {done_topic}[0]: stable offset 1, high watermark 2" in table.stdout.splitlines()

    # Once the broker aborted it: nothing open, and the aborted record never counts.
    started = time.monotonic()
    code, report = wait_until(
        lambda: (lambda r: r if r[0] == 0 else None)(
            sluice_verify(spec, ids_file, "--timeout", "1s")),
        90, "the broker to abort the transaction")
    print(f"measured: the broker aborted it {time.monotonic() - started:.1f}s later")
    assert report["open_transactions"] == [] and counts(report) == clean(1, 1), report
