#!/usr/bin/env python3
"""Server CPU spent on request heads trickled one byte per send by many clients.

Starts `hotlua tests/lua/http/strict.lua` (or uses --pid/--port of a running server),
opens CONNS connections that each send a request head one byte at a time, and reports the
server's CPU time (from /proc/<pid>/stat) per byte received. Reading must cost O(bytes):
the CPU per byte stays flat however long the head grows (compare --bytes 2000 with
--bytes 60000), where re-buffering on every read made it grow with the head's length.

Usage: python3 benches/runtime/http_trickle.py [--conns 20] [--bytes 20000] [--gap-ms 0.5]
       [--hotlua target/release/hotlua]
"""
import argparse, os, socket, subprocess, sys, time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conns", type=int, default=20)
    ap.add_argument("--bytes", type=int, default=20000, help="header bytes per connection")
    ap.add_argument("--gap-ms", type=float, default=0.5, help="pause between rounds")
    ap.add_argument("--hotlua", default=os.path.join(ROOT, "target", "release", "hotlua"))
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--pid", type=int, default=0)
    a = ap.parse_args()
    if not os.path.exists("/proc/self/stat"):
        print("skipped: no /proc")
        return 0
    server = None
    port, pid = a.port, a.pid
    if not pid:
        if not os.path.exists(a.hotlua):
            print("skipped: no hotlua binary at %s (cargo build --release)" % a.hotlua)
            return 0
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
        server = subprocess.Popen(
            [a.hotlua, "strict.lua", "--port=%d" % port,
             "--opts=header_timeout=600000,max_header_size=1048576"],
            cwd=os.path.join(ROOT, "tests", "lua", "http"), stdout=subprocess.DEVNULL)
        pid = server.pid
        for _ in range(500):
            try:
                socket.create_connection(("127.0.0.1", port)).close(); break
            except OSError:
                time.sleep(0.01)
    try:
        socks = []
        for _ in range(a.conns):
            s = socket.create_connection(("127.0.0.1", port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: ")
            socks.append(s)
        c0, t0 = cpu_seconds(pid), time.time()
        for _ in range(a.bytes):
            for s in socks:
                s.send(b"a")
            if a.gap_ms:
                time.sleep(a.gap_ms / 1000)
        for s in socks:
            s.sendall(b"\r\n\r\n")
        ok = 0
        for s in socks:
            s.settimeout(10)
            if s.recv(100).startswith(b"HTTP/1.1 200"):
                ok += 1
            s.close()
        cpu, wall = cpu_seconds(pid) - c0, time.time() - t0
        total = a.conns * a.bytes
        print("%d conns x %d bytes trickled in %.1f s: server CPU %.2f s, %.2f us/byte, %d/%d answered"
              % (a.conns, a.bytes, wall, cpu, cpu * 1e6 / total, ok, a.conns))
    finally:
        if server:
            server.terminate()
            server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
