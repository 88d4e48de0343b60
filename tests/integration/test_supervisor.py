"""`sluice up` and `sluice scale` (issue 11) on a real broker: a supervised worker killed
-9 is restarted; `scale` up and down works live and a slow stage's throughput rises with
its workers; SIGTERM stops everything gracefully; no job is lost across these changes."""

import os
import re
import signal
import subprocess
import time

from conftest import (apply_topics, builtin_stage, exec_stage, pipeline_spec, read_done,
                      repo_path, run_sluice, sluice_path, status_json, submit, verify,
                      wait_until, write_spec)

JOBS = 2000
DELAY_MS = 20


def started_pids(log, name):
    return [int(p) for p in re.findall(rf"started {re.escape(name)} \(pid (\d+)\)", log)]


def workers_of(spec, stage):
    return next(s for s in status_json(spec)["stages"] if s["stage"] == stage)["workers"]


def done_rate(spec, seconds):
    """Records a second into <pipeline>.done over `seconds`."""
    before, start = status_json(spec)["done"], time.monotonic()
    time.sleep(seconds)  # a measurement window, not a wait for a condition
    return (status_json(spec)["done"] - before) / (time.monotonic() - start)


def test_supervise_restart_and_scale_live(broker, pipeline_name, tmp_path):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("first", "passthrough", next=["slow"]),
        exec_stage("slow", "--delay-ms", DELAY_MS)], commit_interval="200ms"))
    apply_topics(spec)
    control = tmp_path / "up.sock"
    log_path = tmp_path / "up.stderr"

    missing = run_sluice("scale", "-f", spec, "slow", "2", "--control", control)
    assert missing.returncode == 1 and "no `sluice up` answers" in missing.stderr

    with open(log_path, "wb") as log:
        up = subprocess.Popen([str(sluice_path()), "up", "-f", str(spec), "--control",
                               str(control)], stdin=subprocess.DEVNULL, stdout=log,
                              stderr=log, cwd=repo_path(), start_new_session=True)
    try:
        wait_until(lambda: workers_of(spec, "slow") == 1 and workers_of(spec, "first") == 1,
                   60, "one worker of each stage")
        job_ids = submit(spec, [{"n": n} for n in range(JOBS)])
        wait_until(lambda: status_json(spec)["done"] > 0, 60, "the first outputs")

        victim = started_pids(log_path.read_text(), "slow#0")[-1]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: len(started_pids(log_path.read_text(), "slow#0")) == 2, 30,
                   "the supervisor to restart slow#0")
        assert "slow#0 was killed by signal 9" in log_path.read_text()
        wait_until(lambda: workers_of(spec, "slow") == 1, 60, "slow#0 back in the group")

        one = done_rate(spec, 4)
        scaled = run_sluice("scale", "-f", spec, "slow", "3", "--control", control)
        assert scaled.returncode == 0, scaled.stderr
        assert scaled.stdout.strip() == "stage slow: 3 workers"
        wait_until(lambda: workers_of(spec, "slow") == 3, 60, "three workers of slow")
        three = done_rate(spec, 4)
        print(f"\nmeasured: slow stage at 1 worker {one:.0f}/s, at 3 workers {three:.0f}/s "
              f"({three / one:.2f}x)")
        assert three >= 1.8 * one, (one, three)

        refused = run_sluice("scale", "-f", spec, "slow", "4", "--control", control)
        assert refused.returncode == 2 and "0 to 3 (its partitions)" in refused.stderr
        down = run_sluice("scale", "-f", spec, "slow", "1", "--control", control)
        assert down.returncode == 0, down.stderr
        wait_until(lambda: workers_of(spec, "slow") == 1, 60, "back to one worker of slow")

        records = read_done(spec, JOBS, timeout=180)
        result = verify(job_ids, records)
        assert result.missing == 0 and result.unexpected == 0, result
    finally:
        up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=90)
    log = log_path.read_text()
    assert code == 0, log[-3000:]
    assert "supervisor: stopping" in log
    # Every worker it started has exited.
    for pid in set(re.findall(r"started \S+ \(pid (\d+)\)", log)):
        assert not os.path.exists(f"/proc/{pid}") or \
            open(f"/proc/{pid}/stat").read().split()[2] == "Z", pid


def test_autoscale_adds_workers_to_the_slow_stage_and_removes_them_after(broker, pipeline_name,
                                                                        tmp_path):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("first", "passthrough", next=["slow"]),
        exec_stage("slow", "--delay-ms", DELAY_MS, scale={"min": 1, "max": 3})],
        commit_interval="200ms"))
    apply_topics(spec)
    log_path = tmp_path / "up.stderr"
    with open(log_path, "wb") as log:
        up = subprocess.Popen([str(sluice_path()), "up", "-f", str(spec), "--control",
                               str(tmp_path / "up.sock"), "--autoscale", "--target-drain", "5s",
                               "--cool-down", "3s", "--idle-after", "5s"],
                              stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=repo_path(),
                              start_new_session=True)
    try:
        wait_until(lambda: workers_of(spec, "slow") == 1, 60, "one worker of slow")
        job_ids = submit(spec, [{"n": n} for n in range(JOBS)])
        wait_until(lambda: workers_of(spec, "slow") == 3, 90,
                   "the autoscaler to take slow to its scale.max of 3")
        records = read_done(spec, JOBS, timeout=180)
        result = verify(job_ids, records)
        assert result.missing == 0 and result.unexpected == 0, result
        wait_until(lambda: workers_of(spec, "slow") == 1, 90,
                   "the autoscaler to take the idle stage back to its scale.min")
    finally:
        up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=90)
    log = log_path.read_text()
    ups = re.findall(r"autoscale: stage slow: (\d) -> (\d) workers: its \d+ waiting records", log)
    downs = re.findall(r"autoscale: stage slow: (\d) -> (\d) workers: nothing waited", log)
    print(f"\nmeasured: autoscale decisions up {ups}, down {downs}")
    assert ups[:2] == [("1", "2"), ("2", "3")], log[-3000:]
    assert downs[-1] == ("2", "1"), log[-3000:]
    assert "autoscale: stage first" not in log  # first keeps up: never its bottleneck
    assert code == 0


def test_up_gives_each_worker_a_metrics_port_and_lists_them_for_prometheus(
        broker, pipeline_name, tmp_path):
    """--metrics-addr: a port per worker, from the base up by stage; --targets-file: the
    running workers as Prometheus file_sd, rewritten when `scale` changes them."""
    from conftest import free_port, scrape_metrics
    import json
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("first", "passthrough", next=["second"]),
        builtin_stage("second", "passthrough")], partitions=2))
    apply_topics(spec)
    base = free_port()
    targets = tmp_path / "up-targets.json"
    control = tmp_path / "up.sock"
    with open(tmp_path / "up.stderr", "wb") as log:
        up = subprocess.Popen([str(sluice_path()), "up", "-f", str(spec), "--control",
                               str(control), "--metrics-addr", f"127.0.0.1:{base}",
                               "--targets-file", str(targets)],
                              stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                              cwd=repo_path(), start_new_session=True)

    def listed():
        try:
            return {g["labels"]["worker"]: g["targets"][0]
                    for g in json.loads(targets.read_text())}
        except (OSError, ValueError):
            return None

    try:
        # first#0 at the base; second's workers after first's 2 partitions.
        want = {"first#0": f"127.0.0.1:{base}", "second#0": f"127.0.0.1:{base + 2}"}
        wait_until(lambda: listed() == want, 60, f"the targets file to list {want}")
        for worker, address in want.items():
            samples = wait_until(lambda a=address: scrape_metrics(a), 30, f"/metrics of {worker}")
            stages = {labels.get("stage") for _, labels, _ in samples}
            assert worker.split("#")[0] in stages, (worker, stages)
        scaled = run_sluice("scale", "-f", spec, "second", "2", "--control", control)
        assert scaled.returncode == 0, scaled.stderr
        want["second#1"] = f"127.0.0.1:{base + 3}"
        wait_until(lambda: listed() == want, 60, "second#1 listed")
        scaled = run_sluice("scale", "-f", spec, "first", "0", "--control", control)
        assert scaled.returncode == 0, scaled.stderr
        del want["first#0"]
        wait_until(lambda: listed() == want, 60, "first#0 no longer listed")
    finally:
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=90) == 0
