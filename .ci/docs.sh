#!/bin/bash
# Builds the Sheave module's DocC documentation (Sources/Sheave/Sheave.docc and
# every public symbol's comment) with the toolchain's docc, warnings as errors:
# a broken symbol link, a bad topic or a malformed comment fails CI.
# `swift package dump-symbol-graph` gives the symbol graphs (no plugin needed).
#   bash .ci/docs.sh [OUTPUT]   (default .build/Sheave.doccarchive)
set -euo pipefail
cd "$(dirname "$0")/.."
output="${1:-.build/Sheave.doccarchive}"
graphs="$(swift package dump-symbol-graph --minimum-access-level public | sed -n 's/^Files written to //p')"
only="$(mktemp -d)"
trap 'rm -rf "$only"' EXIT
cp "$graphs"/Sheave.symbols.json "$graphs"/Sheave@*.symbols.json "$only"/
docc convert Sources/Sheave/Sheave.docc --additional-symbol-graph-dir "$only" --output-path "$output" \
    --fallback-display-name Sheave --fallback-bundle-identifier org.sheave.Sheave --warnings-as-errors
echo "documentation: $output (no warnings)"
