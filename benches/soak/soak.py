#!/usr/bin/env python3
"""Live-patch soak (issue 16 item 8): the guide's route server under continuous HTTP load
while it is patched and rolled back every few seconds, for a few minutes.

    python3 benches/soak/soak.py [--seconds 180] [--every 2.0] [--clients 4] [--hotlua PATH]

Each cycle alternates two routes of patching: the guide's own (inject a backup script, the
guide's `hotfix_route.lua` over `route_v2.lua`, then inject a restore script: the guide's
rollback loop) and the engine's (`reload route`, then `rollback route`). Meanwhile
`--clients` threads send `GET /?name=x` on fresh connections without pause. At the end it
checks, and exits non-zero unless all hold:
  - no request failed (every answer 200, no connection error);
  - the visitor count is exact: the numbers in the answers are 1..N, each once, and the
    module's own total (`GET /stats`) is N;
  - no descriptor growth: the server's open descriptors are back to their count after
    warm-up;
  - no memory growth beyond noise: resident memory at the end within 8 MiB of the
    warm-up figure (after a collection).
Prints one summary line per check and the figures.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "tests", "guide", "examples")
FIXTURES = os.path.join(ROOT, "tests", "lua", "console")

BACKUP = """-- soak: keep the running functions, as the guide's rollback section does
local route = require "route"
_G.soak_backup = {}
for name, fn in pairs(route) do _G.soak_backup[name] = fn end
"""
RESTORE = """-- soak: the guide's rollback loop
local route = require "route"
for name, fn in pairs(_G.soak_backup) do route[name] = fn end
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Console:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.until_prompt()

    def until_prompt(self):
        while not self.buf.endswith(b"console> "):
            d = self.s.recv(65536)
            if not d:
                raise OSError("console closed")
            self.buf += d
        out = self.buf[:-9].decode()
        self.buf = b""
        return out

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\n")
        return self.until_prompt()


def get(port, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(("GET %s HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n" % path).encode())
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    return status, body.decode()


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--every", type=float, default=2.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--hotlua", default=os.path.join(ROOT, "target", "release", "hotlua"))
    a = ap.parse_args()

    d = tempfile.mkdtemp(prefix="hotlua-soak-")
    shutil.copy(os.path.join(FIXTURES, "server.lua"), d)
    shutil.copy(os.path.join(EXAMPLES, "route_v1.lua"), os.path.join(d, "route.lua"))
    shutil.copy(os.path.join(EXAMPLES, "hotfix_route.lua"), d)
    with open(os.path.join(d, "backup.lua"), "w") as f:
        f.write(BACKUP)
    with open(os.path.join(d, "restore.lua"), "w") as f:
        f.write(RESTORE)
    cport, hport = free_port(), free_port()
    srv = subprocess.Popen(
        [a.hotlua, "server.lua", "--cport=%d" % cport, "--hport=%d" % hport],
        cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    line = srv.stdout.readline().decode()
    if not line.startswith("ready"):
        print("server did not start: " + line)
        return 1
    threading.Thread(target=lambda: srv.stdout.read(), daemon=True).start()
    con = Console(cport)

    numbers, failures, lock = [], [], threading.Lock()
    stop = threading.Event()

    def client():
        while not stop.is_set():
            try:
                status, body = get(hport, "/?name=x")
                if status != 200:
                    raise ValueError("status %d: %s" % (status, body))
                n = int(body.rsplit("#", 1)[1].rstrip(")"))
                with lock:
                    numbers.append(n)
            except Exception as e:  # noqa: BLE001 - every failure counts
                with lock:
                    failures.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(a.clients)]
    for t in threads:
        t.start()
    time.sleep(2)  # warm-up
    con.cmd("gc")
    fd0, rss0 = fds(srv.pid), rss_kib(srv.pid)
    cycles, patch_errors = 0, []
    v1 = open(os.path.join(EXAMPLES, "route_v1.lua")).read()
    v2 = open(os.path.join(EXAMPLES, "route_v2.lua")).read()
    route_file = os.path.join(d, "route.lua")
    t_end = time.time() + a.seconds
    while time.time() < t_end:
        cycles += 1
        if cycles % 2:
            steps = [("inject backup.lua", "Success"), ("inject hotfix_route.lua", "Success"),
                     ("inject restore.lua", "Success")]
            with open(route_file, "w") as f:
                f.write(v2)
        else:
            steps = [("reload route", "OK"), ("rollback route", "OK")]
        for cmd, want in steps:
            r = con.cmd(cmd)
            if want not in r.splitlines()[-1] and not r.startswith(want):
                patch_errors.append("%s: %s" % (cmd, r.strip()))
            time.sleep(a.every / len(steps))
        with open(route_file, "w") as f:
            f.write(v1 if cycles % 2 == 0 else v2)
    stop.set()
    for t in threads:
        t.join()
    time.sleep(0.5)
    con.cmd("gc")
    status, total = get(hport, "/stats")
    fd1, rss1 = fds(srv.pid), rss_kib(srv.pid)
    srv.kill()
    srv.wait()
    shutil.rmtree(d, ignore_errors=True)

    n = len(numbers)
    exact = sorted(numbers) == list(range(1, n + 1)) and int(total) == n + 0
    checks = [
        ("no failed request", not failures, "%d failures %s" % (len(failures), failures[:3])),
        ("patches applied", not patch_errors, "%d errors %s" % (len(patch_errors), patch_errors[:3])),
        ("visitor count exact", exact, "answers %d, module total %s" % (n, total)),
        ("no descriptor growth", fd1 <= fd0, "fds %d -> %d" % (fd0, fd1)),
        ("no memory growth", rss1 - rss0 < 8 * 1024, "rss %d KiB -> %d KiB" % (rss0, rss1)),
    ]
    print("soak: %.0f s, %d patch cycles, %d requests (%.0f/s)" % (a.seconds, cycles, n, n / a.seconds))
    ok = True
    for name, good, detail in checks:
        print("%-22s %s  %s" % (name, "ok" if good else "FAILED", detail))
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
