"""`sluice serve` (issue 11): the HTTP intake on a real broker. Accepted jobs are on the
intake topic before the 202; 401 without the bearer token; 413 over the size limit;
malformed JSON gets 400 and produces nothing; 429 with Retry-After while the entry stage
is full; an idempotency key retried gets its id back and no second record; a broker
outage gives 503 in bounded time, not a hang."""

import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import (apply_topics, builtin_stage, free_port, input_depth, pipeline_spec,
                      repo_path, sluice_path, submit, wait_until, write_spec)

TOKEN = "s3cret-token"
HIGH = 20  # the entry stage's high watermark: no worker runs, so 21 queued jobs fill it


class Serve:
    def __init__(self, spec, tmp_path, *args):
        self.port = free_port()
        self.stderr_path = tmp_path / f"serve-{self.port}.stderr"
        token_file = tmp_path / "token"
        token_file.write_text(TOKEN + "\n")
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [str(sluice_path()), "serve", "-f", str(spec), "--addr", f"127.0.0.1:{self.port}",
                 "--token-file", str(token_file), "--max-request-bytes", "4096", *args],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                cwd=repo_path())
        wait_until(self.healthy, 30, "sluice serve to answer /v1/health")

    def request(self, method, path, body=None, token=TOKEN, timeout=60):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def healthy(self):
        try:
            return self.request("GET", "/v1/health", token=None, timeout=5)[0] == 200
        except OSError:
            return False

    def post_jobs(self, body, **kwargs):
        status, headers, text = self.request("POST", "/v1/jobs", body, **kwargs)
        return status, headers, json.loads(text)

    def stop(self):
        self.proc.terminate()
        return self.proc.wait(timeout=30)

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")


@pytest.fixture
def serve_of(tmp_path):
    started = []

    def start(spec, *args):
        serve = Serve(spec, tmp_path, *args)
        started.append(serve)
        return serve

    yield start
    for serve in started:
        if serve.proc.poll() is None:
            serve.proc.kill()
            serve.proc.wait()


def one_stage(tmp_path, name, broker):
    return write_spec(tmp_path, pipeline_spec(name, broker, [
        builtin_stage("only", "passthrough",
                      backpressure={"high_watermark": HIGH, "low_watermark": 5})]))


def test_jobs_are_on_the_intake_before_the_answer(broker, pipeline_name, tmp_path, serve_of):
    spec = one_stage(tmp_path, pipeline_name, broker)
    apply_topics(spec)
    serve = serve_of(spec)

    status, _, body = serve.post_jobs(json.dumps({"payload": {"n": 1}, "key": "k1"}))
    assert status == 202, body
    assert len(body["jobs"]) == 1
    # No worker runs: the intake holds exactly what was acknowledged.
    assert input_depth(spec, "only") == 1

    lines = "\n".join(json.dumps({"payload": {"n": n}}) for n in range(5))
    status, _, body = serve.post_jobs(lines)
    assert status == 202, body
    assert len(set(body["jobs"])) == 5
    assert input_depth(spec, "only") == 6

    status, _, body = serve.post_jobs(json.dumps({"payload": 7, "idempotency_key": "order-7"}))
    assert status == 202
    again_status, _, again = serve.post_jobs(
        json.dumps({"payload": 7, "idempotency_key": "order-7"}))
    assert again_status == 202 and again["jobs"] == body["jobs"]
    assert input_depth(spec, "only") == 7


def test_refusals_produce_nothing(broker, pipeline_name, tmp_path, serve_of):
    spec = one_stage(tmp_path, pipeline_name, broker)
    apply_topics(spec)
    serve = serve_of(spec)
    job = json.dumps({"payload": {"n": 1}})

    status, headers, body = serve.post_jobs(job, token=None)
    assert status == 401 and body["code"] == "unauthorized"
    assert headers.get("WWW-Authenticate") == "Bearer"
    status, _, body = serve.post_jobs(job, token="wrong-token-of-same-size")
    assert status == 401

    status, _, body = serve.post_jobs(json.dumps({"payload": "x" * 5000}))
    assert status == 413 and body["code"] == "too_large"

    status, _, body = serve.post_jobs(job + "\n{not json")
    assert status == 400 and body["code"] == "malformed"
    assert "line 2" in body["error"]
    status, _, body = serve.post_jobs(json.dumps({"no_payload": 1}))
    assert status == 400 and "job 1: no \"payload\"" in body["error"]

    assert serve.request("GET", "/v1/jobs")[0] == 405
    assert input_depth(spec, "only") == 0

    # Fill the entry stage past its high watermark (no worker drains it): busy, once
    # serve reads the depth again (it reads it at most once a second).
    submit(spec, [{"n": n} for n in range(HIGH + 1)])
    accepted = 0

    def busy():
        nonlocal accepted
        status, headers, body = serve.post_jobs(job)
        accepted += status == 202
        return status == 429 and (headers, body)
    headers, body = wait_until(busy, 10, "serve to answer 429")
    assert body["code"] == "busy" and f"over its high watermark {HIGH}" in body["error"]
    assert int(headers["Retry-After"]) >= 1
    assert input_depth(spec, "only") == HIGH + 1 + accepted

    metrics = serve.request("GET", "/metrics", token=None)[2]
    assert 'sluice_intake_requests_total{code="429"' in metrics
    assert serve.stop() == 0


def test_a_broker_outage_answers_503_in_bounded_time(tmp_path, own_broker, serve_of):
    spec = one_stage(tmp_path, "outage", own_broker.address)
    apply_topics(spec)
    serve = serve_of(spec)
    status, _, _ = serve.post_jobs(json.dumps({"payload": 1}))
    assert status == 202

    own_broker.stop()
    started = time.monotonic()
    status, _, body = serve.post_jobs(json.dumps({"payload": 2}), timeout=90)
    took = time.monotonic() - started
    print(f"\nmeasured: POST with the broker down: {status} after {took:.1f}s: {body}")
    assert status == 503 and body["code"] == "unavailable", body
    assert body.get("jobs", []) == [] and body.get("possibly_delivered", []) == [], body
    assert took < 40
    health = serve.request("GET", "/v1/health", token=None, timeout=90)[0]
    assert health == 503
