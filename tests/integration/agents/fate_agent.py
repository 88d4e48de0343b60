"""Exec agent for the failure tests: each task's payload["fate"] says how it goes.

    python3 fate_agent.py NAME [--concurrency C] [--hang-s S] [--delay-ms D]

  "ok" (or none)  answered at once
  "always"        a retryable error on every attempt ("always fails: job N")
  "twice"         a retryable error on attempts 1 and 2, then answered
  "hang"          attempt 1 sleeps S seconds (past the stage's timeout), then answers
                  anyway, late, if it is still alive; later attempts answer at once

Every task takes D ms first (default 0), to pace a run. An answer is the payload with NAME appended to payload["stages"] and the attempt
that succeeded in payload["attempts"][NAME], so a test sees which attempt got
through. Standard library only; tasks run on C threads and answers go out in any
order, as the exec protocol allows.
"""
import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--concurrency", type=int, default=1, metavar="C")
    parser.add_argument("--hang-s", type=float, default=60, metavar="S")
    parser.add_argument("--delay-ms", type=float, default=0, metavar="D")
    args = parser.parse_args()
    lock = threading.Lock()

    def answer(message):
        line = json.dumps(message, separators=(",", ":")) + "\n"
        with lock:
            sys.stdout.write(line)
            sys.stdout.flush()

    def run(task):
        payload, attempt = task["payload"], task["attempt"]
        fate = payload.get("fate", "ok")
        time.sleep(args.delay_ms / 1000)
        if fate == "always" or (fate == "twice" and attempt <= 2):
            return answer({"id": task["id"], "retry": True,
                           "error": f"{fate} fails: job {payload.get('n')} attempt {attempt}"})
        if fate == "hang" and attempt == 1:
            time.sleep(args.hang_s)  # the engine kills us first; if not, a late answer
        payload.setdefault("stages", []).append(args.name)
        payload.setdefault("attempts", {})[args.name] = attempt
        answer({"id": task["id"], "outputs": [{"payload": payload}]})

    with ThreadPoolExecutor(max_workers=max(1, args.concurrency)) as pool:
        for line in sys.stdin:
            if line.strip():
                pool.submit(run, json.loads(line))


if __name__ == "__main__":
    main()
