"""Issue 12: the shipped Prometheus config, rules and Grafana dashboard against a real
Prometheus scraping a running pipeline (its workers, `sluice exporter` and `sluice
serve`) on the real broker.

One pipeline, three stages: `first` (exec; a child that crashes on every 100th job, so
a few tasks retry, and not so often that its restarts make it the slowest; a payload
that is not an object is dead-lettered), `tally` (builtin count, state: true) and
`slow` (exec, 100 ms a task, 10 tasks/s on its 2 partitions, a high watermark of 30,
so that `tally` pauses for backpressure). Jobs arrive through the HTTP intake and `submit`.
Then every PromQL expression of the dashboard and of the rule files runs against
Prometheus' HTTP API and must return data with the labels its panel or rule promises;
the alerts "DLQ growing" and "stage with queue depth and no workers" must fire; and
every log line the workers wrote (--log-format json) parses, with the dead letters'
job ids among them. With SLUICE_DASHBOARD_PNG=PATH it also renders the dashboard over
the run to PATH (ops/grafana/render.py; the README's picture is made so)."""

import json
import os
import pathlib
import re
import shutil
import subprocess
import urllib.parse
import urllib.request

import pytest
import yaml

from conftest import (
    APPEND_AGENT, apply_topics, free_port, pipeline_spec, repo_path, run_sluice,
    scrape_metrics, sluice_path, status_json, submit, terminate, wait_until, write_spec)

JOBS = 300
POISON = 6
PROMETHEUS_DIR = repo_path() / "ops" / "prometheus"
DASHBOARD = repo_path() / "ops" / "grafana" / "dashboard.py"


class Prometheus:
    """Debian's prometheus on ops/prometheus/prometheus.yml (copied with its rules, so
    that the targets directory is the test's), on a free port."""

    def __init__(self, tmp_path):
        binary = shutil.which("prometheus")
        assert binary, "prometheus is not installed: ops/setup.sh installs Debian's package"
        self.dir = tmp_path / "prometheus"
        shutil.copytree(PROMETHEUS_DIR, self.dir, ignore=shutil.ignore_patterns("tests"))
        (self.dir / "targets").mkdir(exist_ok=True)
        self.address = f"127.0.0.1:{free_port()}"
        self.log = tmp_path / "prometheus.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [binary, f"--config.file={self.dir / 'prometheus.yml'}",
                 f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                 f"--web.listen-address={self.address}"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_until(lambda: self.api("query", query="vector(1)") is not None, 60,
                   "Prometheus to answer")

    def targets(self, job_prefix, addresses_and_labels):
        """targets/<job_prefix>.json: file_sd for the job reading that prefix."""
        groups = [{"targets": [address], "labels": labels}
                  for address, labels in addresses_and_labels]
        (self.dir / "targets" / f"{job_prefix}.json").write_text(json.dumps(groups))

    def api(self, endpoint, **params):
        url = f"http://{self.address}/api/v1/{endpoint}?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.load(response)
        except OSError:
            return None
        return body.get("data") if body.get("status") == "success" else None

    def query(self, promql):
        data = self.api("query", query=promql)
        assert data is not None, f"Prometheus refused {promql!r}"
        return data["result"]

    def firing(self, alertname, **labels):
        matchers = "".join(f',{k}="{v}"' for k, v in labels.items())
        return self.query(f'ALERTS{{alertname="{alertname}",alertstate="firing"{matchers}}}')

    def stop(self):
        terminate(self.proc)


class Daemon:
    """A long-running `sluice` command (exporter, serve) with its stderr in a file."""

    def __init__(self, tmp_path, name, *args):
        self.stderr_path = tmp_path / f"{name}.stderr"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [str(sluice_path()), *map(str, args)],
                stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                cwd=repo_path())

    def stop(self):
        terminate(self.proc)


def stage(name, *agent_args, **fields):
    return {"name": name, "kind": "exec",
            "command": ["python3", APPEND_AGENT, name, *map(str, agent_args)], **fields}


# The labels a query's result must carry: those its recording rule's name promises
# (level pipeline_stage_topic: pipeline, stage, topic; `le` is consumed by
# histogram_quantile), or its `by (...)` clause; none for a bare aggregation.
def expected_labels(expr):
    expr = expr.strip()
    by = re.match(r"^\w+ by \(([^)]*)\)", expr)
    if by:
        return {label.strip() for label in by.group(1).split(",")}
    if re.match(r"^(sum|max|min|count|avg)\(", expr):
        return set()
    level = re.search(r"\b([a-z_]+):sluice_", expr)
    if level:
        return set(level.group(1).split("_")) - {"le"}
    return {"pipeline", "stage"}


def recording_rules():
    groups = yaml.safe_load((PROMETHEUS_DIR / "rules" / "recording.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def alert_rules():
    groups = yaml.safe_load((PROMETHEUS_DIR / "rules" / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_queries(pipeline):
    listed = subprocess.run(["python3", str(DASHBOARD), "--list-queries", "--pipeline", pipeline],
                            capture_output=True, text=True, check=True)
    return [json.loads(line) for line in listed.stdout.splitlines()]


def what_prometheus_saw(prometheus, pipeline):
    """The scrape health of every target and the paused and depth series, one per line."""
    lines = [f"target {t['labels'].get('job')} {t['scrapeUrl']}: {t['health']} {t['lastError']}"
             for t in (prometheus.api("targets") or {}).get("activeTargets", [])]
    for name in ("sluice_backpressure_paused", "sluice_queue_depth"):
        for series in prometheus.query(f'max_over_time({name}{{pipeline="{pipeline}"}}[10m])'):
            labels = {k: v for k, v in series["metric"].items() if k in ("stage", "topic")}
            lines.append(f"{name} max over 10m {labels}: {series['value'][1]}")
    return "\n".join(lines)


def post_jobs(port, lines):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/jobs",
                                     data="".join(json.dumps(j) + "\n" for j in lines).encode(),
                                     method="POST",
                                     headers={"Content-Type": "application/x-ndjson"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.load(response)


def test_dashboard_and_rules_against_a_real_prometheus(broker, pipeline_name, tmp_path,
                                                        start_worker):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        stage("first", "--crash-every", 100, next=["tally"], concurrency=4,
              backpressure={"high_watermark": 100000, "low_watermark": 1000}),
        {"name": "tally", "kind": "builtin", "builtin": "count", "state": True,
         "retry": {"mode": "in_place"}, "next": ["slow"]},
        stage("slow", "--delay-ms", 100, concurrency=1,
              backpressure={"high_watermark": 30, "low_watermark": 5},
              slo={"end_to_end_p99": "30s"}),
    ], partitions=2))
    apply_topics(spec)
    prometheus = Prometheus(tmp_path)
    daemons = []
    try:
        worker_ports = {name: free_port() for name in ("first", "tally", "slow")}
        workers = {name: start_worker(spec, name, "--metrics-addr", f"127.0.0.1:{port}",
                                      "--log-format", "json",
                                      "--state-dir", tmp_path / "state")
                   for name, port in worker_ports.items()}
        exporter_port, serve_port = free_port(), free_port()
        daemons.append(Daemon(tmp_path, "exporter", "exporter", "-f", spec, "--metrics-addr",
                              f"127.0.0.1:{exporter_port}", "--interval", "2s"))
        daemons.append(Daemon(tmp_path, "serve", "serve", "-f", spec, "--addr",
                              f"127.0.0.1:{serve_port}"))
        prometheus.targets("workers", [(f"127.0.0.1:{port}", {"pipeline": pipeline_name,
                                                               "stage": name})
                                       for name, port in worker_ports.items()])
        prometheus.targets("exporter", [(f"127.0.0.1:{exporter_port}",
                                         {"pipeline": pipeline_name})])
        prometheus.targets("intake", [(f"127.0.0.1:{serve_port}", {"pipeline": pipeline_name})])
        for port in (*worker_ports.values(), exporter_port):
            wait_until(lambda port=port: scrape_metrics(f"127.0.0.1:{port}"), 60,
                       f"/metrics on {port}")

        # Prometheus has recorded the empty DLQ before the poison comes: "DLQ growing"
        # compares with that sample.
        wait_until(lambda: prometheus.query(
            f'pipeline_stage_topic:sluice_queue_depth:max{{pipeline="{pipeline_name}",'
            f'stage="first",topic="dlq"}} == 0'), 90, "Prometheus to record the empty DLQ")

        # Half over HTTP, half with submit, and the poison among them.
        status, answer = post_jobs(serve_port, [{"payload": {"n": n}} for n in range(JOBS // 2)])
        assert status == 202, answer
        submit(spec, [{"n": n} for n in range(JOBS // 2, JOBS)])
        poison_ids = submit(spec, [f"poison {i}" for i in range(POISON)])

        try:
            wait_until(lambda: prometheus.query(
                f'max_over_time(sluice_backpressure_paused{{pipeline="{pipeline_name}",'
                f'stage="tally"}}[10m]) == 1'), 120, "tally to pause for backpressure")
        except pytest.fail.Exception as timed_out:
            # Once in a CI run (not reproduced since): say what Prometheus and the
            # broker saw, so that the next one can be explained.
            pytest.fail(f"{timed_out}\n{what_prometheus_saw(prometheus, pipeline_name)}\n"
                        f"status: {json.dumps(status_json(spec))}", pytrace=False)
        wait_until(lambda: status_json(spec)["done"] >= JOBS, 240, f"{JOBS} jobs done")
        # Rates over 1m and 5m windows need two scrapes of every series past the run.
        wait_until(lambda: prometheus.query(
            f'pipeline:sluice_done:rate1m{{pipeline="{pipeline_name}"}} > 0'), 90,
            "the done rate to be recorded")
        wait_until(lambda: prometheus.firing("SluiceDLQGrowing", pipeline=pipeline_name,
                                             stage="first"), 90, "SluiceDLQGrowing to fire")

        empty = []
        checked = 0
        for rule in recording_rules():
            result = prometheus.query(f'{rule["record"]}{{pipeline="{pipeline_name}"}}')
            checked += 1
            if not result:
                empty.append(f"recording rule {rule['record']}")
                continue
            for series in result:
                want = expected_labels(rule["record"] + " ") | {"pipeline"}
                assert want <= series["metric"].keys(), (rule["record"], series["metric"])
        for query in dashboard_queries(pipeline_name):
            result = prometheus.query(query["expr"])
            checked += 1
            if not result:
                empty.append(f"panel {query['panel']!r}: {query['expr']}")
                continue
            for series in result:
                want = expected_labels(query["expr"])
                assert want <= series["metric"].keys(), (query, series["metric"])
                if "pipeline" in series["metric"]:
                    assert series["metric"]["pipeline"] == pipeline_name, (query, series)
        for rule in alert_rules():
            prometheus.query(rule["expr"])  # valid PromQL that Prometheus evaluates
            checked += 1
        print(f"measured: {checked} expressions checked against Prometheus; empty: {empty}")
        assert not empty, "queries that returned no data:\n" + "\n".join(empty)

        if os.environ.get("SLUICE_DASHBOARD_PNG"):
            rendered = subprocess.run(
                ["/usr/bin/python3", str(repo_path() / "ops" / "grafana" / "render.py"),
                 "--prometheus", f"http://{prometheus.address}", "--start", "-4m",
                 "--pipeline", pipeline_name, "--out", os.environ["SLUICE_DASHBOARD_PNG"]],
                capture_output=True, text=True, timeout=120)
            assert rendered.returncode == 0, rendered.stderr

        # A stage whose workers stop while jobs keep arriving.
        assert workers["slow"].terminate() == 0
        submit(spec, [{"n": JOBS + n} for n in range(20)])
        wait_until(lambda: prometheus.firing("SluiceStageWithoutWorkers",
                                             pipeline=pipeline_name, stage="slow"),
                   180, "SluiceStageWithoutWorkers to fire for slow")
    finally:
        for daemon in daemons:
            daemon.stop()
        prometheus.stop()
    for worker in workers.values():
        worker.terminate()

    # Every line the workers logged is JSON; the dead letters' jobs are named in them.
    logged_jobs = set()
    lines = 0
    for worker in workers.values():
        for line in pathlib.Path(worker.stderr_path).read_text().splitlines():
            entry = json.loads(line)
            lines += 1
            assert {"time", "level", "message"} <= entry.keys(), entry
            if entry.get("error_kind"):
                logged_jobs.add(entry["job"])
    letters = run_sluice("dlq", "list", "-f", spec, "--stage", "first", "--json")
    assert letters.returncode == 0, letters.stderr
    dead = {json.loads(line)["job"] for line in letters.stdout.splitlines()}
    print(f"measured: {lines} JSON log lines; {len(dead)} dead letters, "
          f"{len(dead & logged_jobs)} of them named in the logs")
    assert dead == set(poison_ids)
    assert dead <= logged_jobs
