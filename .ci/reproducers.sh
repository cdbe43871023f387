#!/usr/bin/env bash
# Issue 18's reproducers (Tests/Reproducers/), then issue 19's bad inputs: each exits cleanly, with the
# status and message expected, within 20 s and 3 GiB of address space
# besides what a memory reserves (ulimit -v is not used: a 4 GiB memory is
# reserved address space by design; the resident size is checked instead).
# Usage: .ci/reproducers.sh SHEAVE_BINARY
set -uo pipefail
sheave="$1"
dir=Tests/Reproducers
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0

# expect NAME STATUS STDERR-PATTERN MAX-RSS-MiB COMMAND...: runs COMMAND, checks its exit status,
# that stderr matches the pattern (an extended regex, empty for any) and the peak resident size.
expect() {
    local name="$1" status="$2" pattern="$3" rss="$4"; shift 4
    local start end got peak
    start=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/rss" timeout 20 "$@" >"$work/out" 2>"$work/err" </dev/null
    got=$?
    end=$(date +%s.%N)
    peak=$(( $(tail -1 "$work/rss" 2>/dev/null || echo 0) / 1024 ))
    local line
    line=$(printf '%-36s exit %3s  %5.2f s  %5s MiB  stderr %6s bytes' "$name" "$got" "$(echo "$end - $start" | bc)" "$peak" "$(wc -c <"$work/err")")
    if [ "$got" != "$status" ]; then echo "FAIL $line (expected exit $status)"; head -c 600 "$work/err"; failed=1; return; fi
    if [ -n "$pattern" ] && ! grep -Eq "$pattern" "$work/err"; then echo "FAIL $line (stderr lacks /$pattern/)"; head -c 600 "$work/err"; failed=1; return; fi
    if [ "$peak" -gt "$rss" ]; then echo "FAIL $line (more than $rss MiB)"; failed=1; return; fi
    echo "ok   $line"
}

expect "block params in unreachable code" 134 "unreachable" 200 "$sheave" run --invoke f "$dir/block-params-in-unreachable-code.wat"
expect "fd_write past memory: EFAULT" 21 "" 200 "$sheave" run "$dir/fd-write-past-memory.wat"
[ -s "$work/out" ] && { echo "FAIL fd_write past memory wrote: $(head -c 100 "$work/out" | od -c | head -2)"; failed=1; }
printf 'keep' >"$work/input"
expect "fd_read past memory: EFAULT" 21 "" 200 bash -c "'$sheave' run '$dir/fd-read-past-memory.wat' <'$work/input'"
expect "random_get of 4 GiB: EFAULT" 21 "" 200 "$sheave" run "$dir/random-get-4gib.wat"
expect "fd_write over 4 GiB: a short write" 63 "" 300 bash -c "'$sheave' run '$dir/fd-write-over-4gib.wat' >/dev/null"
expect "iovs_len 0xFFFFFFFF under fuel" 21 "" 200 "$sheave" run --fuel 1000 "$dir/iovs-len-huge.wat"
expect "memory.grow by 65,535 pages" 1 "" 300 "$sheave" run "$dir/memory-grow-4gib.wat"
expect "runaway recursion, 1 GiB stack" 134 "stack overflow|call stack" 1200 "$sheave" run --stack-size 1073741824 --invoke down "$dir/runaway-recursion.wat" 0
[ "$(wc -l <"$work/err")" -le 20 ] || { echo "FAIL the backtrace has $(wc -l <"$work/err") lines"; failed=1; }
expect "calls between instances, 1M deep" 134 "call stack exhausted" 600 "$sheave" run --stack-size 1073741824 --preload "pong=$dir/calls-between-instances-pong.wat" --invoke f "$dir/calls-between-instances-ping.wat" 1000000
expect "--stack-size 2^63-1: a clear error" 1 "stack-size must be between" 200 "$sheave" run --stack-size 9223372036854775807 "$dir/random-get-4gib.wat"

# Issue 19: bad input gets a readable error naming the file, and exit status 1.
printf 'garbage' >"$work/bad.wasm"
expect "not a module" 1 'bad.wasm: not a WebAssembly module \(the file starts with "garb", not "\\0asm"\)' 200 "$sheave" run "$work/bad.wasm"
expect "missing file" 1 "nope.wasm: no such file" 200 "$sheave" run "$work/nope.wasm"
printf '\0asm\1\0\0\0\1\5\1\140' >"$work/truncated.wasm"
expect "truncated module" 1 "truncated.wasm: .*(unexpected end|too short).* at offset 0x" 200 "$sheave" run "$work/truncated.wasm"
"$sheave" compile "$dir/memory-grow-4gib.wat" -o "$work/good.cwasm" >/dev/null
python3 -c "import sys; b = bytearray(open(sys.argv[1], 'rb').read()); b[-3] ^= 0x40; open(sys.argv[2], 'wb').write(b)" "$work/good.cwasm" "$work/damaged.cwasm"
expect "damaged artifact" 1 "damaged.cwasm: .*checksum" 200 "$sheave" run "$work/damaged.cwasm"
expect "--invoke of a missing export" 1 "no exported function named nope \(the module exports functions down\)" 200 "$sheave" run --invoke nope "$dir/runaway-recursion.wat"
expect "--invoke with a bad argument" 1 "cannot read x as i32" 200 "$sheave" run --invoke down "$dir/runaway-recursion.wat" x
exit $failed
