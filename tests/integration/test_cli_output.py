"""What `sluice` does when its standard output goes away or fills up: `tail` piped
into `head` ends by itself once `head` has its lines; `submit` whose job ids cannot be
printed exits 1 saying so (the jobs are on the broker, but the user has no ids)."""

import subprocess

from conftest import (apply_topics, builtin_stage, input_depth, pipeline_spec, repo_path,
                      sluice_path, submit, write_spec)


def _pipeline(tmp_path, pipeline_name, broker):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("only", "passthrough")], partitions=1))
    apply_topics(spec)
    return spec


def test_tail_ends_when_its_reader_goes_away(broker, pipeline_name, tmp_path):
    spec = _pipeline(tmp_path, pipeline_name, broker)
    submit(spec, [{"n": i} for i in range(20)])
    # No --max, no --idle-timeout: only the closed pipe can end it.
    tail = subprocess.Popen([str(sluice_path()), "tail", "-f", spec, "--stage", "only",
                             "--from-beginning"], cwd=repo_path(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        first = tail.stdout.readline()
        tail.stdout.close()  # what `head -1` does once it has its line
        code = tail.wait(timeout=30)
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()
    stderr = tail.stderr.read().decode()
    print(f"\nmeasured: tail after its reader left: exit {code}")
    assert b'"job_id"' in first
    assert code == 0, stderr


def test_submit_whose_ids_cannot_be_printed_exits_1(broker, pipeline_name, tmp_path):
    spec = _pipeline(tmp_path, pipeline_name, broker)
    with open("/dev/full", "w") as full:
        result = subprocess.run([str(sluice_path()), "submit", "-f", spec, '{"n": 1}'],
                                cwd=repo_path(), stdout=full, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True, timeout=60)
    print(f"\nmeasured: submit into a full stdout: exit {result.returncode}: "
          f"{result.stderr.strip()}")
    assert result.returncode == 1
    assert "1 jobs were submitted, but their ids could not be printed" in result.stderr
    assert "No space left on device" in result.stderr
    assert input_depth(spec, "only") == 1  # the job itself reached the broker
