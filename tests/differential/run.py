#!/usr/bin/env python3
"""Differential runs: COUNT programs from gen.py run by hotlua and by lua5.4; their outputs
(stdout, stderr, exit status) must be identical.

    python3 tests/differential/run.py [--count 10000] [--start 0] [--jobs 2] [--hotlua PATH]

Prints each differing seed with both outputs' first differing line, and a summary; exits 1
when any program differs. Reproduce one seed with `gen.py SEED > prog.lua`.
"""
import argparse
import concurrent.futures
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import gen  # noqa: E402


def run(cmd, path, cwd):
    try:
        p = subprocess.run(cmd + [path], cwd=cwd, capture_output=True, timeout=20)
        # The interpreter names itself at the start of its error lines: not a difference.
        err = b"\n".join(
            b"LUA:" + l.split(b":", 1)[1] if l.startswith((b"lua5.4:", b"hotlua:")) else l
            for l in p.stderr.split(b"\n"))
        return p.returncode, p.stdout, err
    except subprocess.TimeoutExpired:
        return "timeout", b"", b""


def one(seed, hotlua, tmp):
    src = gen.Gen(seed).program()
    d = os.path.join(tmp, str(seed))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "prog.lua"), "w") as f:
        f.write(src)
    a = run(["lua5.4"], "prog.lua", d)
    b = run([hotlua], "prog.lua", d)
    if a == b:
        return None
    la = (a[1] + a[2]).decode(errors="replace").splitlines()
    lb = (b[1] + b[2]).decode(errors="replace").splitlines()
    i = next((k for k in range(max(len(la), len(lb)))
              if k >= len(la) or k >= len(lb) or la[k] != lb[k]), 0)
    return "seed %d: status %s vs %s\n  lua5.4: %s\n  hotlua: %s" % (
        seed, a[0], b[0], la[i] if i < len(la) else "<end>", lb[i] if i < len(lb) else "<end>")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--hotlua", default=os.path.join(ROOT, "target", "release", "hotlua"))
    a = ap.parse_args()
    diffs = []
    with tempfile.TemporaryDirectory() as tmp:
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
            for r in ex.map(lambda s: one(s, a.hotlua, tmp), range(a.start, a.start + a.count)):
                if r:
                    diffs.append(r)
                    print(r, flush=True)
    print("differential: %d programs, %d differences" % (a.count, len(diffs)))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
