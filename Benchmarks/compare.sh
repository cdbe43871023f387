#!/usr/bin/env bash
# Runs every benchmark program on Sheave and on the anchors (WasmKit 0.4.2,
# Wasmtime's Pulley and Cranelift), interleaved, several runs each; prints the
# median time and peak memory per program and runtime, Sheave's ratio to each,
# and the geometric means; then compile times (Sheave against WasmKit, in one
# process). Every runtime's output must equal the program's checksum in
# Benchmarks/programs/expected.txt. Programs built for SIMD (a "// cflags:" line
# with -msimd128) get their own rows, after the means: the means are of the
# scalar programs, so that comparing SIMD support does not move them.
#
#   Benchmarks/compare.sh [RUNS]        (from anywhere; RUNS defaults to 5)
#   COREMARK=coremark.wasm Benchmarks/compare.sh [RUNS]
#   Benchmarks/compare.sh --real [RUNS]  (real programs built by others: Benchmarks/real/run.sh)
#
# With COREMARK set to a CoreMark module you built (eembc/coremark for
# wasm32-wasi, with ITERATIONS fixed; neither its code nor a build script is in
# this repository), its score (iterations per second, median) is compared too.
#
# Needs ../shared/tools/anchors.sh (builds .anchors/ once, about 10 minutes),
# /usr/bin/time (Debian's `time`) for peak memory.
set -euo pipefail
if [ "${1:-}" = --real ]; then shift; exec "$(dirname "$0")/real/run.sh" "$@"; fi
RUNS="${1:-5}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
swift build -c release --scratch-path .build-release --product sheave >/dev/null
bash ../shared/tools/anchors.sh .anchors >/dev/null 2>&1
Examples/c/build.sh Benchmarks/programs/*.c >/dev/null
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time is missing: apt-get install time" >&2; exit 1; }
declare -A RUNTIMES=([sheave]="$ROOT/.build-release/release/sheave run --dir ." [wasmkit]="$ROOT/.anchors/bin/wasmkit042"
                     [pulley]="$ROOT/.anchors/bin/pulley" [cranelift]="$ROOT/.anchors/bin/cranelift")
ORDER=(sheave wasmkit pulley cranelift)
declare -A EXPECTED=()
while IFS=$'\t' read -r name output; do EXPECTED[$name]="$output"; done < Benchmarks/programs/expected.txt

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure="$(mktemp)"
trap 'rm -f "$measure"' EXIT

echo "$(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $RUNS runs each, interleaved; medians"
echo
printf '| program |'; for r in "${ORDER[@]}"; do printf ' %s (s) |' "$r"; done
printf ' sheave/wasmkit | sheave/pulley | sheave/cranelift |'; for r in "${ORDER[@]}"; do printf ' %s MiB |' "$r"; done; printf '\n'
printf '|---|'; for _ in $(seq 11); do printf -- '---:|'; done; printf '\n'
declare -A logsum=([wasmkit]=0 [pulley]=0 [cranelift]=0)
count=0
scalar=() vector=()
for wasm in Benchmarks/programs/*.wasm; do
    if grep -q '^// cflags:.*-msimd128' "${wasm%.wasm}.c" 2>/dev/null; then vector+=("$wasm"); else scalar+=("$wasm"); fi
done
row() {
    local wasm="$1" in_mean="$2" name
    name=$(basename "$wasm" .wasm)
    [ -n "${EXPECTED[$name]:-}" ] || { echo "error: no expected output for $name in Benchmarks/programs/expected.txt" >&2; exit 1; }
    declare -A times=() peaks=()
    for _ in $(seq "$RUNS"); do
        for r in "${ORDER[@]}"; do
            out=$(/usr/bin/time -f '%e %M' -o "$measure" ${RUNTIMES[$r]} "$wasm" 2>/dev/null | paste -sd'|')
            if [ "$out" != "${EXPECTED[$name]}" ]; then echo "error: $r printed '$out' for $name, expected '${EXPECTED[$name]}'" >&2; exit 1; fi
            read -r seconds kib < <(tail -n 1 "$measure")
            times[$r]+="$seconds "
            peaks[$r]+="$kib "
        done
    done
    declare -A med=() peak=()
    for r in "${ORDER[@]}"; do
        med[$r]=$(echo "${times[$r]}" | tr ' ' '\n' | grep . | median)
        peak[$r]=$(echo "${peaks[$r]}" | tr ' ' '\n' | grep . | median)
    done
    if [ "$in_mean" = yes ]; then printf '| %s |' "$name"; else printf '| %s (SIMD, not in the means) |' "$name"; fi
    for r in "${ORDER[@]}"; do printf ' %.2f |' "${med[$r]}"; done
    for r in wasmkit pulley cranelift; do
        awk -v s="${med[sheave]}" -v o="${med[$r]}" 'BEGIN { printf " %.2f |", s / o }'
        if [ "$in_mean" = yes ]; then
            logsum[$r]=$(awk -v l="${logsum[$r]}" -v s="${med[sheave]}" -v o="${med[$r]}" 'BEGIN { print l + log(s / o) }')
        fi
    done
    for r in "${ORDER[@]}"; do awk -v k="${peak[$r]}" 'BEGIN { printf " %.1f |", k / 1024 }'; done
    printf '\n'
    if [ "$in_mean" = yes ]; then count=$((count + 1)); fi
    unset times peaks med peak
}
for wasm in "${scalar[@]}"; do row "$wasm" yes; done
printf '| **geometric mean** | | | | |'
for r in wasmkit pulley cranelift; do awk -v l="${logsum[$r]}" -v n="$count" 'BEGIN { printf " **%.2f** |", exp(l / n) }'; done
printf ' | | | |\n'
for wasm in "${vector[@]}"; do row "$wasm" no; done
if [ -n "${COREMARK:-}" ]; then
    echo
    echo "CoreMark ($(basename "$COREMARK")), iterations per second, median of $RUNS; ratio to Cranelift:"
    echo
    printf '|'; for r in "${ORDER[@]}"; do printf ' %s |' "$r"; done; printf '\n|'; for _ in "${ORDER[@]}"; do printf -- '---:|'; done; printf '\n'
    declare -A scores=()
    for _ in $(seq "$RUNS"); do
        for r in "${ORDER[@]}"; do
            out=$(${RUNTIMES[$r]} "$COREMARK" 2>/dev/null)
            grep -q 'crcfinal      : 0x' <<<"$out" || { echo "error: $r did not finish CoreMark" >&2; exit 1; }
            scores[$r]+="$(awk '/Iterations\/Sec/ {print $3}' <<<"$out") "
        done
    done
    declare -A best=()
    for r in "${ORDER[@]}"; do best[$r]=$(echo "${scores[$r]}" | tr ' ' '\n' | grep . | median); done
    printf '|'; for r in "${ORDER[@]}"; do awk -v s="${best[$r]}" -v c="${best[cranelift]}" 'BEGIN { printf " %.0f (%.3f) |", s, s / c }'; done; printf '\n'
fi
echo
echo "Compile time, Sheave against WasmKit (one process, medians of 7 rounds interleaved):"
echo
swift run -c release --package-path Benchmarks/CompileTime compile-time Benchmarks/programs/*.wasm 2>/dev/null
