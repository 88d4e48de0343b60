"""What `sluice` does when its standard output goes away or fills up: `tail` and
`status --watch` piped into `head` end by themselves (exit 0) once `head` has its lines;
`submit` whose job ids cannot be printed exits 1 saying how many (the jobs are on the
broker, but the user has no ids), and stops reading its input."""

import re
import subprocess

from conftest import (input_depth, passthrough_pipeline, repo_path, sluice_path, submit,
                      tail_records, wait_or_kill)


def _popen(*args, **kwargs):
    return subprocess.Popen([str(sluice_path()), *map(str, args)], cwd=repo_path(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def _read_then_close(proc, lines=1, timeout=120):
    """What `| head -LINES` does: read that many lines, close the pipe, let it exit."""
    first = [proc.stdout.readline() for _ in range(lines)]
    proc.stdout.close()
    code = wait_or_kill(proc, timeout)
    return first, code, proc.stderr.read().decode()


def test_tail_ends_when_its_reader_goes_away(broker, pipeline_name, tmp_path):
    spec = passthrough_pipeline(tmp_path, pipeline_name, broker)
    submit(spec, [{"n": i} for i in range(20)])
    # No --max, no --idle-timeout: only the closed pipe can end it.
    [first], code, stderr = _read_then_close(
        _popen("tail", "-f", spec, "--stage", "only", "--from-beginning",
               stdin=subprocess.DEVNULL), timeout=30)
    print(f"\nmeasured: tail after its reader left: exit {code}")
    assert b'"job_id"' in first
    assert code == 0, stderr


def test_submit_whose_ids_cannot_be_printed_exits_1(broker, pipeline_name, tmp_path):
    spec = passthrough_pipeline(tmp_path, pipeline_name, broker)
    with open("/dev/full", "w") as full:
        result = subprocess.run([str(sluice_path()), "submit", "-f", spec, '{"n": 1}'],
                                cwd=repo_path(), stdout=full, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True, timeout=60)
    print(f"\nmeasured: submit into a full stdout: exit {result.returncode}: "
          f"{result.stderr.strip()}")
    assert result.returncode == 1
    assert "No space left on device: the ids of 1 of the 1 jobs submitted were not printed" \
        in result.stderr
    assert input_depth(spec, "only") == 1  # the job itself reached the broker


def test_submit_into_head_says_what_it_submitted(broker, pipeline_name, tmp_path):
    # `sluice submit - | head -1` with 12000 lines: it died of SIGPIPE (rc 141) with
    # 7000 jobs unsubmitted, silently.
    spec = passthrough_pipeline(tmp_path, pipeline_name, broker)
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("".join(f'{{"n": {i}}}\n' for i in range(12000)))
    with open(jobs) as stdin:
        first, code, stderr = _read_then_close(_popen("submit", "-f", spec, "-",
                                                             stdin=stdin))
    print(f"\nmeasured: submit | head -1: exit {code}: {stderr.strip()}")
    assert code == 1, stderr
    assert len(first[0].strip()) == 32
    [error] = stderr.strip().splitlines()
    match = re.search(r"the ids of (\d+) of the (\d+) jobs submitted were not printed; "
                      r"stdin from line (\d+) on was not read", error)
    assert match, error
    unprinted, submitted, unread = map(int, match.groups())
    assert submitted == unread - 1 and unprinted < submitted
    on_intake = tail_records(spec, "--stage", "only", idle_timeout="5s")
    assert len(on_intake) == submitted


def test_status_watch_into_head_ends(broker, pipeline_name, tmp_path):
    spec = passthrough_pipeline(tmp_path, pipeline_name, broker)
    lines, code, stderr = _read_then_close(
        _popen("status", "-f", spec, "--watch", "--json", stdin=subprocess.DEVNULL), lines=3,
        timeout=30)
    print(f"\nmeasured: status --watch | head -3: exit {code}")
    assert all(b'"pipeline"' in line for line in lines)
    assert code == 0, stderr
