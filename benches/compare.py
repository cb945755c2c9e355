#!/usr/bin/env python3
"""Runs each Lua benchmark under hotlua, lua5.4 and luajit (when installed), checks that the
outputs agree, and prints the median wall time of each and the ratio to lua5.4.

Usage: python3 benches/compare.py [--runs N] [bench ...]
Build hotlua first: cargo build --release
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LUA_DIR = os.path.join(HERE, "lua")


def run(cmd, script):
    start = time.perf_counter()
    proc = subprocess.run(cmd + [script], capture_output=True, cwd=LUA_DIR, timeout=600)
    elapsed = time.perf_counter() - start
    return elapsed, proc.returncode, proc.stdout, proc.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("benches", nargs="*")
    args = ap.parse_args()

    hotlua = os.path.join(ROOT, "target", "release", "hotlua")
    if not os.path.exists(hotlua):
        sys.exit("build hotlua first: cargo build --release")
    engines = [("hotlua", [hotlua])]
    for name in ("lua5.4", "luajit"):
        if shutil.which(name):
            engines.append((name, [name]))

    names = args.benches or sorted(f[:-4] for f in os.listdir(LUA_DIR) if f.endswith(".lua"))
    header = f"{'benchmark':<16}" + "".join(f"{e:>12}" for e, _ in engines)
    if any(e == "lua5.4" for e, _ in engines):
        header += f"{'hotlua/lua5.4':>15}"
    print(header)
    failed = False
    for bench in names:
        script = bench + ".lua"
        medians, outputs = {}, {}
        for ename, cmd in engines:
            times = []
            for _ in range(args.runs):
                t, rc, out, err = run(cmd, script)
                if rc != 0:
                    print(f"{bench}: {ename} failed: {err.decode(errors='replace').strip()}")
                    times = None
                    break
                times.append(t)
                outputs[ename] = out
            medians[ename] = statistics.median(times) if times else None
        ref = outputs.get("lua5.4")
        if ref is not None and outputs.get("hotlua") not in (None, ref):
            print(f"{bench}: OUTPUT DIFFERS from lua5.4")
            failed = True
        row = f"{bench:<16}"
        for ename, _ in engines:
            m = medians[ename]
            row += f"{m:>11.3f}s" if m is not None else f"{'-':>12}"
        if medians.get("lua5.4") and medians.get("hotlua"):
            row += f"{medians['hotlua'] / medians['lua5.4']:>15.2f}"
        print(row, flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
