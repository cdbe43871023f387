#!/usr/bin/env bash
# Real programs built by others, side by side on Sheave, WasmKit 0.4.2,
# Wasmtime's own CLI (Pulley and Cranelift, no compiled-module cache) and
# wasm3: whole-process time, start-up and peak memory (compare.py says how).
#
#   Benchmarks/real/run.sh [RUNS]        (RUNS defaults to 5; also: Benchmarks/compare.sh --real [RUNS])
#
# Fetched at run time into Benchmarks/out/real/ (never committed; fetch.sh
# takes them from $GIT_MIRROR when set, else from GitHub): wasmi-labs/rust-benchmarks
# (the programs, their inputs) and wasm3/wasm3 (built with gcc -O3, its own
# documented build). prepare.py turns each program into a command that checks its result.
# Needs ../shared/tools/anchors.sh (builds .anchors/ once, about 10 minutes).
set -euo pipefail
RUNS="${1:-5}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
OUT=Benchmarks/out/real
swift build -c release --scratch-path .build-release --product sheave >/dev/null
bash ../shared/tools/anchors.sh .anchors >/dev/null 2>&1
Benchmarks/real/fetch.sh wasmi-labs/rust-benchmarks "$OUT/rust-benchmarks"
if [ ! -x .anchors/bin/wasm3 ]; then
    Benchmarks/real/fetch.sh wasm3/wasm3 "$OUT/wasm3"
    (cd "$OUT/wasm3" && gcc -O3 -Dd_m3HasWASI -Isource source/*.c platforms/app/main.c -lm -o "$ROOT/.anchors/bin/wasm3")
fi
.anchors/venv/bin/python3 Benchmarks/real/prepare.py "$OUT/rust-benchmarks" "$OUT/programs" >/dev/null
echo "$(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores;" \
     "wasmi-labs/rust-benchmarks at $(cut -c1-7 "$OUT/rust-benchmarks/.fetched"); $RUNS runs each, interleaved"
echo
WT=.anchors/bin/wasmtime
.anchors/venv/bin/python3 Benchmarks/real/compare.py "$OUT/programs" "$RUNS" \
    "sheave=$ROOT/.build-release/release/sheave run" \
    "wasmkit=$ROOT/.anchors/bin/wasmkit042" \
    "pulley=$WT run -C cache=n --target pulley64" \
    "cranelift=$WT run -C cache=n" \
    "wasm3=$ROOT/.anchors/bin/wasm3"
