#!/usr/bin/env bash
# A Sheave built without SIMD (the InterpreterSIMD trait off) refuses SIMD clearly:
# a SIMD program, and an artifact of it compiled by a Sheave with SIMD.
# Usage: .ci/nosimd-smoke.sh SHEAVE_WITH_SIMD SHEAVE_WITHOUT_SIMD
set -euo pipefail
with="$1" without="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
Examples/c/build.sh Benchmarks/programs/simd.c >/dev/null
"$with" compile Benchmarks/programs/simd.wasm -o "$work/simd.cwasm" >/dev/null
for program in Benchmarks/programs/simd.wasm "$work/simd.cwasm"; do
    if "$without" run "$program" 2>"$work/err"; then echo "$program ran without SIMD"; exit 1; fi
    grep -q "built without the InterpreterSIMD trait" "$work/err" || { cat "$work/err"; exit 1; }
done
[ "$("$without" run Examples/hello.wat)" = "$("$with" run Examples/hello.wat)" ] || { echo "hello.wat differs without SIMD"; exit 1; }
echo "without SIMD: SIMD programs and artifacts are refused, the rest runs"
