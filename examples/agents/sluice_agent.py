"""Tiny stdlib-only helper for Sluice exec agents (see stages/README.md).

    from sluice_agent import serve, output, PermanentError
    def handle(task):                       # task: {"id","job","key","attempt","payload","headers"}
        return [output({"seen": task["payload"]})]
    serve(handle, concurrency=4)

handler(task) returns a list of outputs: dicts made by output() (payload, key, to),
or bare payloads; or, for a stage with `state: true`, reply(outputs, state=VALUE) to
set the key's state (state=None clears it); the next task of the key brings it
back as task["state"] (absent when the key has none). Raising PermanentError dead-letters the task (error kind "error");
any other exception asks Sluice to retry it (error kind "exception"). With concurrency > 1, tasks run on a thread pool and answers
may come out of order, which the protocol allows. serve_async(handle) takes an
`async def handle(task)` instead: its tasks wait on one event loop, not a thread each.
Returns when stdin closes (the engine is stopping), after the tasks already read are
answered.
"""
import asyncio
import base64
import json
import os
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor


class PermanentError(Exception):
    """The task can never succeed: answered with "retry": false."""


def output(payload, key=None, to=None, raw=False):
    """One output; raw=True sends bytes (payload) as application/octet-stream."""
    out = {"payload": base64.b64encode(payload).decode() if raw else payload}
    if raw:
        out["encoding"] = "base64"
    if key is not None:
        out["key"] = key
    if to is not None:
        out["to"] = to
    return out


_KEEP = object()


class Reply:
    """What reply() makes: outputs, and the key's new state unless kept."""

    def __init__(self, outputs, state=_KEEP):
        self.outputs = outputs
        self.state = state


def reply(outputs, state=_KEEP):
    """Outputs plus the key's new state (any JSON value; None clears it)."""
    return Reply(outputs, state)


def _as_output(item):
    return item if isinstance(item, dict) and "payload" in item else {"payload": item}


def _exit_if_failed(future):
    """A task whose answer could not be written (or that raised past run(),
    e.g. SystemExit) would otherwise hang until the engine's timeout: exit,
    so the engine restarts the agent and retries the tasks at once."""
    if future.exception() is not None:
        traceback.print_exception(future.exception(), file=sys.stderr)
        sys.stderr.flush()
        os._exit(1)


def _result_message(task, result):
    """The answer to `task` whose handler returned `result`."""
    message = {"id": task["id"]}
    if isinstance(result, Reply):
        if result.state is not _KEEP:
            message["state"] = result.state
        result = result.outputs
    message["outputs"] = [_as_output(item) for item in result or []]
    return message


def _failure_message(task, error):
    """The answer to `task` whose handler raised `error`."""
    if isinstance(error, PermanentError):
        return {"id": task["id"], "error": str(error), "retry": False}
    traceback.print_exception(error, file=sys.stderr)
    return {"id": task["id"], "error": f"{type(error).__name__}: {error}", "retry": True,
            "kind": "exception"}


def _line(message):
    return json.dumps(message, separators=(",", ":")) + "\n"


def serve(handler, concurrency=1):
    lock = threading.Lock()

    def answer(message):
        with lock:  # one whole line at a time, whichever thread answers
            sys.stdout.write(_line(message))
            sys.stdout.flush()

    def run(task):
        try:
            message = _result_message(task, handler(task))
        except Exception as e:  # noqa: BLE001 - PermanentError dead-letters, the rest retry
            message = _failure_message(task, e)
        answer(message)

    # One path for any concurrency: with 1 worker, tasks run one at a time.
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for line in sys.stdin:
            if line.strip():
                task = json.loads(line)
                pool.submit(run, task).add_done_callback(_exit_if_failed)


def serve_async(handler, concurrency=1):
    """serve() for a coroutine handler (`async def handle(task)`): up to `concurrency`
    tasks wait at once on one event loop, none holding a thread, which is what calls to
    a model or an API through an async client want (a thread per waiting task costs
    the threaded serve() most of its time at high concurrency: bench/README.md).
    Answers written in one loop iteration go out in one flush."""
    asyncio.run(_serve_async(handler, max(1, concurrency)))


async def _serve_async(handler, concurrency):
    loop = asyncio.get_running_loop()
    # A task line holds its payload: well past StreamReader's 64 KiB default.
    reader = asyncio.StreamReader(limit=64 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    flush_due = False

    def flush():
        nonlocal flush_due
        flush_due = False
        sys.stdout.flush()

    async def run(task):
        nonlocal flush_due
        try:
            message = _result_message(task, await handler(task))
        except Exception as e:  # noqa: BLE001 - PermanentError dead-letters, the rest retry
            message = _failure_message(task, e)
        sys.stdout.write(_line(message))
        if not flush_due:
            flush_due = True
            loop.call_soon(flush)

    running = set()
    while line := await reader.readline():
        if not line.strip():
            continue
        # The engine sends at most `concurrency` at once; this holds if it sends more.
        while len(running) >= concurrency:
            _, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(run(json.loads(line)))
        task.add_done_callback(_exit_if_failed)
        running.add(task)
    if running:
        await asyncio.wait(running)
    sys.stdout.flush()
