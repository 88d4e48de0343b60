"""What `sluice submit` does with the jobs it is given: a line it cannot take is refused
by number and nothing after it is submitted (exit 2), and every job it took is
accounted for by a printed id."""

import json
import re
import signal
import subprocess

from conftest import (apply_topics, builtin_stage, pipeline_spec, repo_path, run_sluice,
                      sluice_path, tail_records, wait_or_kill, write_spec)


def _pipeline(tmp_path, pipeline_name, broker, builtin="passthrough"):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("only", builtin)], partitions=1))
    apply_topics(spec)
    return spec


def test_submit_refuses_deeply_nested_json_by_line_number(broker, pipeline_name, tmp_path):
    spec = _pipeline(tmp_path, pipeline_name, broker)
    deep = "[" * 100_000 + "]" * 100_000
    lines = f'{{"n": 1}}\n{deep}\n{{"n": 3}}\n'
    result = run_sluice("submit", "-f", spec, "-", input=lines)
    print(f"\nmeasured: submit of a 100k-deep array: exit {result.returncode}: "
          f"{result.stderr.strip()[:200]}")
    assert result.returncode == 2, result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith("sluice: stdin:2: JSON nested deeper than 256 levels")
    assert "nor any line after it" in errors[0]
    [printed] = result.stdout.split()  # the id of line 1, which went in
    intake = tail_records(spec, "--stage", "only", idle_timeout="5s")
    assert [r["job_id"] for r in intake] == [printed]


def _tail_lines(spec, *selector, count):
    result = run_sluice("tail", "-f", spec, *selector, "--from-beginning", "--max", count,
                        "--idle-timeout", "30s")
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


# A job as a user might write it: key order of their own, a number no double holds.
EXACT_JOB = '{"zeta": 1, "id": 123456789012345678901234567890, "price": 1.10}'


def test_submit_keeps_the_jobs_bytes(broker, pipeline_name, tmp_path):
    spec = _pipeline(tmp_path, pipeline_name, broker)
    result = run_sluice("submit", "-f", spec, "--key-field", "id", EXACT_JOB)
    assert result.returncode == 0, result.stderr
    [line] = _tail_lines(spec, "--stage", "only", count=1)
    print(f"\nmeasured: the job on the intake: {line[-120:]}")
    assert '"payload":' + EXACT_JOB in line
    assert json.loads(line)["key"] == "123456789012345678901234567890"


def test_a_builtin_changes_only_its_own_field(broker, pipeline_name, tmp_path, start_worker):
    spec = _pipeline(tmp_path, pipeline_name, broker, builtin="tag")
    result = run_sluice("submit", "-f", spec, EXACT_JOB)
    assert result.returncode == 0, result.stderr
    start_worker(spec, "only")
    [line] = _tail_lines(spec, "--done", count=1)
    assert '"payload":' + EXACT_JOB[:-1] + ',"stages":["only"]}' in line, line


def _submit_100_then(spec, interrupt, more_jobs=0):
    """Feeds `sluice submit -f SPEC -` 100 jobs, waits until they are on the intake, calls
    interrupt(process), feeds it `more_jobs` more and closes its stdin if there are any,
    and lets it end: (exit code, ids printed, stderr)."""
    submit = subprocess.Popen([str(sluice_path()), "submit", "-f", spec, "-"], cwd=repo_path(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        submit.stdin.write("".join(f'{{"n": {i}}}\n' for i in range(100)))
        submit.stdin.flush()
        # Returns once it read 100 records (or fails after 30 s without one).
        tail_records(spec, "--stage", "only", max_records=100, idle_timeout="30s")
        interrupt(submit)
        if more_jobs:
            submit.stdin.write("".join(f'{{"n": {i}}}\n' for i in range(100, 100 + more_jobs)))
            submit.stdin.close()
    except BaseException:
        submit.kill()
        submit.wait()
        raise
    code = wait_or_kill(submit, timeout=120)
    return code, submit.stdout.read().split(), submit.stderr.read()


def test_submit_accounts_for_every_job_when_the_broker_goes_away(own_broker, pipeline_name,
                                                                  tmp_path):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, own_broker.address, [
        builtin_stage("only", "passthrough")], partitions=1))
    spec_dict = json.loads(spec.read_text())
    spec_dict["kafka"]["properties"] = {"message.timeout.ms": "5000"}  # fail within 5 s
    spec = write_spec(tmp_path, spec_dict)
    apply_topics(spec)
    # The broker stops halfway through the batch.
    code, printed, stderr = _submit_100_then(spec, lambda _: own_broker.stop(), more_jobs=100)
    possibly = re.findall(r"possibly delivered \(not acknowledged\): (\S+)", stderr)
    print(f"\nmeasured: broker stopped after 100 of 200 jobs: exit {code}, {len(printed)} ids "
          f"printed, {len(possibly)} possibly delivered; {stderr.strip().splitlines()[-1]}")
    assert code == 1, stderr
    assert len(printed) + len(possibly) == 200
    assert not set(printed) & set(possibly)
    assert len(printed) >= 100
    own_broker.start()
    on_intake = {r["job_id"] for r in tail_records(spec, "--stage", "only", idle_timeout="5s")}
    assert set(printed) <= on_intake, "a printed id is a job the broker has"
    assert on_intake <= set(printed) | set(possibly), "no job on the intake without its id"


def test_ctrl_c_prints_the_ids_of_what_was_submitted(broker, pipeline_name, tmp_path):
    spec = _pipeline(tmp_path, pipeline_name, broker)
    # stdin stays open: a user typing Ctrl-C.
    code, printed, stderr = _submit_100_then(spec, lambda p: p.send_signal(signal.SIGINT))
    print(f"\nmeasured: Ctrl-C after 100 jobs: exit {code}, {len(printed)} ids; {stderr.strip()}")
    assert code == 1, stderr
    assert stderr.strip() == ("sluice: interrupted: 100 jobs submitted; "
                              "stdin from line 101 on was not read")
    on_intake = tail_records(spec, "--stage", "only", idle_timeout="5s")
    assert sorted(printed) == sorted(r["job_id"] for r in on_intake)
