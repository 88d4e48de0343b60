"""Example fan-out agent: one output per element of a list in the payload.

    python3 split_agent.py [--field F] [--concurrency C]

Each task's payload[F] (default "items") must be a list; each element becomes
one output, as it is. Sluice makes the outputs of one task the parts of one
group (their index, the count, and the group are in each output's envelope),
so a builtin `gather` further down joins them again into one task:
{"parts": [element 0, element 1, ...]}, whatever stages ran on each between.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_agent import PermanentError, output, serve  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--field", default="items", metavar="F")
    parser.add_argument("--concurrency", type=int, default=1, metavar="C")
    args = parser.parse_args()

    def handle(task):
        payload = task["payload"]
        items = payload.get(args.field) if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            raise PermanentError(f"payload has no non-empty list {args.field!r}")
        return [output(item) for item in items]

    serve(handle, concurrency=args.concurrency)


if __name__ == "__main__":
    main()
