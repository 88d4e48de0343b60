"""Fixtures and helpers for Sluice's black-box integration tests.

Tests drive the `sluice` binary the way a user does, against the one real broker that
a ctest fixture starts: `kafka_broker` (label integration, kafka.sh's default Kafka) or
`kafka4_broker` (label kafka4); see CMakeLists.txt here. Standard library only: what a
test learns about Kafka it learns through the CLI.

Environment (set by sluice_pytest() in CMakeLists.txt):
  SLUICE_BIN            the sluice binary
  SLUICE_BROKER_FILE    file holding the broker's bootstrap address (host:port)
  SLUICE_KAFKA_VERSION  the Kafka version the broker must run (label kafka4: 4.1.1);
                        empty or unset: any (label integration: kafka.sh's default)
  SLUICE_REPO           the source tree; every sluice process runs there, so a spec can
                        name `examples/agents/...` as in the README
To run a file by hand, start a broker with `ops/kafka/kafka.sh start [--version V]` and
point SLUICE_BROKER_FILE at ~/.cache/sluice/local-kafka/bootstrap.

Each test gets its own pipeline (`pipeline_name`), hence its own topics and groups, so
tests can share the broker and run in parallel. Fixtures: broker,
pipeline_name, start_worker. Helpers: `from conftest import write_spec, run_sluice,
submit, wait_until, read_done, verify, sluice_verify, Worker`, and for specs, status,
metrics and the broker's own view: pipeline_spec, exec_stage, builtin_stage, passthrough_pipeline,
status_json, done_at_least, tail_records, read_settled_done, free_port, scrape_metrics,
metric_total, kafka_topics, broker_version, raw_produce, open_transaction, tool_path. Brokers of a test's own:
OwnBroker (fixture own_broker) and the 3-node KafkaCluster (fixture kafka_cluster).
"""

import collections
import dataclasses
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

_LOG_TAIL_LINES = 40
_WORKERS = pytest.StashKey[list]()


# --- environment -----------------------------------------------------------------


def _env_path(name, hint):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set ({hint})", pytrace=False)
    return pathlib.Path(value)


def sluice_path():
    path = _env_path("SLUICE_BIN", "run through ctest, or set it to the sluice binary")
    if not os.access(path, os.X_OK):
        pytest.fail(f"SLUICE_BIN={path} is not an executable; build first", pytrace=False)
    return path


def repo_path():
    value = os.environ.get("SLUICE_REPO")
    return pathlib.Path(value) if value else pathlib.Path(__file__).resolve().parents[2]


def _broker_file():
    return _env_path("SLUICE_BROKER_FILE", "run through ctest, or see conftest.py")


def broker_version():
    """The Kafka version of the test broker, as `kafka.sh start` wrote it beside the
    bootstrap file (DIR/version); None when there is no such file."""
    path = _broker_file().with_name("version")
    return path.read_text().strip() if path.is_file() else None


@pytest.fixture(scope="session")
def broker():
    """The bootstrap address of the shared test broker, "host:port". When
    SLUICE_KAFKA_VERSION is set, the broker must run that Kafka version."""
    path = _broker_file()
    if not path.is_file():
        pytest.fail(f"no broker: {path} does not exist (is the ctest fixture "
                    f"kafka_broker or kafka4_broker up?)", pytrace=False)
    address = path.read_text().strip()
    if not re.fullmatch(r"[\w.-]+:\d+", address):
        pytest.fail(f"{path}: expected host:port, got {address!r}", pytrace=False)
    expected, running = os.environ.get("SLUICE_KAFKA_VERSION"), broker_version()
    if expected and running != expected:
        pytest.fail(f"SLUICE_KAFKA_VERSION={expected}, but the broker at {address} runs "
                    f"Kafka {running or '(no version file)'} (from {path.parent})",
                    pytrace=False)
    return address


@pytest.fixture
def pipeline_name():
    """A fresh pipeline name per test, e.g. it-1a2b3c4d: fresh topics and groups."""
    return f"it-{secrets.token_hex(4)}"


# --- specs and one-shot commands ---------------------------------------------------


def write_spec(tmp_path, spec, name="pipeline.yaml"):
    """Writes a pipeline spec (YAML text, or a dict written as JSON, which is YAML too)
    into tmp_path and returns its path."""
    path = pathlib.Path(tmp_path) / name
    text = spec if isinstance(spec, str) else json.dumps(spec, indent=2)
    path.write_text(text if text.endswith("\n") else text + "\n")
    return path


# Defaults that keep tests fast: short backoff, short per-attempt timeout.
FAST_DEFAULTS = {
    "partitions": 3,
    "timeout": "10s",
    "retry": {"max_attempts": 5, "backoff": "100ms", "max_backoff": "1s"},
}
# Absolute: a relative path in `command` resolves against the spec file's
# directory, and test specs live in tmp_path.
APPEND_AGENT = str(repo_path() / "examples/agents/append_stage.py")


def pipeline_spec(name, broker, stages, **defaults):
    """A spec dict: pipeline `name` on `broker`, FAST_DEFAULTS overridden by `defaults`,
    and `stages` (dicts, e.g. from exec_stage() and builtin_stage()). Write it with
    write_spec()."""
    return {"pipeline": name, "kafka": {"brokers": broker},
            "defaults": {**FAST_DEFAULTS, **defaults}, "stages": list(stages)}


def exec_stage(name, *agent_args, next=(), **fields):
    """An exec stage running examples/agents/append_stage.py NAME AGENT_ARGS..., which
    appends NAME to payload["stages"] (see that file for --crash-every, --delay-ms,
    --concurrency)."""
    stage = {"name": name, "kind": "exec",
             "command": ["python3", APPEND_AGENT, name, *map(str, agent_args)], **fields}
    if next:
        stage["next"] = list(next)
    return stage


def builtin_stage(name, builtin, next=(), **fields):
    stage = {"name": name, "kind": "builtin", "builtin": builtin, **fields}
    if next:
        stage["next"] = list(next)
    return stage


def run_sluice(*args, input=None, timeout=60):
    """Runs `sluice ARGS...` to completion and returns the CompletedProcess (text mode,
    stdout and stderr captured). Does not check the exit code; fails the test if the
    command is still running after `timeout` seconds."""
    cmd = [str(sluice_path()), *map(str, args)]
    try:
        return subprocess.run(cmd, input=input, capture_output=True, text=True,
                              timeout=timeout, cwd=repo_path(),
                              stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        stderr = _text(e.stderr)
    pytest.fail(f"`{' '.join(cmd)}` still running after {timeout}s; stderr: {stderr[-2000:]}",
                pytrace=False)


def wait_or_kill(proc, timeout):
    """Waits for a Popen'd process to exit and returns its exit code; kills it if the
    wait raises (a timeout fails the test), so that no process outlives the test."""
    try:
        return proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def terminate(proc, timeout=30):
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds; a process
    that already exited is left as it is."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def apply_topics(spec):
    """`sluice topics apply -f SPEC`, which must succeed."""
    applied = run_sluice("topics", "apply", "-f", spec)
    assert applied.returncode == 0, applied.stderr
    return applied


def passthrough_pipeline(tmp_path, pipeline_name, broker):
    """A one-stage pipeline (`only`, builtin passthrough, one partition), its topics
    applied; returns the spec's path."""
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("only", "passthrough")], partitions=1))
    apply_topics(spec)
    return spec


def submit(spec, payloads, *args, timeout=120):
    """Submits payloads (JSON values) as JSON lines on stdin; returns the job ids that
    `sluice submit` prints, one per line, in submission order."""
    lines = "".join(json.dumps(p) + "\n" for p in payloads)
    result = run_sluice("submit", "-f", spec, *args, "-", input=lines, timeout=timeout)
    if result.returncode != 0:
        pytest.fail(f"sluice submit exited {result.returncode}: {result.stderr.strip()}",
                    pytrace=False)
    ids = result.stdout.split()
    if len(ids) != len(payloads):
        pytest.fail(f"sluice submit printed {len(ids)} job ids for {len(payloads)} jobs",
                    pytrace=False)
    return ids


def status_json(spec, timeout=60):
    """`sluice status -f SPEC --json`, parsed: {"pipeline", "stages": [{"stage", "group",
    "workers", "queue": {"input"|"retry"|"dlq": {"topic", "depth"}}}], "done"}."""
    result = run_sluice("status", "-f", spec, "--json", timeout=timeout)
    if result.returncode != 0:
        pytest.fail(f"sluice status exited {result.returncode}: {result.stderr.strip()}",
                    pytrace=False)
    lines = result.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as e:
        pytest.fail(f"sluice status --json: not JSON ({e}): {result.stdout[:300]!r}",
                    pytrace=False)


def input_depth(spec, stage):
    """Records waiting in `stage`'s input topic, as `sluice status` counts them."""
    return next(s for s in status_json(spec)["stages"]
                if s["stage"] == stage)["queue"]["input"]["depth"]


def done_at_least(spec, count):
    """How many records <pipeline>.done holds (per `sluice status`) when that is at
    least `count`, else None: a predicate for wait_until()."""
    done = status_json(spec)["done"]
    return done if done >= count else None


def _text(data):
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


# --- waiting -----------------------------------------------------------------------


def wait_until(predicate, timeout, what, interval=0.2):
    """Polls predicate() until it returns something truthy, and returns that. Fails the
    test with "timed out after Ns waiting for WHAT" at the deadline. Use it instead of
    sleeping: a sleep only guesses how long a condition takes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}", pytrace=False)
        time.sleep(interval)


# --- workers -----------------------------------------------------------------------


class Worker:
    """A `sluice run -f SPEC --stage NAME` process in its own process group (so that
    kill() also takes its exec children), with stdout and stderr in files under log_dir.
    Prefer the `start_worker` fixture, which guarantees cleanup."""

    def __init__(self, spec, stage, log_dir, *args):
        self.stage = stage
        self.cmd = [str(sluice_path()), "run", "-f", str(spec), "--stage", stage,
                    *map(str, args)]
        log_dir = pathlib.Path(log_dir)
        n = sum(1 for _ in log_dir.glob(f"worker-{stage}-*.stderr"))
        self.stdout_path = log_dir / f"worker-{stage}-{n}.stdout"
        self.stderr_path = log_dir / f"worker-{stage}-{n}.stderr"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, cwd=repo_path(),
                                         start_new_session=True)
        self.pid = self.proc.pid

    def running(self):
        return self.proc.poll() is None

    def terminate(self, timeout=30):
        """Graceful stop: SIGTERM to the worker alone (it stops its own children), then
        waits. Fails the test if it has not exited after `timeout` seconds. Returns the
        exit code."""
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stacks = self.stacks()
            self.kill()
        else:
            self._kill_group()  # children a clean exit should have reaped, if any
            return self.proc.returncode
        stacks_path = self.stderr_path.with_suffix(".stacks")
        stacks_path.write_text("\n\n".join(stacks))
        # The threads in Sluice's own code first: librdkafka's dozens of broker threads
        # would push them out of a CI log's excerpt (the whole set is in the file).
        ours = [t for t in stacks if "sluice::" in t] or stacks
        log_tail = "".join(self.stderr_path.read_text(errors="replace").splitlines(True)[-15:])
        pytest.fail(f"worker {self.stage} (pid {self.pid}) still running {timeout}s after "
                    f"SIGTERM; killed it. Its last log lines:\n{log_tail}\nIts threads in "
                    f"sluice code (all of them: {stacks_path}):\n" + "\n".join(ours),
                    pytrace=False)

    def stacks(self):
        """Every thread's backtrace (gdb, when the machine has it), one string a thread:
        what a hung worker waits on."""
        if not shutil.which("gdb"):
            return ["(no gdb here)"]
        try:
            result = subprocess.run(["gdb", "-p", str(self.pid), "-batch", "-nx",
                                     "-ex", "thread apply all bt"],
                                    capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return ["(gdb did not answer within 120 s)"]
        threads = []
        for line in result.stdout.splitlines():
            if line.startswith("Thread "):
                threads.append(line)
            elif line.startswith("#") and threads:
                threads[-1] += "\n" + line
        return threads

    def kill(self):
        """A crash: SIGKILL to the worker and its children. Returns the exit code."""
        self._kill_group()
        return self.proc.wait(timeout=30)

    def crash(self):
        """kill -9 of the worker process alone, as a user or the OOM killer would; its
        exec children live on until they notice (see group_processes()). Returns the
        exit code."""
        if self.running():
            os.kill(self.pid, signal.SIGKILL)
        return self.proc.wait(timeout=30)

    def group_processes(self):
        """Pids of the live (not zombie) processes left in the worker's process group:
        the worker and the exec children it started."""
        return group_processes(self.pid)

    def _kill_group(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # the whole group is gone already

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")

    def stderr_tail(self, lines=_LOG_TAIL_LINES):
        return "\n".join(self.stderr().splitlines()[-lines:])

    def __repr__(self):
        state = "running" if self.running() else f"exited {self.proc.returncode}"
        return f"Worker({self.stage}, pid {self.pid}, {state})"


def group_processes(pgid):
    """Pids of the live (not zombie) processes in process group `pgid`."""
    pids = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


@pytest.fixture
def start_worker(request, tmp_path):
    """start_worker(spec, stage, *args) -> Worker. Every worker still running when the
    test ends is killed; the stderr of each is attached to a failed test's report."""
    workers = request.node.stash.setdefault(_WORKERS, [])

    def start(spec, stage, *args):
        worker = Worker(spec, stage, tmp_path, *args)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.kill()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for worker in item.stash.get(_WORKERS, []):
            report.sections.append((f"{worker!r} stderr (last {_LOG_TAIL_LINES} lines)",
                                    worker.stderr_tail()))


# --- metrics -----------------------------------------------------------------------


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_SAMPLE = re.compile(r'^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape_metrics(address, timeout=5):
    """GET http://ADDRESS/metrics: a list of (name, {label: value}, float), or None when
    nothing answers there (yet)."""
    try:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=timeout) as r:
            text = r.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    samples = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match and not line.startswith("#"):
            labels = dict(_LABEL.findall(match.group(2) or ""))
            samples.append((match.group(1), labels, float(match.group(3))))
    return samples


def metric_total(address, name, **labels):
    """The sum of metric `name` over the series at ADDRESS whose labels include
    `labels`; fails the test if the endpoint does not answer."""
    samples = scrape_metrics(address)
    if samples is None:
        pytest.fail(f"no /metrics at {address}", pytrace=False)
    return sum(value for n, have, value in samples
               if n == name and all(have.get(k) == v for k, v in labels.items()))


# --- the broker's own view ---------------------------------------------------------


_TOPIC_LINE = re.compile(r"^Dynamic configs for topic (\S+) are:", re.M)


def kafka_topics(broker, timeout=60):
    """Every topic on the broker, as Kafka's own admin tool lists them (kafka-configs
    --describe --entity-type topics, i.e. kafka.admin.ConfigCommand, run by `kafka.sh
    run` on the jars of the broker's version): independent of sluice and librdkafka."""
    version = broker_version()
    cmd = ["bash", str(repo_path() / "ops" / "kafka" / "kafka.sh"), "run",
           *(("--version", version) if version else ()), "kafka.admin.ConfigCommand",
           "--bootstrap-server", broker, "--describe", "--entity-type", "topics"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        pytest.fail(f"kafka-configs exited {result.returncode}: {result.stderr[-1000:]}",
                    pytrace=False)
    return set(_TOPIC_LINE.findall(result.stdout))


def alter_topic_config(broker, topic, config, timeout=60):
    """Sets `config` ("name=value,...") on `topic` with Kafka's own admin tool
    (kafka.admin.ConfigCommand --alter), as an operator would."""
    version = broker_version()
    cmd = ["bash", str(repo_path() / "ops" / "kafka" / "kafka.sh"), "run",
           *(("--version", version) if version else ()), "kafka.admin.ConfigCommand",
           "--bootstrap-server", broker, "--alter", "--entity-type", "topics",
           "--entity-name", topic, "--add-config", config]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        pytest.fail(f"kafka-configs --alter exited {result.returncode}: "
                    f"{result.stderr[-1000:]}", pytrace=False)


def tool_path(env_name, name):
    """A helper binary of tests/integration (see CMakeLists.txt there): $ENV_NAME, else
    NAME beside the sluice binary's build tree."""
    return os.environ.get(env_name) or str(sluice_path().parents[1] / "tests/integration" / name)


def open_transaction(broker, topic, key, value, timeout_ms, group=None, offset=None):
    """Leaves a transaction open on `topic` holding one record and, given `group`, a
    commit of `offset` on partition 0 of `topic` for that group (see
    tests/support/open_transaction.cc); the broker aborts it some time after
    `timeout_ms`."""
    args = [tool_path("SLUICE_OPEN_TRANSACTION", "sluice_open_transaction"), broker, topic,
            key, str(timeout_ms)]
    if group is not None:
        args += [group, str(offset)]
    result = subprocess.run(args, input=value, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")


def raw_produce(broker, topic, key, value):
    """Writes `value` (bytes) to `topic` as a foreign producer would: no envelope."""
    result = subprocess.run([tool_path("SLUICE_RAW_PRODUCE", "sluice_raw_produce"), broker,
                             topic, key], input=value, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")


# --- reading and checking results --------------------------------------------------


def tail_records(spec, *selector, max_records=None, idle_timeout="10s", timeout=60):
    """`sluice tail -f SPEC SELECTOR... --from-beginning`, e.g. selector ("--dlq", NAME):
    the records as dicts, read until `max_records` or `idle_timeout` without one."""
    limit = () if max_records is None else ("--max", max_records)
    result = run_sluice("tail", "-f", spec, *selector, "--from-beginning", *limit,
                        "--idle-timeout", idle_timeout, timeout=timeout)
    if result.returncode != 0:
        pytest.fail(f"sluice tail exited {result.returncode}: {result.stderr.strip()}",
                    pytrace=False)
    records = []
    for n, line in enumerate(result.stdout.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            pytest.fail(f"sluice tail, line {n}: not JSON ({e}): {line[:200]!r}",
                        pytrace=False)
    return records


def read_done(spec, expected_count, timeout=120):
    """Reads <pipeline>.done from the beginning with `sluice tail --done`, until it has
    seen `expected_count` distinct job ids or `timeout` seconds have passed, and returns
    every record read (dicts with at least job_id, key, task_id, payload, partition,
    offset), duplicates included, but only those read before the last job's first
    copy: to count every duplicate, use read_settled_done() next. Check them with
    verify()."""
    deadline = time.monotonic() + timeout
    max_records = expected_count
    while True:
        remaining = deadline - time.monotonic()
        # At least long enough for tail's own 10 s idle timeout to end the read.
        records = tail_records(spec, "--done", max_records=max_records,
                               timeout=max(remaining, 30))
        distinct = len({r["job_id"] for r in records})
        if distinct >= expected_count or time.monotonic() >= deadline:
            return records
        if len(records) >= max_records:
            # --max cut the read short because some jobs came out more than once:
            # read again with room for those duplicates.
            max_records = expected_count + (len(records) - distinct)
        # Otherwise tail went idle before all jobs were done: read again.


def _unsettled(status):
    """Stages with input not yet committed: tasks queued, running or awaiting a retry."""
    return {s["stage"]: s["queue"]["input"]["depth"] for s in status["stages"]
            if s["queue"]["input"]["depth"] or s["queue"]["retry"]["depth"]}


def read_settled_done(spec, timeout=120):
    """Every record of <pipeline>.done, once the pipeline has settled. read_done() stops
    at the first copy of each job, so it cannot see a duplicate that comes out after
    every job did (work redone after a restart); to count duplicates, first let
    read_done() see every job, then call this. It waits until every stage has
    committed all of its input (nothing queued, running or awaiting a retry; outputs
    are acknowledged before their input is committed), then reads exactly as many
    records as `status` counts in .done."""
    status = wait_until(lambda: (lambda st: None if _unsettled(st) else st)(
        status_json(spec)), timeout, "every stage to commit all of its input")
    records = tail_records(spec, "--done", max_records=status["done"], timeout=timeout)
    if len(records) != status["done"]:
        pytest.fail(f"sluice tail --done read {len(records)} records; status counts "
                    f"{status['done']}", pytrace=False)
    return records


@dataclasses.dataclass(frozen=True)
class Verification:
    """What came out against what went in. duplicates counts extra copies (a job seen
    three times adds 2); unexpected counts records of jobs never submitted."""
    missing: int
    duplicates: int
    unexpected: int
    examples: str = ""

    @property
    def ok(self):
        return self.missing == 0 and self.duplicates == 0 and self.unexpected == 0

    def __str__(self):
        return (f"missing {self.missing}, duplicates {self.duplicates}, "
                f"unexpected {self.unexpected}{self.examples}")


def sluice_verify(spec, ids_file, *args, timeout=120):
    """`sluice verify -f SPEC --jobs IDS_FILE --json ARGS...`: (exit code, the report as a
    dict). Fails the test unless it exits 0 or 1 with one JSON line."""
    result = run_sluice("verify", "-f", spec, "--jobs", ids_file, "--json", *args,
                        timeout=timeout)
    lines = result.stdout.splitlines()
    if result.returncode not in (0, 1) or len(lines) != 1:
        pytest.fail(f"sluice verify exited {result.returncode} with {result.stdout[:300]!r}: "
                    f"{result.stderr.strip()}", pytrace=False)
    return result.returncode, json.loads(lines[0])


def verify(submitted_job_ids, done_records):
    """Compares the submitted job ids with the job ids of the records that came out (of
    .done, plus any dead letters the caller adds)."""
    submitted = set(submitted_job_ids)
    seen = collections.Counter(r["job_id"] for r in done_records)
    missing = sorted(submitted - seen.keys())
    duplicated = sorted(j for j, n in seen.items() if n > 1 and j in submitted)
    unexpected = sorted(seen.keys() - submitted)
    examples = "".join(f"; {name} e.g. {ids[:5]}" for name, ids in
                       (("missing", missing), ("duplicated", duplicated),
                        ("unexpected", unexpected)) if ids)
    return Verification(
        missing=len(missing),
        duplicates=sum(seen[j] - 1 for j in duplicated),
        unexpected=sum(seen[j] for j in unexpected),
        examples=examples)


def assert_exactly_once(spec, job_ids, records, tmp_path):
    """Every submitted job in the done `records` read (read_done()), and then, by
    `sluice verify` over every record of done (read_committed), none lost,
    duplicated or unexpected. Returns what was measured, for the test's log."""
    result = verify(job_ids, records)
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("".join(f"{job_id}\n" for job_id in job_ids))
    code, report = sluice_verify(spec, ids_file)
    assert result.missing == 0 and result.unexpected == 0, result
    assert code == 0, report
    return f"{len(records)} done records: {result}; sluice verify: {report}"


def keys_off_their_prefix(job_ids, payloads, records, field, expected):
    """The keys (payload[`field`]) of whose jobs, taken in submission order, some
    output's payload is not expected(inputs so far): {key: (input, output)} for
    the first such job of each. `expected(prefix)` gets the payloads of the key's
    jobs up to and including this one; `records` are done records."""
    output_of = {r["job_id"]: r["payload"] for r in records}
    prefixes = collections.defaultdict(list)
    wrong = {}
    for job_id, payload in zip(job_ids, payloads):
        key = payload[field]
        prefixes[key].append(payload)
        if key not in wrong and output_of[job_id] != expected(prefixes[key]):
            wrong[key] = (payload, output_of[job_id])
    return wrong


def counted(prefix):
    """What builtin count makes of a key's latest job: it, with the key's count so far
    (for keys_off_their_prefix())."""
    return {**prefix[-1], "count": len(prefix)}


# --- a broker of one's own ---------------------------------------------------------


def kafka_sh(directory, *args, timeout=120):
    """`kafka.sh ARGS... --dir DIRECTORY` on the shared broker's Kafka version, which
    must succeed; returns its stdout, stripped."""
    version = broker_version()
    cmd = ["bash", str(repo_path() / "ops" / "kafka" / "kafka.sh"), *map(str, args),
           "--dir", str(directory)]
    env = {**os.environ, **({"SLUICE_KAFKA_VERSION": version} if version else {})}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL, env=env)
    if result.returncode != 0:
        pytest.fail(f"`kafka.sh {' '.join(map(str, args))}` exited {result.returncode}: "
                    f"{result.stderr[-1000:]}", pytrace=False)
    return result.stdout.strip()


class OwnBroker:
    """A broker that one test starts and stops as it likes (`kafka.sh start/stop` in its
    own directory, same Kafka version as the shared one), to see what the CLI does when
    Kafka goes away mid-way. Its address stays the same across restarts, and so does
    its data."""

    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"

    def start(self):
        kafka_sh(self.directory, "start", "--port", self.port)

    def stop(self, clean=False):
        kafka_sh(self.directory, "stop", *(("--clean",) if clean else ()))


@pytest.fixture
def own_broker(tmp_path):
    """An OwnBroker, started; stopped and wiped when the test ends."""
    own = OwnBroker(tmp_path / "own-kafka")
    own.start()
    yield own
    own.stop(clean=True)


class KafkaCluster:
    """A 3-node cluster (`kafka.sh start --nodes 3`: replication 3, min.insync.replicas
    2) that one test starts in its own directory, on free ports and the shared broker's
    Kafka version, to stop, kill -9 and restart its nodes (numbered 1..3) mid-way. A
    node keeps its address and data across restarts; `bootstrap` lists all three."""

    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.bootstrap = None

    def start(self):
        """Returns once every node answers (up to kafka.sh's 60 s each)."""
        self.bootstrap = kafka_sh(self.directory, "start", "--nodes", 3, timeout=240)

    def stop(self, clean=False):
        kafka_sh(self.directory, "stop", *(("--clean",) if clean else ()))

    def stop_node(self, node):
        kafka_sh(self.directory, "stop-node", node)

    def kill_node(self, node):
        kafka_sh(self.directory, "kill-node", node)

    def start_node(self, node):
        """Returns once the node answers: it has caught up with the cluster's metadata
        and the controller took it back; its replicas catch up afterwards (isr())."""
        kafka_sh(self.directory, "start-node", node, timeout=180)

    def leader(self, topic, partition):
        """The number of the node that leads the partition, per the cluster's metadata."""
        return int(kafka_sh(self.directory, "leader", topic, partition))

    def isr(self, topic, partition):
        """The numbers of the partition's in-sync nodes, in order."""
        return [int(n) for n in kafka_sh(self.directory, "isr", topic, partition).split(",")]


@pytest.fixture
def kafka_cluster(tmp_path):
    """A KafkaCluster, started; stopped and wiped when the test ends."""
    cluster = KafkaCluster(tmp_path / "kafka-cluster")
    started = time.monotonic()
    cluster.start()
    print(f"\nmeasured: 3-node cluster started in {time.monotonic() - started:.1f}s")
    yield cluster
    cluster.stop(clean=True)
