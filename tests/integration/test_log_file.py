"""`sluice run --log-file PATH`: a worker's logs (its own, librdkafka's, its exec
children's stderr) go to PATH instead of stderr, so several workers can share a
terminal; errors a user must see still go to stderr."""

from conftest import (apply_topics, exec_stage, pipeline_spec, read_done, run_sluice,
                      submit, wait_until, write_spec)


def test_run_logs_to_the_file_and_not_to_stderr(broker, pipeline_name, tmp_path,
                                                start_worker):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker,
                                              [exec_stage("only")]))
    apply_topics(spec)
    log = tmp_path / "only.log"
    log.write_text("earlier run\n")
    worker = start_worker(spec, "only", "--log-file", log)
    ids = submit(spec, [{"n": n} for n in range(5)])
    assert len(read_done(spec, len(ids))) == len(ids)
    assert worker.terminate() == 0
    text = log.read_text()
    assert text.startswith("earlier run\n")  # appended, not truncated
    assert f"stage only: consuming {pipeline_name}.intake" in text
    assert "stage only: started child pid" in text
    assert "stage only: stopped" in text
    assert worker.stderr() == ""


def test_run_with_an_unwritable_log_file_exits_2_naming_it(broker, pipeline_name,
                                                           tmp_path):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker,
                                              [exec_stage("only")]))
    (tmp_path / "a-file").write_text("")
    path = tmp_path / "a-file" / "only.log"  # a directory that cannot exist
    result = run_sluice("run", "-f", spec, "--stage", "only", "--log-file", path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sluice: --log-file: ")
    assert str(path) in lines[0]
