#!/usr/bin/env bash
# Runs the embedding tests (tests/embedding.rs: every capability of the public API) and the
# VM's heap, interpreter and patch engine unit tests under Miri, which reports undefined behaviour (use after free,
# aliasing violations under Stacked Borrows, out-of-bounds access) that ordinary runs miss.
#
# Usage: scripts/miri.sh [test-name-filter]
# Needs a nightly toolchain with the miri component; installs it when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal --component miri,rust-src
fi
# Isolation off: the tests read the clock (timers, the watchdog) and spawn threads.
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}"
cargo +nightly miri test -p hotlua --test embedding -- "$@"
cargo +nightly miri test -p hotlua-vm --lib -- gc:: interp:: patch:: "$@"
