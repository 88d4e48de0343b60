"""Example exec agent: appends NAME to payload["stages"] (creating the list).

    python3 append_stage.py NAME [--crash-every N] [--delay-ms D] [--concurrency C] [--async]

--crash-every N exits the process abruptly (os._exit(3)) on a task whose payload["n"]
is a multiple of N, on its first attempt only, so that Sluice's retry, in the
restarted child, succeeds. The integration tests use it to check that nothing is
lost when a child crashes. --async waits --delay-ms on an event loop (serve_async)
instead of a thread per task, as an agent calling a model through an async client does.
"""
import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_agent import PermanentError, output, serve, serve_async  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--crash-every", type=int, default=0, metavar="N")
    parser.add_argument("--delay-ms", type=int, default=0, metavar="D")
    parser.add_argument("--concurrency", type=int, default=1, metavar="C")
    parser.add_argument("--async", dest="use_async", action="store_true")
    args = parser.parse_args()

    def checked_payload(task):
        payload = task["payload"]
        if not isinstance(payload, dict):
            raise PermanentError("payload is not a JSON object")
        n = payload.get("n")
        crash = args.crash_every > 0 and isinstance(n, int) and n % args.crash_every == 0
        if crash and task["attempt"] == 1:
            os._exit(3)  # abrupt: no answer, no cleanup, like a real crash
        return payload

    def handle(task):
        payload = checked_payload(task)
        if args.delay_ms:
            time.sleep(args.delay_ms / 1000)
        payload.setdefault("stages", []).append(args.name)
        return [output(payload)]

    async def handle_async(task):
        payload = checked_payload(task)
        if args.delay_ms:
            await asyncio.sleep(args.delay_ms / 1000)
        payload.setdefault("stages", []).append(args.name)
        return [output(payload)]

    if args.use_async:
        serve_async(handle_async, concurrency=args.concurrency)
    else:
        serve(handle, concurrency=args.concurrency)


if __name__ == "__main__":
    main()
