"""Prints the broker id of the leader of one partition (`kafka.sh leader`), or the ids
of its in-sync replicas, comma-separated (`kafka.sh isr`). In the 3-node cluster,
node N has broker id N.

usage: partition_metadata.py leader|isr BOOTSTRAP TOPIC PARTITION   (BOOTSTRAP: host:port,...)

Asks the first broker that answers with one Metadata request, version 4: the oldest
that Kafka 4.x still serves (KIP-896) and the newest without the flexible encoding,
so that a few lines of struct do it; no JVM start (kafka-topics would take seconds)
and no client library. Exit 1 with one line on stderr when no broker answers, the
topic or partition does not exist, or the partition has no leader.
"""

import socket
import struct
import sys

METADATA, VERSION = 3, 4
TIMEOUT_S = 10
ERRORS = {3: "the topic does not exist", 5: "the partition has no leader"}


def fail(message):
    sys.exit(f"kafka.sh: {message}")


def request(topic):
    client = b"kafka.sh"
    body = (struct.pack(">hhih", METADATA, VERSION, 1, len(client)) + client +
            struct.pack(">ih", 1, len(topic)) + topic + b"\x00")  # no auto-creation
    return struct.pack(">i", len(body)) + body


def exchange(address, topic):
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=TIMEOUT_S) as sock:
        sock.sendall(request(topic))
        size = struct.unpack(">i", receive(sock, 4))[0]
        return receive(sock, size)


def receive(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        data += chunk
    return data


class Reader:
    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, fmt):
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return values[0] if len(values) == 1 else values

    def string(self):
        size = self.take(">h")
        text = self.data[self.at:self.at + max(size, 0)].decode()
        self.at += max(size, 0)
        return text if size >= 0 else None

    def int_array(self):
        return [self.take(">i") for _ in range(self.take(">i"))]


def partition_state(response, partition):
    """(leader id, in-sync replica ids) from a Metadata v4 response for one topic."""
    r = Reader(response)
    r.take(">ii")  # correlation id, throttle time
    for _ in range(r.take(">i")):  # brokers: id, host, port, rack
        r.take(">i"), r.string(), r.take(">i"), r.string()
    r.string(), r.take(">i")  # cluster id, controller id
    if r.take(">i") != 1:
        fail("expected one topic in the metadata response")
    error, name, _internal = r.take(">h"), r.string(), r.take(">b")
    if error:
        fail(f"topic {name}: {ERRORS.get(error, f'error code {error}')}")
    for _ in range(r.take(">i")):
        error, index, leader_id = r.take(">hii")
        _replicas, isr = r.int_array(), r.int_array()
        if index == partition:
            if error or leader_id < 0:
                fail(f"{name} [{partition}]: {ERRORS.get(error or 5, f'error code {error}')}")
            return leader_id, isr
    fail(f"topic {name} has no partition {partition}")


def main():
    if (len(sys.argv) != 5 or sys.argv[1] not in ("leader", "isr") or
            not sys.argv[4].isdigit()):
        sys.exit("usage: partition_metadata.py leader|isr BOOTSTRAP TOPIC PARTITION")
    what, addresses = sys.argv[1], sys.argv[2].split(",")
    topic, partition = sys.argv[3], int(sys.argv[4])
    failures = []
    for address in addresses:
        try:
            response = exchange(address, topic.encode())
        except OSError as e:
            failures.append(f"{address}: {e}")
            continue
        leader, isr = partition_state(response, partition)
        print(leader if what == "leader" else ",".join(map(str, sorted(isr))))
        return
    fail(f"no broker answered ({'; '.join(failures)})")


if __name__ == "__main__":
    main()
