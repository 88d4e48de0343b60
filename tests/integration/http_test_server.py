"""An HTTP server for tests of the http stage kind, run in the test's own process.

    with HttpTestServer() as server:          # 127.0.0.1, a free port, a thread
        spec = ... {"kind": "http", "http": {"url": server.url}, ...}
        ...
        server.requests_for(n)                # what the stage sent for job payload n
        server.connections                    # TCP connections accepted so far

Each request's body is an exec task line ({"id","job","key","attempt","payload",
"headers"}); the server answers by the payload's "mode" (default "ok"):

    ok           200, one output: the payload with "served": true
    retry_after  first attempt 429 with Retry-After: RETRY_AFTER_SECONDS, then as ok
    fail500      first attempt 500, then as ok
    bad400       always 400 with a body starting with BAD_REQUEST_BODY
    slow         sleeps SLOW_SECONDS (past the stage's timeout), then as ok
    outage       (not a mode of a payload: server.outage = True) every request 503,
                 no Retry-After, until server.outage = False

Every response has a Content-Length and keeps the connection open (HTTP/1.1), so a
client that keeps connections alive opens only as many as it needs. Standard library
only. Each request is recorded (Request: monotonic time, path, job, attempt, payload
"n", mode, status answered).
"""

import dataclasses
import http.server
import json
import threading
import time

RETRY_AFTER_SECONDS = 2
SLOW_SECONDS = 3
BAD_REQUEST_BODY = "bad request: field 'x' is missing"


@dataclasses.dataclass(frozen=True)
class Request:
    time: float  # time.monotonic() when the request was read
    path: str
    job: str
    attempt: int
    n: object  # the payload's "n"
    mode: str
    status: int  # what the server answered


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True  # a slow handler never holds up shutdown
    allow_reuse_address = True

    def __init__(self, owner):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner

    def get_request(self):
        conn = super().get_request()
        self.owner._accepted()
        return conn


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, format, *args):
        pass  # quiet: the test prints what it measured

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        task = json.loads(self.rfile.read(length) or b"{}")
        payload = task.get("payload") if isinstance(task.get("payload"), dict) else {}
        status, headers, body = self.server.owner._answer(task, payload)
        self.server.owner._record(Request(
            time=time.monotonic(), path=self.path, job=task.get("job", ""),
            attempt=task.get("attempt", 0), n=payload.get("n"),
            mode=payload.get("mode", "ok"), status=status))
        if payload.get("mode") == "slow":
            time.sleep(SLOW_SECONDS)
        self._send(status, headers, body)

    do_PUT = do_POST

    def _send(self, status, headers, body):
        data = body.encode()
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (its timeout)


def _ok(payload):
    output = {**payload, "served": True}
    return 200, {"Content-Type": "application/json"}, json.dumps({"outputs": [{"payload": output}]})


class HttpTestServer:
    """The server, started on enter (or start()) and stopped on exit (or stop())."""

    def __init__(self):
        self._lock = threading.Lock()
        self._requests = []
        self._connections = 0
        self.outage = False
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/run"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def connections(self):
        """TCP connections accepted so far."""
        with self._lock:
            return self._connections

    def requests(self):
        with self._lock:
            return list(self._requests)

    def requests_for(self, n):
        """The requests whose payload's "n" is `n`, in the order they came."""
        return [r for r in self.requests() if r.n == n]

    def _accepted(self):
        with self._lock:
            self._connections += 1

    def _record(self, request):
        with self._lock:
            self._requests.append(request)

    def _answer(self, task, payload):
        """(status, headers, body) for one request."""
        if self.outage:
            return 503, {}, "outage"
        mode, first = payload.get("mode", "ok"), task.get("attempt", 1) == 1
        if mode == "retry_after" and first:
            return 429, {"Retry-After": str(RETRY_AFTER_SECONDS)}, "slow down"
        if mode == "fail500" and first:
            return 500, {}, "internal error"
        if mode == "bad400":
            return 400, {"Content-Type": "text/plain"}, BAD_REQUEST_BODY + "\n" + "x" * 2000
        return _ok(payload)
