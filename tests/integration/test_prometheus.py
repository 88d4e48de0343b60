"""A real Prometheus scrapes a worker's /metrics: the documented metric names arrive
with their labels, and the task counter it stores matches the jobs that went
through."""

import json
import shutil
import subprocess
import urllib.parse
import urllib.request

from conftest import (
    apply_topics, builtin_stage, free_port, pipeline_spec, read_done, submit, terminate,
    wait_until, write_spec)

JOBS = 500
STAGE = "count"


def query(prometheus, promql):
    url = f"http://{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.load(response)
    except OSError:
        return None
    return body["data"]["result"] if body.get("status") == "success" else None


def scalar(result):
    return float(result[0]["value"][1]) if result else None


def start_prometheus(tmp_path, target):
    binary = shutil.which("prometheus")
    assert binary, "prometheus is not installed: ops/setup.sh installs Debian's package"
    config = tmp_path / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1s}\n"
                      "scrape_configs:\n"
                      f"  - job_name: sluice\n    static_configs: [{{targets: ['{target}']}}]\n")
    address = f"127.0.0.1:{free_port()}"
    with open(tmp_path / "prometheus.log", "w") as log:
        process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address={address}"], stdout=log, stderr=subprocess.STDOUT)
    return process, address


def test_prometheus_scrapes_worker_metrics(broker, pipeline_name, tmp_path, start_worker):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage(STAGE, "tag"),
    ], partitions=3))
    apply_topics(spec)
    metrics = f"127.0.0.1:{free_port()}"
    worker = start_worker(spec, STAGE, "--metrics-addr", metrics)
    prometheus, address = start_prometheus(tmp_path, metrics)
    try:
        submit(spec, [{"n": i} for i in range(JOBS)])
        read_done(spec, JOBS)
        ok = f'sum(sluice_tasks_total{{pipeline="{pipeline_name}",stage="{STAGE}",outcome="ok"}})'
        wait_until(lambda: scalar(query(address, ok)) == JOBS, 60,
                   f"Prometheus to store {JOBS} ok tasks")
        for name in ("sluice_queue_depth", "sluice_task_duration_seconds_count",
                     "sluice_end_to_end_seconds_count", "sluice_inflight_tasks",
                     "sluice_backpressure_paused", "sluice_stage_workers", "sluice_circuit_open"):
            selector = f'{name}{{pipeline="{pipeline_name}",stage="{STAGE}"}}'
            wait_until(lambda: query(address, selector), 30, f"{name} in Prometheus")
        depth = query(address, f'sluice_queue_depth{{pipeline="{pipeline_name}",stage="{STAGE}"}}')
        depth_roles = {r["metric"]["topic"] for r in depth or []}
        assert depth_roles == {"input", "retry", "dlq"}
        stage = f'pipeline="{pipeline_name}",stage="{STAGE}"'
        outcomes = {r["metric"]["outcome"]: float(r["value"][1])
                    for r in query(address, f'sluice_tasks_total{{{stage}}}') or []}
        assert outcomes == {"ok": JOBS, "retried": 0, "dead_lettered": 0}
        assert scalar(query(address, f'sluice_circuit_open{{{stage}}}')) == 0
        durations = scalar(query(address, f'sum(sluice_task_duration_seconds_count'
                                          f'{{pipeline="{pipeline_name}",stage="{STAGE}"}})'))
        print(f"\nmeasured: Prometheus stored {JOBS} ok tasks, {durations} duration samples,"
              f" queue depth roles {sorted(depth_roles)}")
        assert durations == JOBS
    finally:
        terminate(prometheus)
    assert worker.terminate(timeout=40) == 0, worker.stderr_tail()
