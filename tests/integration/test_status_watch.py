"""`sluice status --watch` (issue 12) under a real pseudo-terminal (tmux): a row per
stage with a queue-depth bar and the bottleneck marked, redrawn in place on the
alternate screen; after a resize it still fits; Ctrl-C exits 0 and gives the terminal
back (alternate screen off, cursor shown). Without a terminal it prints plain frames."""

import shutil
import subprocess

import pytest

from conftest import (apply_topics, builtin_stage, pipeline_spec, sluice_path,
                      submit, wait_until, write_spec)


def tmux(*args):
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30)


def screen(session):
    return tmux("capture-pane", "-p", "-t", session).stdout


def pane_flag(session, name):
    return tmux("display-message", "-p", "-t", session, f"#{{{name}}}").stdout.strip()


@pytest.fixture
def tmux_session(pipeline_name):
    if not shutil.which("tmux"):
        pytest.fail("tmux is not installed: ops/setup.sh installs Debian's package",
                    pytrace=False)
    session = f"watch-{pipeline_name}"
    yield session
    tmux("kill-session", "-t", session)


def test_watch_draws_rows_bars_and_the_bottleneck_then_restores_the_terminal(
        broker, pipeline_name, tmp_path, tmux_session):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("fetch", "passthrough", next=["publish"],
                      backpressure={"high_watermark": 100, "low_watermark": 10}),
        builtin_stage("publish", "passthrough"),
    ], partitions=1))
    apply_topics(spec)
    submit(spec, [{"n": n} for n in range(60)])  # no worker runs: fetch is the bottleneck

    exit_file = tmp_path / "exit-code"
    # After it, the pane's shell waits on its terminal (`cat`), alive, so that what the
    # command left the terminal in can be read (a dead pane's flags are tmux's own).
    command = f"{sluice_path()} status -f {spec} --watch; echo $? > {exit_file}; exec cat"
    started = tmux("new-session", "-d", "-s", tmux_session, "-x", "120", "-y", "20", command)
    assert started.returncode == 0, started.stderr

    frame = wait_until(lambda: (lambda s: s if "bottleneck" in s else None)(screen(tmux_session)),
                       30, "the live view's first frame")
    print("measured: first frame:\n" + frame)
    rows = {line.split()[1] if line.startswith(">") else line.split()[0]: line
            for line in frame.splitlines() if line.strip()}
    assert "fetch" in rows and "publish" in rows, frame
    assert rows["fetch"].startswith(">") and "<- bottleneck" in rows["fetch"]
    assert "\u2588" * 18 in rows["fetch"], "60 of a high watermark of 100: 18 of 30 cells"
    assert " 60 " in rows["fetch"]
    assert pane_flag(tmux_session, "alternate_on") == "1"
    assert pane_flag(tmux_session, "cursor_flag") == "0"

    # Narrower: the next frame fits, without its bar.
    tmux("resize-window", "-t", tmux_session, "-x", "60")
    narrow = wait_until(lambda: (lambda s: s if "\u2588" not in s and "fetch" in s else None)(
        screen(tmux_session)), 30, "a frame redrawn for 60 columns")
    assert all(len(line) <= 60 for line in narrow.splitlines()), narrow

    tmux("send-keys", "-t", tmux_session, "C-c")
    wait_until(lambda: exit_file.exists() and exit_file.read_text().strip(), 30,
               "status --watch to exit on Ctrl-C")
    assert exit_file.read_text().strip() == "0"
    assert pane_flag(tmux_session, "alternate_on") == "0"
    assert pane_flag(tmux_session, "cursor_flag") == "1"
    assert "bottleneck" not in screen(tmux_session), "the frame stayed on the normal screen"


def test_watch_without_a_terminal_prints_plain_frames(broker, pipeline_name, tmp_path):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage("only", "passthrough")], partitions=1))
    apply_topics(spec)
    proc = subprocess.Popen([str(sluice_path()), "status", "-f", str(spec), "--watch"],
                            stdout=subprocess.PIPE, text=True)
    try:
        first = [proc.stdout.readline() for _ in range(4)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert first[0].startswith("pipeline ") and "STAGE" in first[1], first
    assert all("\x1b" not in line for line in first), "no escape codes in a pipe"
