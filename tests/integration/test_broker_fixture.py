"""The kafka_broker ctest fixture: the shared test broker is up and speaks Kafka; and
ops/kafka/kafka.sh, which runs it, answers a second `start` with its address."""

import os
import socket
import struct
import subprocess

from conftest import repo_path


def _recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def test_broker_answers_api_versions_request(broker):
    # ApiVersions v0 (api key 18): request header (key, version, correlation id,
    # client id), no body. Every Kafka broker answers it, before authentication too.
    host, port = broker.rsplit(":", 1)
    client_id = b"sluice-it"
    request = struct.pack(">hhih", 18, 0, 42, len(client_id)) + client_id
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.settimeout(10)
        sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _recv_exactly(sock, 4))
        response = _recv_exactly(sock, size)
    correlation_id, error_code, api_count = struct.unpack(">ihi", response[:10])
    assert correlation_id == 42
    assert error_code == 0
    assert api_count > 0


def test_kafka_sh_start_on_a_running_broker_prints_its_address(broker):
    # The README's tour starts the broker with `kafka.sh start`; run twice (the tour
    # followed again), the second one must report the running broker, not fail.
    broker_dir = os.path.dirname(os.environ["SLUICE_BROKER_FILE"])
    start = subprocess.run(
        ["bash", str(repo_path() / "ops/kafka/kafka.sh"), "start", "--dir", broker_dir],
        capture_output=True, text=True, timeout=60)
    assert start.returncode == 0, start.stderr
    assert start.stdout == broker + "\n"
    assert "already running at " + broker in start.stderr
    # It is the same broker, still up: no second one was started in its place.
    status = subprocess.run(
        ["bash", str(repo_path() / "ops/kafka/kafka.sh"), "status", "--dir", broker_dir],
        capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stdout
