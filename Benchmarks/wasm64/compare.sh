#!/usr/bin/env bash
# What 64-bit addresses cost: Benchmarks/wasm64/kernels.c built for wasm32 and
# for wasm64 with the toolchain's clang (freestanding: there is no libc for
# wasm64), each run `run 15` (about a second on Sheave) on Sheave, and on Wasmtime's Pulley and Cranelift
# when its CLI is there (.anchors/bin/wasmtime from ../shared/tools/anchors.sh,
# or WASMTIME=path). Interleaved, RUNS runs each (default 5); medians of the
# whole process's wall time. Every runtime must return the same checksum.
#
#   Benchmarks/wasm64/compare.sh [RUNS]
set -euo pipefail
RUNS="${1:-5}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
swift build -c release --scratch-path .build-release --product sheave >/dev/null
CLANG="${CLANG:-$(command -v clang)}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
for bits in 32 64; do
    "$CLANG" --target=wasm$bits -O2 -nostdlib -fuse-ld=lld -Wl,--no-entry -o "$OUT/kernels$bits.wasm" Benchmarks/wasm64/kernels.c
done
WASMTIME="${WASMTIME:-$ROOT/.anchors/bin/wasmtime}"
declare -A RUNNERS=([sheave]="$ROOT/.build-release/release/sheave run --invoke run")
ORDER=(sheave)
if [ -x "$WASMTIME" ]; then
    RUNNERS[pulley]="$WASMTIME run -C cache=n --target pulley64 -W memory64=y --invoke run"
    RUNNERS[cranelift]="$WASMTIME run -C cache=n -W memory64=y --invoke run"
    ORDER+=(pulley cranelift)
fi
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A times=()
expected=""
for _ in $(seq "$RUNS"); do
    for r in "${ORDER[@]}"; do
        for bits in 32 64; do
            start=$(date +%s.%N)
            result=$(${RUNNERS[$r]} "$OUT/kernels$bits.wasm" 15 2>/dev/null | tail -n 1)
            end=$(date +%s.%N)
            [ -n "$expected" ] || expected="$result"
            if [ "$result" != "$expected" ]; then echo "error: $r (wasm$bits) returned '$result', expected '$expected'" >&2; exit 1; fi
            times[$r$bits]+="$(echo "$end - $start" | bc) "
        done
    done
done
echo "$(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $RUNS runs each, interleaved; medians; checksum $expected"
echo
echo "| runtime | wasm32 (s) | wasm64 (s) | wasm64/wasm32 |"
echo "|---|---:|---:|---:|"
for r in "${ORDER[@]}"; do
    t32=$(echo ${times[${r}32]} | tr ' ' '\n' | median)
    t64=$(echo ${times[${r}64]} | tr ' ' '\n' | median)
    printf '| %s | %.3f | %.3f | %.2f |\n' "$r" "$t32" "$t64" "$(echo "$t64 / $t32" | bc -l)"
done
