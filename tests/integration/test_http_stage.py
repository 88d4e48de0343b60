"""The http stage kind through the CLI (issue 8, item 6): one http stage (concurrency 4,
timeout 1s, max_attempts 3) against http_test_server.py answering 200, 429 with
Retry-After (first attempt), 500 (first attempt), 400 (always) and a response slower
than the timeout (always). The right jobs reach done, exactly once; the 400 job and the
slow one are dead-lettered with the right kind and number of attempts; connections are
kept alive (no more than `concurrency` opened).

The run happens once (the `run` fixture, in two phases: the slow job last, since each
timed-out request costs its connection); each test checks one part of what it saw,
through the server's records and `sluice tail --done` / `--dlq`. Assertions are on
outcomes, counts and the server's timestamps, not on how the engine schedules retries.
"""

import collections
import dataclasses
import secrets

import pytest

import http_test_server
from conftest import (
    Worker, apply_topics, pipeline_spec, read_settled_done, submit, tail_records,
    verify, wait_until, write_spec)

STAGE = "call"
CONCURRENCY = 4
MAX_ATTEMPTS = 3
OK_JOBS = 12
MODES = {"retry_after": 100, "fail500": 200, "bad400": 300}  # mode -> the job's "n"
SLOW_N = 400


@dataclasses.dataclass
class Run:
    server: http_test_server.HttpTestServer
    job_ids: dict  # n -> job id
    done: list  # every record of .done, duplicates included
    dead: dict  # job id -> dead letter
    phase1_connections: int  # before the slow job
    worker_log: str


def _wait(worker, predicate, timeout, what):
    """wait_until(), failing at once with the worker's log if the worker exits."""
    def alive_and(predicate):
        if not worker.running():
            pytest.fail(f"worker exited {worker.proc.returncode} waiting for {what}: "
                        f"{worker.stderr_tail()}", pytrace=False)
        return predicate()
    return wait_until(lambda: alive_and(predicate), timeout, what)


def _letters(spec, count):
    """The stage's dead letters, once there are at least `count`."""
    letters = tail_records(spec, "--dlq", STAGE, idle_timeout="2s")
    return letters if len(letters) >= count else None


def _done(spec, count):
    """The records of .done, once they hold at least `count` jobs."""
    records = tail_records(spec, "--done", idle_timeout="2s")
    return records if len({r["job_id"] for r in records}) >= count else None


@pytest.fixture(scope="module")
def run(broker, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("http")
    with http_test_server.HttpTestServer() as server:
        stage = {"name": STAGE, "kind": "http", "http": {"url": server.url}, "concurrency": CONCURRENCY,
                 "timeout": "1s"}
        spec = write_spec(tmp_path, pipeline_spec(
            f"it-{secrets.token_hex(4)}", broker, [stage], partitions=3,
            retry={"max_attempts": MAX_ATTEMPTS, "backoff": "100ms", "max_backoff": "200ms"}))
        apply_topics(spec)
        worker = Worker(spec, STAGE, tmp_path)
        try:
            yield _drive(spec, server, worker)
        finally:
            worker.kill()


def _drive(spec, server, worker):
    payloads = [{"n": n} for n in range(OK_JOBS)] + [{"n": n, "mode": m} for m, n in MODES.items()]
    ids = submit(spec, payloads)
    job_ids = {p["n"]: i for p, i in zip(payloads, ids)}
    good = len(payloads) - 1  # all but the 400 job
    _wait(worker, lambda: _done(spec, good), 90, f"{good} jobs in done")
    _wait(worker, lambda: _letters(spec, 1), 60, "the 400 job to be dead-lettered")
    phase1_connections = server.connections

    [slow_id] = submit(spec, [{"n": SLOW_N, "mode": "slow"}])
    job_ids[SLOW_N] = slow_id
    letters = _wait(worker, lambda: _letters(spec, 2), 90, "the slow job to be dead-lettered")
    done = read_settled_done(spec)
    assert worker.running(), worker.stderr_tail()
    print(f"\nmeasured: {len(server.requests())} requests over {server.connections} connections "
          f"({phase1_connections} before the slow job); {len(done)} done, "
          f"{len(letters)} dead letters")
    return Run(server, job_ids, done, {d["job_id"]: d for d in letters}, phase1_connections,
               worker.stderr_tail())


def test_ok_429_and_500_jobs_reach_done_exactly_once(run):
    good = {n: j for n, j in run.job_ids.items() if n not in (MODES["bad400"], SLOW_N)}
    result = verify(good.values(), run.done)
    assert result.ok, result
    for record in run.done:
        assert record["payload"]["served"] is True, record


def test_the_500_job_is_retried_after_its_first_attempt(run):
    requests = run.server.requests_for(MODES["fail500"])
    assert [(r.attempt, r.status) for r in requests] == [(1, 500), (2, 200)], requests


def test_the_429_job_is_retried(run):
    requests = run.server.requests_for(MODES["retry_after"])
    assert [(r.attempt, r.status) for r in requests] == [(1, 429), (2, 200)], requests


def test_the_429_jobs_retry_waits_for_retry_after(run):
    first, second = run.server.requests_for(MODES["retry_after"])[:2]
    gap = second.time - first.time
    print(f"\nmeasured: the 429 job's retry came {gap:.2f}s after its first attempt "
          f"(Retry-After: {http_test_server.RETRY_AFTER_SECONDS})")
    assert gap >= http_test_server.RETRY_AFTER_SECONDS


def test_the_400_job_is_dead_lettered_after_one_attempt(run):
    job = run.job_ids[MODES["bad400"]]
    assert len(run.server.requests_for(MODES["bad400"])) == 1
    letter = run.dead[job]
    [error] = letter["errors"]
    assert (error["attempt"], error["kind"]) == (1, "http_400"), error
    assert "HTTP 400" in error["message"], error
    assert http_test_server.BAD_REQUEST_BODY in error["message"], error
    assert len(error["message"]) < 1200, "the body is cut at 1 KiB"


def test_the_slow_job_is_dead_lettered_after_max_attempts_timeouts(run):
    requests = run.server.requests_for(SLOW_N)
    assert [r.attempt for r in requests] == list(range(1, MAX_ATTEMPTS + 1)), requests
    letter = run.dead[run.job_ids[SLOW_N]]
    assert [e["kind"] for e in letter["errors"]] == ["timeout"] * MAX_ATTEMPTS, letter["errors"]
    assert run.server.url in letter["errors"][-1]["message"]


def test_connections_are_kept_alive(run):
    requests = [r for r in run.server.requests() if r.n != SLOW_N]
    assert len(requests) > CONCURRENCY
    assert run.phase1_connections <= CONCURRENCY, run.phase1_connections
    # Each timed-out request closes its connection (it cannot be reused mid-response).
    assert run.server.connections <= CONCURRENCY + MAX_ATTEMPTS, run.server.connections


def test_every_request_carries_the_task_line(run):
    jobs = collections.Counter(r.job for r in run.server.requests())
    assert set(jobs) == set(run.job_ids.values())
    assert all(r.path == "/run" for r in run.server.requests())
