"""IMAPS login generator with TLS session resumption, for `deno task bench` (scripts/bench/cell.ts).

Why Python: resumption needs a client that keeps each connection's session and offers it on
the next one. The Deno generator (loadgen.ts) cannot: Deno.startTls never offers a session,
and Deno's node:tls client keeps TLS 1.3 tickets in one store per host and port that 50
concurrent clients drain (measured: against mailproxy 56-62 % of the offered sessions were not
resumed, against nginx none; Python's OpenSSL client against the same mailproxy: all resumed).
Python's ssl module hands each connection its own session object, as a mail client does.

Speaks loadgen.ts's protocol: flags as loadgen.ts (--op imap_login only, --port, --clients,
--client-offset, --users, --password; --ca ignored: no verification, the lab's server is ours),
prints "ready", waits for "go START END" (ms since the epoch), counts logins that finish inside
the window, prints "result {json}". --resume: every client offers the session of its previous
connection, and a connection that does not resume it counts as a failed operation.
"""

import argparse
import json
import socket
import ssl
import sys
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--op", default="imap_login")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--clients", type=int, default=1)
parser.add_argument("--client-offset", type=int, default=0)
parser.add_argument("--users", type=int, default=50)
parser.add_argument("--password", default="benchpass")
parser.add_argument("--ca")
parser.add_argument("--resume", action="store_true")
args, _ = parser.parse_known_args()
if args.op != "imap_login":
    print("error tls_loadgen.py runs imap_login only", flush=True)
    sys.exit(0)

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

lock = threading.Lock()
state = {"ops": 0, "errors": 0, "first_error": None, "latency": 0.0, "bytes": 0}
window = {"start": 0.0, "end": 0.0}
stopping = threading.Event()


def read_tagged(sock, buf, tag):
    """Reads until a line starting with `tag`; returns (line, rest of buffer, bytes read)."""
    got = 0
    while True:
        for line in buf.split(b"\r\n")[:-1]:
            if line.startswith(tag):
                return line, got
        chunk = sock.recv(16384)
        if not chunk:
            raise RuntimeError("connection closed by server")
        got += len(chunk)
        buf += chunk


def one_login(i, session):
    user = "bench%d" % ((args.client_offset + i) % args.users)
    raw = socket.create_connection((args.host, args.port))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s = ctx.wrap_socket(raw, session=session)
    try:
        received = 0
        line, n = read_tagged(s, b"", b"* OK")
        received += n
        s.sendall(("a LOGIN %s %s\r\n" % (user, args.password)).encode())
        line, n = read_tagged(s, b"", b"a ")
        received += n
        if not line.startswith(b"a OK"):
            raise RuntimeError("LOGIN: %r" % line[:200])
        s.sendall(b"b LOGOUT\r\n")
        line, n = read_tagged(s, b"", b"b ")
        received += n
        # The session now holds the TLS 1.3 ticket, which comes after the handshake.
        return s.session, s.session_reused, received
    finally:
        s.close()


def loop(i):
    session = None
    while not stopping.is_set():
        began = time.time() * 1000
        try:
            offered = session is not None and args.resume
            session_out, reused, received = one_login(i, session if args.resume else None)
            if args.resume:
                session = session_out
            if offered and not reused:
                raise RuntimeError("TLS session offered but not resumed")
            now = time.time() * 1000
            if window["start"] <= now <= window["end"]:
                with lock:
                    state["ops"] += 1
                    state["latency"] += now - began
                    state["bytes"] += received
        except Exception as err:  # noqa: BLE001 - every failure is counted, never fatal
            now = time.time() * 1000
            if window["start"] <= now <= window["end"]:
                with lock:
                    state["errors"] += 1
                    if state["first_error"] is None:
                        state["first_error"] = str(err)
            time.sleep(0.02)


print("ready", flush=True)
go = sys.stdin.readline().split()
if not go or go[0] != "go":
    sys.exit(0)
window["start"], window["end"] = float(go[1]), float(go[2])
threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(args.clients)]
for t in threads:
    t.start()
time.sleep(max(0.0, (window["end"] - time.time() * 1000) / 1000))
with lock:
    result = {
        "ops": state["ops"],
        "bytes": state["bytes"],
        "errors": state["errors"],
        "meanLatencyMs": state["latency"] / state["ops"] if state["ops"] else 0,
        "windowMs": window["end"] - window["start"],
    }
    if state["first_error"] is not None:
        result["firstError"] = state["first_error"]
print("result " + json.dumps(result), flush=True)
stopping.set()
deadline = time.time() + 5
for t in threads:
    t.join(max(0.0, deadline - time.time()))
