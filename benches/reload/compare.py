#!/usr/bin/env python3
"""Issue 6's two reload targets, side by side with lua5.4 in one run.

Runs `hotlua bench.lua native` and `lua5.4 bench.lua` alternately (--runs times each, so
both see the same machine noise), takes the median of each column over the runs, and
prints per N: hotlua's reload (collect + collect + join + replacement), hotlua's load,
hotlua's whole reload (load and run the new source, then the reload) and lua5.4's load,
with the ratio whole / lua5.4 load (below 1.0 means the whole reload is faster than
lua5.4's bare load).

    cargo build --release && python3 benches/reload/compare.py --runs 7
"""
import argparse
import os
import statistics
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(cmd):
    out = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, check=True,
                         timeout=600).stdout
    rows = {}
    for line in out.splitlines()[1:]:
        n, reload_us, load_us, whole_us = line.split()
        rows[int(n)] = (float(reload_us), float(load_us), float(whole_us))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--hotlua", default=os.path.join(ROOT, "target/release/hotlua"))
    ap.add_argument("--lua", default="lua5.4")
    a = ap.parse_args()
    hot, ref = [], []
    for _ in range(a.runs):
        hot.append(run([a.hotlua, "bench.lua", "native"]))
        ref.append(run([a.lua, "bench.lua"]))
    print(f"medians of {a.runs} alternating runs, microseconds")
    print(f"{'N':>6} {'reload':>9} {'load':>9} {'whole':>9} {'lua5.4 load':>12} "
          f"{'lua5.4 Lua-level reload':>24} {'whole/lua5.4 load':>18}")
    for n in sorted(hot[0]):
        med = lambda runs, i: statistics.median(r[n][i] for r in runs)
        reload_us, load_us, whole_us = med(hot, 0), med(hot, 1), med(hot, 2)
        ref_load, ref_reload = med(ref, 1), med(ref, 0)
        print(f"{n:>6} {reload_us:>9.0f} {load_us:>9.0f} {whole_us:>9.0f} {ref_load:>12.0f} "
              f"{ref_reload:>24.0f} {whole_us / ref_load:>18.2f}")


if __name__ == "__main__":
    main()
