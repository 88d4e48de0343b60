"""`sluice dlq list` and `sluice dlq replay`, through the CLI, on a real broker.

One exec stage (tests/integration/agents/fail_unless_fixed.py) dead-letters, with
"retry": false, every job whose payload says "fail", until a marker file named in the
stage's `env:` exists: creating the file "fixes" the stage. The test dead-letters jobs
in two batches (so that --since/--until have a time between them), selects them every
way list can, replays with --dry-run (nothing sent), replays while still broken (the
jobs die again: new letters that can be replayed again), fixes the stage, replays at
--rate 5/s (measured), replays the same selection again (nothing sent), and checks that
every replayed job reaches <p>.done. A deployment whose replay ledger is missing still
runs its workers; only `dlq replay` refuses, saying how to create the ledger.
"""

import datetime
import json
import socket
import struct
import time

from conftest import (apply_topics, pipeline_spec, read_done, repo_path,
                      run_sluice, submit, tail_records, wait_until, write_spec)

AGENT = str(repo_path() / "tests/integration/agents/fail_unless_fixed.py")
STAGE = "risky"


def _spec(tmp_path, name, broker, fix_file):
    stage = {"name": STAGE, "kind": "exec", "command": ["python3", AGENT],
             "env": {"FIX_FILE": str(fix_file)}}
    return write_spec(tmp_path, pipeline_spec(name, broker, [stage], partitions=2))


def _dlq(spec, command, *args, timeout=60):
    return run_sluice("dlq", command, "-f", spec, "--stage", STAGE, *args, timeout=timeout)


def _letters(spec, *args):
    result = _dlq(spec, "list", "--json", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _jobs(letters):
    return sorted(letter["job"] for letter in letters)


def _rfc3339(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat()


def _intake_records(spec):
    return len(tail_records(spec, "--stage", STAGE, idle_timeout="3s"))


def _replay(spec, *args, timeout=120):
    started = time.monotonic()
    result = _dlq(spec, "replay", *args, timeout=timeout)
    elapsed = time.monotonic() - started
    print(f"\nmeasured: dlq replay {' '.join(args)}: exit {result.returncode} in "
          f"{elapsed:.2f}s\n{result.stdout}{result.stderr}")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    sent = [line for line in lines if line.startswith(("sent ", "would send "))]
    return sent, lines[-1], elapsed


def _dead_letter_batch(spec, payloads, expected_total):
    ids = submit(spec, payloads)
    wait_until(lambda: len(_letters(spec)) >= expected_total, 60,
               f"{expected_total} dead letters in {STAGE}'s DLQ")
    return ids


def test_list_selects_and_replay_sends_each_letter_once(broker, pipeline_name, tmp_path,
                                                        start_worker):
    fix_file = tmp_path / "fixed"
    spec = _spec(tmp_path, pipeline_name, broker, fix_file)
    apply_topics(spec)
    start_worker(spec, STAGE)
    good = submit(spec, [{"n": 100 + i} for i in range(5)])

    first = _dead_letter_batch(spec, [{"n": i, "fail": "refused"} for i in range(6)], 6)
    between = time.time()
    second = _dead_letter_batch(spec, [{"n": i, "fail": "refused"} for i in range(6, 10)] +
                                [{"n": i, "fail": "exploded", "kind": "exception"}
                                 for i in (10, 11)], 12)
    refused, exploded = first + second[:4], second[4:]

    # --- list: every letter, whole history, and each filter -------------------------
    letters = _letters(spec)
    assert _jobs(letters) == sorted(first + second)
    one = next(letter for letter in letters if letter["job"] == first[3])
    assert one["payload"] == {"n": 3, "fail": "refused"}
    assert one["attempts"] == 1 and one["replayed"] is False
    assert [(e["stage"], e["attempt"], e["kind"], e["message"]) for e in one["errors"]] == [
        (STAGE, 1, "error", "refused: cannot process n=3")]
    assert one["origin"]["topic"] == f"{pipeline_name}.intake"
    assert set(one["dlq"]) == {"partition", "offset"}

    assert _jobs(_letters(spec, "--job", first[0])) == [first[0]]
    assert _jobs(_letters(spec, "--error", "exploded")) == sorted(exploded)
    assert _jobs(_letters(spec, "--error", "/n=[0-3]$/")) == sorted(first[:4])
    assert _jobs(_letters(spec, "--kind", "exception")) == sorted(exploded)
    assert _jobs(_letters(spec, "--kind", "error")) == sorted(refused)
    assert _jobs(_letters(spec, "--until", _rfc3339(between))) == sorted(first)
    assert _jobs(_letters(spec, "--since", _rfc3339(between))) == sorted(second)
    assert _jobs(_letters(spec, "--since", "1h")) == sorted(first + second)
    assert _letters(spec, "--until", "1h") == []
    assert len(_letters(spec, "--max", "3")) == 3

    table = _dlq(spec, "list")
    assert table.returncode == 0, table.stderr
    rows = table.stdout.splitlines()
    print(f"\nmeasured: dlq list (table)\n{table.stdout}")
    assert rows[0].split() == ["JOB", "KEY", "ATTEMPTS", "LAST", "ERROR", "WHEN", "REPLAYED"]
    assert len(rows) == 1 + 12 + 1 and rows[-1] == f"12 dead letters of {pipeline_name}.{STAGE}.dlq"
    row = next(r for r in rows if r.startswith(first[3]))
    assert "error: refused: cannot process n=3" in row and row.endswith(" no")

    # --- dry run: prints, sends nothing, records nothing ----------------------------
    before = _intake_records(spec)
    sent, summary, _ = _replay(spec, "--dry-run")
    assert len(sent) == 12 and all(line.startswith("would send ") for line in sent)
    assert summary.startswith("dry run: would replay 12 dead letters")
    assert _intake_records(spec) == before
    assert not any(letter["replayed"] for letter in _letters(spec))

    # --- replayed while still broken: they die again, new letters -------------------
    sent, summary, _ = _replay(spec, "--kind", "exception")
    assert len(sent) == 2 and summary.startswith("replayed 2 dead letters")
    wait_until(lambda: len(_letters(spec)) >= 14, 60, "the 2 replayed jobs to die again")
    again = _letters(spec, "--not-replayed", "--kind", "exception")
    assert _jobs(again) == sorted(exploded)
    assert [e["kind"] for e in again[0]["errors"]] == ["exception", "replayed", "exception"]
    replayed_entry = again[0]["errors"][1]
    assert replayed_entry["stage"] == STAGE and replayed_entry["attempt"] == 1
    assert replayed_entry["message"].startswith(f"replayed from {pipeline_name}.{STAGE}.dlq[")

    # --- fixed: replay at 5/s, then the same selection again -----------------------
    fix_file.touch()
    sent, summary, elapsed = _replay(spec, "--kind", "error", "--rate", "5/s")
    assert len(sent) == 10 and summary.startswith("replayed 10 dead letters")
    assert elapsed >= 1.8, f"10 letters at 5/s took {elapsed:.2f}s"
    sent, summary, _ = _replay(spec, "--kind", "error")
    assert sent == [] and "10 replayed before, skipped" in summary

    # The two that died again are replayed again; after that, nothing is left.
    sent, summary, _ = _replay(spec)
    assert len(sent) == 2 and "12 replayed before, skipped" in summary
    sent, summary, _ = _replay(spec)
    assert sent == [] and "14 replayed before, skipped" in summary
    assert _letters(spec, "--not-replayed") == []
    assert len(_letters(spec, "--job", exploded[0])) == 2

    done = read_done(spec, 17)
    assert sorted({r["job_id"] for r in done}) == sorted(good + first + second)
    assert len(done) == 17, "each replayed job reached done once"
    fixed = [r for r in done if r["job_id"] in refused + exploded]
    assert all(r["payload"]["fixed"] is True for r in fixed)


def _one_line_error(result, expected, whole=True):
    """Exit 2 and one line on stderr: `expected`, or (whole=False) starting with it."""
    print(f"\nmeasured: exit {result.returncode}: {result.stderr.strip()}")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and (lines[0] == expected if whole else lines[0].startswith(expected))


def test_bad_flags_exit_2_with_one_line(broker, pipeline_name, tmp_path):
    spec = _spec(tmp_path, pipeline_name, broker, tmp_path / "fixed")
    _one_line_error(_dlq(spec, "list", "--error", "/([a-z/"),
                    "sluice: --error: /([a-z/ is not a valid regular expression: ", whole=False)
    _one_line_error(_dlq(spec, "list", "--since", "yesterday"),
                    "sluice: --since 'yesterday': expected a duration back from now (10m, 2h) "
                    "or an RFC 3339 time (2026-12-01T18:00:00Z)")
    _one_line_error(_dlq(spec, "replay", "--until", "2025-13-01T00:00:00Z"),
                    "sluice: --until: bad time '2025-13-01T00:00:00Z': ", whole=False)
    for rate in ("5", "0/s", "-1/s", "fast/s", "5/m"):
        _one_line_error(_dlq(spec, "replay", "--rate", rate),
                        f"sluice: --rate: '{rate}' is not a rate above zero per second "
                        "(e.g. 10/s)")
    _one_line_error(run_sluice("dlq", "list", "-f", spec, "--stage", "riskie"),
                    f"sluice: {spec}: no stage named 'riskie' (did you mean 'risky'?)")
    _one_line_error(run_sluice("dlq", "list", "-f", spec),
                    "sluice: --stage is required (see --help)")
    _one_line_error(run_sluice("dlq", "replay", "-f", spec, "--stage", STAGE, "--max", "-1"),
                    "sluice: --max: must be 0 (no limit) or more")


def _delete_topic(broker, topic):
    """Deletes `topic` with one Kafka DeleteTopics request (v1) on a plain socket: the
    broker's jars hold no admin tool for it, and sluice never deletes a topic."""
    name = topic.encode()
    body = struct.pack(">i", 1) + struct.pack(">h", len(name)) + name + struct.pack(">i", 30000)
    client = b"sluice-test"
    header = struct.pack(">hhih", 20, 1, 7, len(client)) + client  # DeleteTopics v1, id 7
    host, port = broker.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=60) as conn:
        conn.sendall(struct.pack(">i", len(header) + len(body)) + header + body)
        size = struct.unpack(">i", _read_exactly(conn, 4))[0]
        reply = _read_exactly(conn, size)
    # correlation id, throttle time, [topic name, error code]
    correlation, _, count = struct.unpack(">iii", reply[:12])
    name_length = struct.unpack(">h", reply[12:14])[0]
    error = struct.unpack(">h", reply[14 + name_length:16 + name_length])[0]
    assert (correlation, count, error) == (7, 1, 0), f"DeleteTopics {topic}: error {error}"


def _read_exactly(conn, size):
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        assert chunk, "the broker closed the connection"
        data += chunk
    return data


def test_missing_ledger_stops_only_replay(broker, pipeline_name, tmp_path, start_worker):
    fix_file = tmp_path / "fixed"
    spec = _spec(tmp_path, pipeline_name, broker, fix_file)
    apply_topics(spec)
    ledger = f"{pipeline_name}.{STAGE}.dlq.replayed"
    _delete_topic(broker, ledger)
    wait_until(lambda: _ledger_gone(spec), 60, f"{ledger} to be deleted")
    # An older deployment has no ledger either: its workers must run all the same.
    start_worker(spec, STAGE)
    ids = submit(spec, [{"n": 1}, {"n": 2, "fail": "refused"}])
    assert {r["job_id"] for r in read_done(spec, 1)} == {ids[0]}
    letters = wait_until(lambda: _letters(spec), 60, "the refused job's dead letter")
    assert _jobs(letters) == [ids[1]] and letters[0]["replayed"] is False

    result = _dlq(spec, "replay")
    print(f"\nmeasured: replay without a ledger: exit {result.returncode}: {result.stderr}")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"sluice: topic {ledger} does not exist on {broker}; create it with "
        f"`sluice topics apply -f {spec}`"]
    assert result.stdout == ""


def _ledger_gone(spec):
    result = _dlq(spec, "replay", "--dry-run")
    return result.returncode == 1 and "does not exist" in result.stderr
