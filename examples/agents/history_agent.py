"""Example stateful exec agent: keeps each key's history in the stage's state.

    python3 history_agent.py [--field F] [--keep N] [--concurrency C]

A stand-in for an agent that keeps a conversation per user: each task's
payload[F] (default "message") is appended to its key's history, kept by Sluice
(`state: true`), not by this process; the output is the payload with "history"
set to the key's history so far, this task's included. --keep N keeps the last N
entries only (0, the default: all of them; mind the stage's max_state_bytes).
The agent can crash or be restarted on another worker at any time: the history
comes with the next task.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_agent import PermanentError, output, reply, serve  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--field", default="message", metavar="F")
    parser.add_argument("--keep", type=int, default=0, metavar="N")
    parser.add_argument("--concurrency", type=int, default=1, metavar="C")
    args = parser.parse_args()

    def handle(task):
        payload = task["payload"]
        if not isinstance(payload, dict) or args.field not in payload:
            raise PermanentError(f"payload has no {args.field!r}")
        history = task.get("state", {}).get("history", [])
        history.append(payload[args.field])
        if args.keep > 0:
            history = history[-args.keep:]
        payload["history"] = history
        return reply([output(payload)], state={"history": history})

    serve(handle, concurrency=args.concurrency)


if __name__ == "__main__":
    main()
