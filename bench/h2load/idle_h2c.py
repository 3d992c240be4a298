#!/usr/bin/env python3
"""Memory per idle HTTP/2 cleartext connection of a running server (bench/h2load/h2c_vs_h2o.sh).

Opens CONNS connections by prior knowledge (RFC 9113 §3.4: the client preface, then an empty
SETTINGS frame), waits until every one has the server's SETTINGS, and reads the server's resident
set size (VmRSS of /proc/PID/status) before and after; then sends one GET on stream 1 of each
connection, reads each response to its END_STREAM, and reads the RSS again. Prints one line:

    idle_bytes_per_conn=N after_request_bytes_per_conn=M conns=C

The request is encoded with the HPACK static table only (RFC 7541 Appendix A), so that it needs
no encoder state: :method GET, :scheme http, :path from --path as a literal, :authority literal.
"""
import argparse
import resource
import selectors
import socket
import struct
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS, HEADERS, DATA, GOAWAY, RST_STREAM = 0x4, 0x1, 0x0, 0x7, 0x3
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal(index, value):
    # RFC 7541 §6.2.2: literal without indexing, indexed name (4-bit prefix), plain value.
    assert index < 15 and len(value) < 127
    return bytes([index]) + bytes([len(value)]) + value


def request_block(path, authority):
    return b"\x82\x86" + literal(4, path.encode()) + literal(1, authority.encode())  # GET, http


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS for " + str(pid))


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setblocking(False)
        self.buf = b""
        self.settings = False
        self.ended = False

    def feed(self):
        """Reads what is there; returns False once the peer closed."""
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return True
        if not data:
            return False
        self.buf += data
        while len(self.buf) >= 9:
            length = int.from_bytes(self.buf[:3], "big")
            if len(self.buf) < 9 + length:
                break
            kind, flags = self.buf[3], self.buf[4]
            stream = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
            payload = self.buf[9:9 + length]
            self.buf = self.buf[9 + length:]
            if kind == SETTINGS and not flags & ACK:
                self.settings = True
                self.sock.sendall(frame(SETTINGS, ACK, 0))
            elif kind in (HEADERS, DATA) and stream == 1 and flags & END_STREAM:
                self.ended = True
            elif kind in (GOAWAY, RST_STREAM):
                raise RuntimeError(f"server sent frame type {kind} on stream {stream}: {payload!r}")
        return True


def wait_all(conns, done, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    sel = selectors.DefaultSelector()  # epoll: select() stops at fd 1024
    pending = 0
    for c in conns:
        if not done(c):
            sel.register(c.sock, selectors.EVENT_READ, c)
            pending += 1
    try:
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"{pending} connections without {what} after {timeout} s")
            for key, _ in sel.select(min(left, 1.0)):
                c = key.data
                if not c.feed():
                    raise RuntimeError(f"the server closed a connection before {what}")
                if done(c):
                    sel.unregister(c.sock)
                    pending -= 1
    finally:
        sel.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--conns", type=int, default=2000)
    ap.add_argument("--path", default="/index.html")
    args = ap.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    time.sleep(0.3)
    base = rss(args.pid)
    conns = []
    for _ in range(args.conns):
        c = Conn(args.port)
        c.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
        conns.append(c)
    wait_all(conns, lambda c: c.settings, "the server's SETTINGS")
    time.sleep(0.5)
    idle = rss(args.pid)

    block = request_block(args.path, f"127.0.0.1:{args.port}")
    for c in conns:
        c.sock.sendall(frame(HEADERS, END_STREAM | END_HEADERS, 1, block))
    wait_all(conns, lambda c: c.ended, "a complete response")
    time.sleep(0.5)
    after = rss(args.pid)
    n = len(conns)
    print(f"idle_bytes_per_conn={(idle - base) // n} after_request_bytes_per_conn={(after - base) // n} conns={n}")
    for c in conns:
        c.sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
