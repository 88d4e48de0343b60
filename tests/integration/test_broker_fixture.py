"""The kafka_broker ctest fixture: the shared test broker is up and speaks Kafka."""

import socket
import struct


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
