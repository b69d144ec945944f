#!/usr/bin/env python3
"""Asks a Kafka broker for cluster metadata and prints what it reports.

Used by kafka.sh to decide that a broker is up: a listening socket is not enough, the broker must answer
a Metadata request and report the expected number of registered brokers. Speaks the wire protocol
directly (Metadata v4, the oldest version Kafka 4 still serves) so that it needs neither a JVM start per
poll nor a built ebb.

Exit status: 0 when the broker answered with at least --expect-brokers brokers, 1 otherwise.
"""
import argparse
import socket
import struct
import sys

METADATA_API_KEY = 3
METADATA_VERSION = 4


def encode_request(correlation_id: int) -> bytes:
    client_id = b"ebb-probe"
    header = struct.pack(">hhih", METADATA_API_KEY, METADATA_VERSION, correlation_id, len(client_id))
    # topics = null (-1): all topics; allow_auto_topic_creation = false.
    body = struct.pack(">i?", -1, False)
    payload = header + client_id + body
    return struct.pack(">i", len(payload)) + payload


class Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values[0] if len(values) == 1 else values

    def string(self):
        length = self.take(">h")
        if length < 0:
            return None
        value = self.data[self.pos:self.pos + length].decode()
        self.pos += length
        return value


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed by the broker")
        chunks += chunk
    return bytes(chunks)


def fetch_metadata(host: str, port: int, timeout: float):
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(encode_request(correlation_id=1))
        size = struct.unpack(">i", recv_exactly(sock, 4))[0]
        reader = Reader(recv_exactly(sock, size))
    if reader.take(">i") != 1:
        raise ValueError("response correlation id does not match the request")
    reader.take(">i")  # throttle_time_ms
    brokers = []
    for _ in range(reader.take(">i")):
        node_id = reader.take(">i")
        broker_host = reader.string()
        broker_port = reader.take(">i")
        reader.string()  # rack
        brokers.append((node_id, broker_host, broker_port))
    cluster_id = reader.string()
    controller_id = reader.take(">i")
    return cluster_id, controller_id, brokers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bootstrap", help="HOST:PORT of one broker")
    parser.add_argument("--expect-brokers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds for connect and answer")
    args = parser.parse_args()
    host, _, port = args.bootstrap.rpartition(":")
    try:
        cluster_id, controller_id, brokers = fetch_metadata(host, int(port), args.timeout)
    except (OSError, ValueError, struct.error) as error:
        print(f"no metadata from {args.bootstrap}: {error}", file=sys.stderr)
        return 1
    listing = ",".join(f"{node}@{h}:{p}" for node, h, p in sorted(brokers))
    print(f"cluster_id={cluster_id} controller={controller_id} brokers={listing}")
    return 0 if len(brokers) >= args.expect_brokers else 1


if __name__ == "__main__":
    sys.exit(main())
