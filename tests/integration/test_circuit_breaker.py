"""The circuit breaker through the CLI (issue 8, item 5): an http stage whose server
answers 503 to every request for 10 s, then recovers. With max_attempts 3 and a
200 ms backoff every job would be dead-lettered within a second of the outage; with
the circuit it opens after a few failures, stops starting tasks for its cool-down,
probes, charges no attempt for failures while open, and every job reaches done once
the server is back: none is dead-lettered. The circuit's state is the
sluice_circuit_open gauge and `sluice status`'s circuit column, both read during the
outage and after it.
"""

import secrets
import time

import http_test_server
from conftest import (
    Worker, apply_topics, free_port, pipeline_spec, read_settled_done, scrape_metrics,
    status_json, submit, tail_records, verify, wait_until, write_spec)

STAGE = "call"
JOBS = 40
OUTAGE_SECONDS = 10


def _status_circuit(spec):
    [stage] = status_json(spec)["stages"]
    return stage["circuit_open"]


def _circuit_open(address):
    """sluice_circuit_open at ADDRESS, or None while the worker is not serving yet."""
    samples = scrape_metrics(address)
    values = [v for name, _, v in samples or () if name == "sluice_circuit_open"]
    return values[0] if values else None


def test_an_outage_opens_the_circuit_and_dead_letters_no_job(broker, tmp_path):
    with http_test_server.HttpTestServer() as server:
        server.outage = True
        stage = {"name": STAGE, "kind": "http", "http": {"url": server.url}, "concurrency": 4,
                 "timeout": "2s",
                 "circuit": {"failures": 5, "failure_rate": 50, "window": "10s",
                             "cool_down": "2s"}}
        spec = write_spec(tmp_path, pipeline_spec(
            f"it-{secrets.token_hex(4)}", broker, [stage], partitions=3,
            retry={"max_attempts": 3, "backoff": "200ms", "max_backoff": "200ms"}))
        apply_topics(spec)
        address = f"127.0.0.1:{free_port()}"
        worker = Worker(spec, STAGE, tmp_path, "--metrics-addr", address)
        try:
            outage_began = time.monotonic()
            ids = submit(spec, [{"n": n} for n in range(JOBS)])
            wait_until(lambda: _circuit_open(address) == 1,
                       OUTAGE_SECONDS - 2, "the circuit to open during the outage")
            wait_until(lambda: _status_circuit(spec), 5, "status to show the circuit open")
            remaining = OUTAGE_SECONDS - (time.monotonic() - outage_began)
            # The outage lasts its 10 s whatever happens meanwhile: the point is what
            # the stage does during them.
            time.sleep(max(0.0, remaining))
            outage_requests = len(server.requests())
            server.outage = False

            done = wait_until(lambda: (lambda r: r if len({x["job_id"] for x in r}) >= JOBS
                                       else None)(tail_records(spec, "--done", idle_timeout="2s")),
                              60, f"all {JOBS} jobs in done after the recovery")
            done = read_settled_done(spec)
            letters = tail_records(spec, "--dlq", STAGE, idle_timeout="2s")
            closed = wait_until(lambda: _circuit_open(address) == 0,
                                30, "the circuit to close after the recovery")
            wait_until(lambda: not _status_circuit(spec), 10, "status to show it closed")
            assert worker.running(), worker.stderr_tail()
            log = worker.stderr_tail(400)
        finally:
            worker.kill()

    result = verify(ids, done)
    assert result.ok, result
    assert letters == [], f"{len(letters)} jobs dead-lettered for the outage: {letters[:2]}"
    assert closed
    assert "circuit opened" in log, log
    # Without the circuit: every job's 3 attempts (120 requests) within the first
    # second or two. With it: the first failures, then 3 probes per 2 s cool-down.
    print(f"\nmeasured: {outage_requests} requests during the {OUTAGE_SECONDS} s outage "
          f"for {JOBS} jobs (max_attempts 3 would allow {3 * JOBS})")
    assert 0 < outage_requests < 3 * JOBS
