#!/usr/bin/env bash
# Runs every benchmark program on Sheave and on the anchors (WasmKit 0.4.2,
# Wasmtime's Pulley and Cranelift), interleaved, several runs each; prints the
# median time per program and runtime, and Sheave's ratio to each.
# Every runtime's output must match Sheave's (the programs print checksums).
#
#   Benchmarks/compare.sh [RUNS]        (from the repository root; RUNS defaults to 5)
#
# Needs ../shared/tools/anchors.sh (builds .anchors/ once, about 10 minutes).
set -euo pipefail
RUNS="${1:-5}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
swift build -c release --scratch-path .build-release --product sheave >/dev/null
bash ../shared/tools/anchors.sh .anchors >/dev/null 2>&1
Examples/c/build.sh Benchmarks/programs/*.c >/dev/null
SHEAVE="$ROOT/.build-release/release/sheave run --dir ."
declare -A RUNTIMES=([sheave]="$SHEAVE" [wasmkit]="$ROOT/.anchors/bin/wasmkit042" [pulley]="$ROOT/.anchors/bin/pulley" [cranelift]="$ROOT/.anchors/bin/cranelift")
ORDER=(sheave wasmkit pulley cranelift)

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '| program |'; for r in "${ORDER[@]}"; do printf ' %s (s) |' "$r"; done; printf ' sheave/wasmkit | sheave/pulley | sheave/cranelift |\n'
printf '|---|'; for _ in "${ORDER[@]}" 1 2 3; do printf -- '---:|'; done; printf '\n'
for wasm in Benchmarks/programs/*.wasm; do
    name=$(basename "$wasm" .wasm)
    expected=$($SHEAVE "$wasm")
    declare -A times=()
    for _ in $(seq "$RUNS"); do
        for r in "${ORDER[@]}"; do
            t=$(now)
            out=$(${RUNTIMES[$r]} "$wasm" 2>/dev/null)
            times[$r]+="$(( $(now) - t )) "
            if [ "$out" != "$expected" ]; then echo "error: $r printed '$out' for $name, Sheave '$expected'" >&2; exit 1; fi
        done
    done
    declare -A med=()
    for r in "${ORDER[@]}"; do med[$r]=$(echo "${times[$r]}" | tr ' ' '\n' | grep . | median); done
    printf '| %s |' "$name"
    for r in "${ORDER[@]}"; do awk -v t="${med[$r]}" 'BEGIN { printf " %.3f |", t / 1e9 }'; done
    for r in wasmkit pulley cranelift; do awk -v s="${med[sheave]}" -v o="${med[$r]}" 'BEGIN { printf " %.2f |", s / o }'; done
    printf '\n'
    unset times med
done
