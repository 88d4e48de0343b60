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
may come out of order, which the protocol allows. Returns when stdin closes (the
engine is stopping), after the tasks already read are answered.
"""
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


def serve(handler, concurrency=1):
    lock = threading.Lock()

    def answer(message):
        line = json.dumps(message, separators=(",", ":")) + "\n"
        with lock:  # one whole line at a time, whichever thread answers
            sys.stdout.write(line)
            sys.stdout.flush()

    def run(task):
        try:
            result = handler(task)
            message = {"id": task["id"]}
            if isinstance(result, Reply):
                if result.state is not _KEEP:
                    message["state"] = result.state
                result = result.outputs
            message["outputs"] = [_as_output(item) for item in result or []]
            answer(message)
        except PermanentError as e:
            answer({"id": task["id"], "error": str(e), "retry": False})
        except Exception as e:  # noqa: BLE001 - anything else is worth a retry
            traceback.print_exc(file=sys.stderr)
            answer({"id": task["id"], "error": f"{type(e).__name__}: {e}", "retry": True,
                    "kind": "exception"})

    # One path for any concurrency: with 1 worker, tasks run one at a time.
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for line in sys.stdin:
            if line.strip():
                task = json.loads(line)
                pool.submit(run, task).add_done_callback(_exit_if_failed)
