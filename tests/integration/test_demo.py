"""`sluice demo` needs no broker and no setup: run from an empty directory, it drives
its sample pipeline on the embedded broker to a summary with nothing missing."""

import re
import subprocess
import time

from conftest import sluice_path

JOBS = 500
_SUMMARY = re.compile(r"(\d+) jobs submitted, (\d+) done \((\d+) unique\), (\d+) missing, "
                      r"(\d+) duplicates")


def test_demo_runs_to_a_summary_with_nothing_missing(tmp_path):
    started = time.monotonic()
    result = subprocess.run([str(sluice_path()), "demo", "--jobs", str(JOBS)],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    summary = [line for line in result.stdout.splitlines() if "0 missing" in line]
    print(f"\nmeasured: demo exit {result.returncode} after {elapsed:.1f}s: {summary}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(summary) == 1, result.stdout[-2000:]
    match = _SUMMARY.search(summary[0])
    assert match, summary[0]
    submitted, done, unique, missing, duplicates = map(int, match.groups())
    assert (submitted, unique, missing) == (JOBS, JOBS, 0)
    assert done == unique + duplicates
    assert "embedded broker" in result.stdout.lower()
