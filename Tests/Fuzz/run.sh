#!/usr/bin/env bash
# Builds sheave-fuzz with libFuzzer and AddressSanitizer and runs one of its targets.
#
#   Tests/Fuzz/run.sh module SECONDS [libFuzzer flags...]     # bytes -> decode, validate, compile, run (with fuel)
#   Tests/Fuzz/run.sh artifact SECONDS [libFuzzer flags...]   # bytes -> load as an artifact (checksum fixed up), run
#
# The corpus lives in .fuzz/TARGET (kept between runs); the first run seeds it
# with the spec suite's modules (wasm-tools json-from-wast, from the anchors'
# venv) and the benchmark programs, compiled to artifacts for the artifact
# target. Findings are written to .fuzz/findings/; replay one without the
# sanitizer: swift build --product sheave-fuzz && SHEAVE_FUZZ=TARGET .build/debug/sheave-fuzz FILE
set -euo pipefail
cd "$(dirname "$0")/../.."
target="$1"; seconds="$2"; shift 2
case "$target" in module|artifact) ;; *) echo "usage: $0 module|artifact SECONDS [libFuzzer flags]"; exit 2 ;; esac
swift build -c release --scratch-path .build-fuzz --product sheave-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DSHEAVE_FUZZING -Xswiftc -parse-as-library \
    -Xswiftc -enable-experimental-feature -Xswiftc Extern 2>&1 | grep -Ev "warning: Cannot export local symbol" | tail -3
swift build -c release --scratch-path .build-release --product sheave >/dev/null
corpus=".fuzz/$target"
mkdir -p "$corpus" .fuzz/findings
if [ -z "$(ls -A "$corpus")" ]; then
    tools="${WASM_TOOLS:-.anchors/venv/bin/wasm-tools}"
    suite="${SHEAVE_TESTSUITE:-../shared/wasm-testsuite}"
    seeds="$(mktemp -d)"
    find "$suite/core" -name '*.wast' | sort | while read -r wast; do
        dir="$seeds/$(basename "$(dirname "$wast")")-$(basename "$wast" .wast)"
        mkdir -p "$dir"
        "$tools" json-from-wast "$wast" --wasm-dir "$dir" -o "$dir/script.json" 2>/dev/null || true
    done
    cp Benchmarks/programs/*.wasm "$seeds/" 2>/dev/null || true
    i=0
    find "$seeds" -name '*.wasm' | sort | while read -r wasm; do
        i=$((i + 1))
        if [ "$target" = module ]; then
            if [ "$(stat -c %s "$wasm")" -le 262144 ]; then cp "$wasm" "$corpus/seed-$i.wasm"; fi
        else
            .build-release/release/sheave compile "$wasm" -o "$corpus/seed-$i.cwasm" >/dev/null 2>&1 || true
        fi
    done
    rm -rf "$seeds"
    echo "seeded $corpus with $(ls "$corpus" | wc -l) inputs"
fi
SHEAVE_FUZZ="$target" .build-fuzz/release/sheave-fuzz "$corpus" -max_total_time="$seconds" -max_len=262144 \
    -timeout=20 -rss_limit_mb=6144 -print_final_stats=1 -artifact_prefix=.fuzz/findings/ "$@"
