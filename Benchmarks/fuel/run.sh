#!/usr/bin/env bash
# The cost of fuel metering: each program run with and without --fuel, interleaved,
# median of 5 runs each. Usage: Benchmarks/fuel/run.sh (from the repository root).
set -euo pipefail
swift build -c release --scratch-path .build-release --product sheave >/dev/null
S=.build-release/release/sheave
cases=(
  "fib(32)|--invoke fib Examples/fib.wat 32"
  "loop, 200 M iterations|--invoke sum Examples/loop.wat 200000000"
  "sieve, 1 MB x 40|--invoke sieve Benchmarks/fuel/sieve.wat 1000000 40"
)
now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| program | fuel off (s) | fuel on (s) | on / off |"
echo "|---|---:|---:|---:|"
for c in "${cases[@]}"; do
  name="${c%%|*}"; args="${c#*|}"
  off=(); on=()
  for _ in 1 2 3 4 5; do
    t=$(now); $S run $args >/dev/null; off+=($(( $(now) - t )))
    t=$(now); $S run --fuel 9000000000000000000 $args >/dev/null; on+=($(( $(now) - t )))
  done
  o=$(printf '%s\n' "${off[@]}" | median); f=$(printf '%s\n' "${on[@]}" | median)
  awk -v n="$name" -v o="$o" -v f="$f" 'BEGIN { printf "| %s | %.3f | %.3f | %.3f |\n", n, o/1e9, f/1e9, f/o }'
done
