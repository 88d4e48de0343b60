"""The chaos harness (issue 9): a 3-stage pipeline under kill -9 of its workers, and
the accounting of what came out. Standard library only, like conftest.

    FIRST (exec, examples/agents/append_stage.py) -> MIDDLE (builtin passthrough)
      -> LAST (exec, tests/integration/agents/fate_agent.py) -> <p>.done

Both exec stages take a few ms a task (Plan.first_delay_ms, last_delay_ms) on
Plan.concurrency threads, so that work is in flight whenever a worker dies. With
Plan.failures == "mix", 1% of jobs are poison (LAST fails them on every attempt: they
end in LAST's dead letters after max_attempts) and 5% transient (LAST fails their
first two attempts).

    result = run_chaos(Plan(guarantee="at_least_once", victim=MIDDLE, kills=5),
                       tmp_path, pipeline_name, broker, start_worker)

starts Plan.workers[stage] workers per stage, submits Plan.jobs jobs, and has a
Killer kill -9 a worker of the victim stage Plan.kills times while they flow,
restarting it each time; then waits (bounded) until every job is accounted for and
returns a ChaosResult: the kills, the accounting, the longest stall of done.

Where the moments come from: kill k waits until done passes a point drawn at random
(seeded: the seed is printed; SLUICE_CHAOS_SEED=N replays a run's points) in the
k-th of Plan.kills equal slices of the run, and until the worker to kill has completed
tasks (per its /metrics: after a restart, it rejoined and works). Every wait has a
deadline.
"""

import collections
import dataclasses
import json
import os
import pathlib
import random
import subprocess
import threading
import time

import pytest

from conftest import (
    APPEND_AGENT, apply_topics, builtin_stage, free_port, pipeline_spec,
    read_done, read_settled_done, repo_path, run_sluice, scrape_metrics, sluice_path,
    status_json, submit, tail_records, verify, wait_until, write_spec)

FIRST, MIDDLE, LAST = "first", "middle", "last"
STAGES = (FIRST, MIDDLE, LAST)
FATE_AGENT = str(repo_path() / "tests/integration/agents/fate_agent.py")
# The engine's commit interval under at_least_once (WorkerOptions::commit_interval).
COMMIT_INTERVAL_S = 1.0


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a chaos run does. workers: how many workers each stage runs."""
    guarantee: str = "at_least_once"       # or exactly_once
    failures: str = "none"                 # or "mix": 1% poison, 5% transient at LAST
    jobs: int = 20_000
    victim: str = MIDDLE                   # whose worker is killed
    kills: int = 5
    workers: dict = dataclasses.field(default_factory=lambda: {s: 1 for s in STAGES})
    concurrency: int = 8                   # per exec worker, engine and agent alike
    first_delay_ms: int = 15
    last_delay_ms: int = 5
    partitions: int = 3
    replication: int = 1                   # 3 on the 3-node cluster (test_chaos_brokers)
    keys: int = 997
    max_attempts: int = 4
    # Kills fall in (start, end) of the run, as fractions of the jobs done.
    kill_span: tuple = (0.05, 0.8)
    # A dead member holds its group's rebalance until its session times out: the
    # broker's minimum (6 s) rather than the engine's 10 s keeps 5 kills in budget.
    session_timeout_ms: int = 6000
    timeout_s: float = 240                 # for the run to end once the kills are done

    def max_rate(self, stage):
        """Tasks a second one worker of an exec stage can complete at most: each takes
        at least its delay, on one of `concurrency` threads. None for the builtin."""
        delay = {FIRST: self.first_delay_ms, LAST: self.last_delay_ms}.get(stage)
        return None if delay is None else self.concurrency * 1000 / delay

    def fate(self, n):
        if self.failures == "none":
            return "ok"
        assert self.failures == "mix", self.failures
        return "always" if n % 100 == 0 else "twice" if n % 100 <= 5 else "ok"


def seed_for_run():
    """SLUICE_CHAOS_SEED if set (to replay a run), else a fresh one; printed."""
    value = os.environ.get("SLUICE_CHAOS_SEED")
    seed = int(value) if value else random.SystemRandom().randrange(1 << 32)
    print(f"\nchaos: seed {seed} (SLUICE_CHAOS_SEED={seed} replays the kill points)")
    return seed


# --- the pipeline ------------------------------------------------------------------


def chaos_spec(tmp_path, pipeline_name, broker, plan):
    """Writes the 3-stage spec and applies its topics; returns its path."""
    c = str(plan.concurrency)
    first = {"name": FIRST, "kind": "exec", "concurrency": plan.concurrency,
             "command": ["python3", APPEND_AGENT, FIRST, "--delay-ms",
                         str(plan.first_delay_ms), "--concurrency", c],
             "next": [MIDDLE],
             # Every job is submitted before the first kill: the entry stage admits
             # them all at once (a high watermark of 10,000 made `submit` wait for
             # room, and the kill points fell behind the run). Between the stages,
             # backpressure keeps its defaults.
             "backpressure": {"high_watermark": 10 * plan.jobs,
                              "low_watermark": plan.jobs}}
    last = {"name": LAST, "kind": "exec", "concurrency": plan.concurrency,
            "command": ["python3", FATE_AGENT, LAST, "--delay-ms", str(plan.last_delay_ms),
                        "--concurrency", c]}
    spec = pipeline_spec(pipeline_name, broker, [
        first, builtin_stage(MIDDLE, "passthrough", next=[LAST]), last],
        partitions=plan.partitions, replication=plan.replication, guarantee=plan.guarantee,
        retry={"max_attempts": plan.max_attempts, "backoff": "100ms", "max_backoff": "1s"})
    spec["kafka"]["properties"] = {"session.timeout.ms": str(plan.session_timeout_ms),
                                   "heartbeat.interval.ms": "1000"}
    path = write_spec(tmp_path, spec)
    apply_topics(path)
    return path


_RUN_HELP = {}


def run_supports(option):
    """Whether `sluice run` takes `option` (e.g. --instance), per its --help."""
    if option not in _RUN_HELP:
        _RUN_HELP[option] = option in run_sluice("run", "--help").stdout
    return _RUN_HELP[option]


class Pipeline:
    """The workers of a chaos run, by stage and slot, each with a /metrics address. A
    slot keeps its instance name across restarts (`--instance STAGE-N`, once `sluice
    run` has the option), so that a restarted worker is the same instance and fences
    its zombie."""

    def __init__(self, spec, plan, start_worker):
        self.spec, self.plan, self._start = spec, plan, start_worker
        self.slots = {stage: [None] * plan.workers[stage] for stage in STAGES}
        self.metrics = {stage: [None] * plan.workers[stage] for stage in STAGES}

    def start(self, stage, slot):
        name = f"{stage}-{slot}"
        address = f"127.0.0.1:{free_port()}"
        args = ("--instance", name) if run_supports("--instance") else ()
        self.slots[stage][slot] = self._start(self.spec, stage, "--metrics-addr", address,
                                              *args)
        self.metrics[stage][slot] = address
        return self.slots[stage][slot]

    def start_all(self):
        for stage in STAGES:
            for slot in range(len(self.slots[stage])):
                self.start(stage, slot)
        wanted = {stage: len(slots) for stage, slots in self.slots.items()}
        wait_until(lambda: self.check_alive() and all(
            s["workers"] >= wanted[s["stage"]] for s in status_json(self.spec)["stages"]),
            60, f"the workers to join their groups ({wanted})")

    def stop_all(self):
        """SIGTERM to every worker, and a wait for each to exit: up to the engine's
        shutdown deadline (30 s), which a worker may use up (test_chaos_brokers: one
        did, right after a broker's bounce), and a little for closing."""
        for slots in self.slots.values():
            for worker in slots:
                worker.terminate(timeout=45)

    def completed(self, stage, slot):
        """Tasks the worker in the slot has completed (ok, retried or dead-lettered),
        per its /metrics; 0 while it does not answer yet."""
        samples = scrape_metrics(self.metrics[stage][slot]) or []
        return sum(value for name, labels, value in samples
                   if name == "sluice_tasks_total" and labels.get("stage") == stage)

    def check_alive(self):
        """True; fails the test, with the worker's own words, if one exited by itself."""
        for stage, slots in self.slots.items():
            for worker in slots:
                if worker is not None and not worker.running():
                    pytest.fail(f"worker {stage} exited {worker.proc.returncode} by itself: "
                                f"{worker.stderr_tail(1)}", pytrace=False)
        return True


# --- progress --------------------------------------------------------------------


class Progress:
    """Polls how many records <p>.done holds (`sluice status`) on a thread, for the
    killer's conditions and for the longest stall: the longest time done did not
    move while jobs were still to come."""

    def __init__(self, spec, until, interval=1.0):
        self.spec, self.until, self.interval = spec, until, interval
        self.samples = []          # (monotonic time, done)
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self):
        while not self._stop.is_set():
            try:
                result = subprocess.run(
                    [str(sluice_path()), "status", "-f", str(self.spec), "--json"],
                    capture_output=True, text=True, timeout=60, cwd=repo_path(),
                    stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                continue  # no sample (a broker down): the poll goes on
            try:
                if result.returncode == 0:
                    done = json.loads(result.stdout.strip().splitlines()[-1])["done"]
                    self.samples.append((time.monotonic(), done))
            except (IndexError, ValueError, KeyError) as e:
                self.error = f"sluice status --json: {e}: {result.stdout[:200]!r}"
            self._stop.wait(self.interval)

    def done(self):
        return self.samples[-1][1] if self.samples else 0

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=90)

    def longest_stall(self, start=None, end=None):
        """(seconds, done when it began): the longest run of samples without a change
        in done that ended with done moving again (the flat run after the last job is
        the end, not a stall: done counts duplicates and, under exactly_once,
        transaction markers, so it says nothing of jobs still to come); only samples
        taken in [start, end] (monotonic times) when given."""
        longest, began, flat, last = 0.0, 0, None, None  # flat: where done last moved
        for t, done in self.samples:
            if (start is not None and t < start) or (end is not None and t > end):
                continue
            if flat is not None and done != flat[1] and last - flat[0] > longest:
                longest, began = last - flat[0], flat[1]
            if flat is None or done != flat[1]:
                flat = (t, done)
            last = t
        return longest, began


# --- the killer ------------------------------------------------------------------


@dataclasses.dataclass
class Kill:
    stage: str
    slot: int
    point: int           # done count drawn for this kill
    done: int            # done count (last sample) at the kill
    completed: int       # tasks the killed worker had completed in its life
    exit_code: int
    uncommitted: int     # the stage's input + retry depth right after: end - committed
    back_s: float = 0.0  # kill -> the restarted worker's first completed task


class Killer:
    """kill -9 of a worker of plan.victim (its slot drawn at random) plan.kills
    times, at moments drawn from a seeded RNG, each followed by a restart. Before kill
    k:
      - done has reached the k-th point: uniform in the k-th of plan.kills equal slices
        of plan.kill_span (fractions of the jobs);
      - the worker to kill has completed tasks (after a restart: it rejoined and works).
    Each condition has a deadline; the run must still be going at each kill."""

    def __init__(self, pipeline, progress, seed, deadline_s=120):
        self.pipeline, self.progress = pipeline, progress
        self.plan = pipeline.plan
        self.rng = random.Random(seed)
        self.deadline_s = deadline_s
        self.kills = []

    def points(self):
        start, end = self.plan.kill_span
        width = (end - start) / self.plan.kills
        return [int(self.plan.jobs * (start + width * (k + self.rng.random())))
                for k in range(self.plan.kills)]

    def _ready(self, point, slot):
        self.pipeline.check_alive()
        done = self.progress.done()
        if done < point or not self.pipeline.completed(self.plan.victim, slot):
            return None
        return done

    def _kill(self, k, point, slot):
        stage = self.plan.victim
        worker = self.pipeline.slots[stage][slot]
        completed = self.pipeline.completed(stage, slot)
        code = worker.crash()
        killed_at = time.monotonic()
        wait_until(lambda: not worker.group_processes(), 30,
                   "the killed worker's exec child to exit")
        queue = next(s for s in status_json(self.pipeline.spec)["stages"]
                     if s["stage"] == stage)["queue"]
        kill = Kill(stage, slot, point, self.progress.done(), int(completed), code,
                    queue["input"]["depth"] + queue["retry"]["depth"])
        self.kills.append(kill)
        self.pipeline.start(stage, slot)
        # Once every job is done, a restarted worker has nothing left to complete.
        wait_until(lambda: self.pipeline.check_alive() and (
            self.pipeline.completed(stage, slot) or self.progress.done() >= self.plan.jobs),
            self.deadline_s, f"the worker restarted after kill {k} to complete a task")
        kill.back_s = time.monotonic() - killed_at
        print(f"chaos: kill {k}: kill -9 of {stage}-{slot} at {kill.done} done (point "
              f"{point}) after {kill.completed} tasks of its own, exit {code}; its input "
              f"held {kill.uncommitted} uncommitted; restarted, working again "
              f"{kill.back_s:.1f}s after the kill")
        return kill

    def run(self):
        for k, point in enumerate(self.points(), 1):
            slot = self.rng.randrange(self.plan.workers[self.plan.victim])
            done = wait_until(lambda: self._ready(point, slot), self.deadline_s,
                              f"kill {k}'s moment (done >= {point}, {self.plan.victim}-"
                              f"{slot} working)")
            if done >= self.plan.jobs:
                pytest.fail(f"every job was done before kill {k}: not mid-run; make the "
                            f"run longer", pytrace=False)
            self._kill(k, point, slot)
        return self.kills


# --- accounting ------------------------------------------------------------------


@dataclasses.dataclass
class Accounting:
    """What came out against what went in: done records and LAST's dead letters. A
    job is lost when it is in neither; duplicates counts extra copies (in done, in the
    DLQ, or in both); wrong_attempts counts letters without max_attempts attempts."""
    submitted: int
    done_jobs: int
    done_records: int
    dead_jobs: int
    letters: int
    lost: int
    duplicates: int
    unexpected: int
    wrong_attempts: int
    examples: str = ""

    def __str__(self):
        return (f"submitted {self.submitted}: {self.done_jobs} done ({self.done_records} "
                f"records), {self.dead_jobs} dead-lettered ({self.letters} letters); "
                f"lost {self.lost}, DUPLICATES {self.duplicates}, unexpected "
                f"{self.unexpected}, letters without max_attempts attempts "
                f"{self.wrong_attempts}{self.examples}")


def account(spec, plan, job_ids, payloads, timeout):
    """Waits (bounded) until every good job is in done and every poison one in LAST's
    DLQ, lets the pipeline settle, and counts (conftest's read_done, verify: they read
    what a read_uncommitted consumer sees, right for at_least_once only)."""
    poison = {j for j, p in zip(job_ids, payloads) if p["fate"] == "always"}
    read_done(spec, len(job_ids) - len(poison), timeout=timeout)
    dlq_depth = lambda: next(s for s in status_json(spec)["stages"]
                             if s["stage"] == LAST)["queue"]["dlq"]["depth"]
    wait_until(lambda: dlq_depth() >= len(poison), timeout, f"{len(poison)} dead letters")
    done = read_settled_done(spec, timeout=timeout)
    depth = dlq_depth()
    letters = tail_records(spec, "--dlq", LAST, max_records=depth, timeout=timeout) \
        if depth else []
    both = verify(job_ids, done + letters)
    done_count = collections.Counter(r["job_id"] for r in done)
    letter_count = collections.Counter(r["job_id"] for r in letters)
    return Accounting(
        submitted=len(job_ids), done_jobs=len(done_count), done_records=len(done),
        dead_jobs=len(letter_count), letters=len(letters), lost=both.missing,
        duplicates=both.duplicates, unexpected=both.unexpected,
        wrong_attempts=sum(1 for r in letters if r.get("attempt") != plan.max_attempts),
        examples=both.examples + (f"; poison done: {sorted(poison & done_count.keys())[:5]}"
                                  if poison & done_count.keys() else ""))


@dataclasses.dataclass
class Verified:
    """What `sluice verify -f SPEC --jobs FILE --json` said: its exit code, its JSON
    report (None if it printed none) and its words."""
    code: int
    report: dict
    stdout: str
    stderr: str

    def __str__(self):
        return (f"sluice verify exited {self.code}: "
                f"{self.stdout.strip()[-1500:] or self.stderr.strip()[-1500:]}")


def cli_verify(spec, job_ids_file):
    result = run_sluice("verify", "-f", spec, "--jobs", job_ids_file, "--json", timeout=300)
    try:
        report = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        report = None
    return Verified(result.returncode, report, result.stdout, result.stderr)


def verify_settled(spec, job_ids_file, timeout):
    """`sluice verify` until it passes (exit 0) or `timeout`: jobs still on their way
    count as lost until they arrive. Returns the last Verified; exit 2 (bad usage, or
    no such command) returns at once."""
    deadline = time.monotonic() + timeout
    while True:
        verified = cli_verify(spec, job_ids_file)
        if verified.code in (0, 2) or time.monotonic() >= deadline:
            return verified
        time.sleep(2)


# --- a whole run -----------------------------------------------------------------


@dataclasses.dataclass
class ChaosResult:
    spec: pathlib.Path
    job_ids_file: pathlib.Path
    kills: list
    accounting: Accounting   # at_least_once: counted from done and the DLQ; else None
    verified: Verified       # exactly_once: `sluice verify`; else None
    longest_stall_s: float
    elapsed_s: float


def jobs(plan):
    return [{"n": n, "k": f"k{n % plan.keys}", "fate": plan.fate(n)}
            for n in range(plan.jobs)]


def run_chaos(plan, tmp_path, pipeline_name, broker, start_worker, seed=None,
              disrupt=None):
    """Builds the pipeline, starts its workers, submits plan.jobs jobs, kills and
    restarts as planned, waits for every job to be accounted for; returns a
    ChaosResult (and prints what it measured). disrupt(pipeline, progress), if given,
    does what happens mid-run instead of the Killer (test_chaos_brokers.py: broker
    kills) and returns the list that ChaosResult.kills holds."""
    seed = seed_for_run() if seed is None else seed
    spec = chaos_spec(tmp_path, pipeline_name, broker, plan)
    pipeline = Pipeline(spec, plan, start_worker)
    pipeline.start_all()
    payloads = jobs(plan)
    started = time.monotonic()
    job_ids = submit(spec, payloads, "--key-field", "k", timeout=300)
    job_ids_file = pathlib.Path(tmp_path) / "job-ids"
    job_ids_file.write_text("".join(j + "\n" for j in job_ids))
    print(f"chaos: {plan.jobs} jobs submitted in {time.monotonic() - started:.1f}s "
          f"({plan.guarantee}, failures {plan.failures}, workers {plan.workers})")
    progress = Progress(spec, until=len(job_ids))
    accounting = verified = None
    try:
        if disrupt is not None:
            kills = disrupt(pipeline, progress)
        else:
            kills = Killer(pipeline, progress, seed).run() if plan.kills else []
        if plan.guarantee == "exactly_once":
            verified = verify_settled(spec, job_ids_file, timeout=plan.timeout_s)
            if verified.code != 0:
                # Where the missing jobs wait: each stage's queue depth and workers.
                print(f"chaos: sluice status at the deadline:\n"
                      f"{run_sluice('status', '-f', spec, timeout=60).stdout}")
            if verified.code == 0:
                # Every job is done: every queue must drain to 0 too, its workers
                # committing past transaction markers and aborted transactions'
                # records (worker_commit.cc). Before, the depth they left behind (a
                # marker per partition, an aborted batch after each kill) stayed, and
                # a backpressure gate on it never opened.
                wait_until(lambda: all(
                    s["queue"]["input"]["depth"] == 0 and s["queue"]["retry"]["depth"] == 0
                    for s in status_json(spec)["stages"]), 30, "every queue to drain to 0")
                # Once the workers stopped (committing what is complete, aborting the
                # rest), nothing more can come out: what verify says then is final.
                pipeline.stop_all()
                # A worker whose stop hung exits without its shutdown (run_command.cc,
                # StopWatchdog): the broker aborts its open transaction within
                # transaction.timeout.ms (10 s), and verify waits for that.
                verified = verify_settled(spec, job_ids_file, timeout=30)
        else:
            accounting = account(spec, plan, job_ids, payloads, timeout=plan.timeout_s)
    finally:
        progress.stop()
    elapsed = time.monotonic() - started
    stall, stall_at = progress.longest_stall()
    print(f"chaos: {len(progress.samples)} samples of done; every job accounted for "
          f"{elapsed:.1f}s after submit; longest stall of done {stall:.1f}s (at {stall_at} "
          f"done)")
    print(f"chaos: {accounting or verified}")
    return ChaosResult(spec, job_ids_file, kills, accounting, verified, stall, elapsed)
