#!/usr/bin/env bash
# The artifact and profiler commands, end to end on a real program (Examples/c/hello.c,
# built for WASI): compile to an artifact, run it, run a foreign-target one (a clear
# error), objdump every target, profile a run and report it.
# Usage: .ci/cli-smoke.sh SHEAVE_BINARY
set -euo pipefail
sheave="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
Examples/c/build.sh >/dev/null
expected="$("$sheave" run Examples/c/hello.wasm Ada)"
"$sheave" compile Examples/c/hello.wasm -o "$work/hello.cwasm"
[ "$("$sheave" run "$work/hello.cwasm" Ada)" = "$expected" ] || { echo "artifact output differs"; exit 1; }
# --no-parallel-compilation is taken, and changes nothing (hello.wasm is below the size where
# compiling goes parallel: CompilerTests and CProgramTests compare code and images made both ways).
"$sheave" compile --no-parallel-compilation Examples/c/hello.wasm -o "$work/hello-alone.cwasm" >/dev/null
cmp -s "$work/hello.cwasm" "$work/hello-alone.cwasm" || { echo "compiled on one thread, hello.wasm is another artifact"; exit 1; }
[ "$("$sheave" run --no-parallel-compilation Examples/c/hello.wasm Ada)" = "$expected" ] || { echo "output differs without parallel compilation"; exit 1; }
for target in pulley32 pulley32be pulley64be; do
    "$sheave" compile --target "$target" Examples/c/hello.wasm -o "$work/hello-$target.cwasm" >/dev/null
    if "$sheave" run "$work/hello-$target.cwasm" Ada 2>"$work/err"; then echo "a $target artifact ran"; exit 1; fi
    grep -q "compiled for $target" "$work/err" || { cat "$work/err"; exit 1; }
    "$sheave" objdump "$work/hello-$target.cwasm" --function main | grep -q "<wasm::function\[.* main\]>"
done
head -c 1000 "$work/hello.cwasm" >"$work/truncated.cwasm"
if "$sheave" run "$work/truncated.cwasm" 2>"$work/err"; then echo "a truncated artifact ran"; exit 1; fi
grep -q "truncated" "$work/err" || { cat "$work/err"; exit 1; }
"$sheave" run --profile "$work/loop.profile" --invoke sum Examples/loop.wat 20000000 >/dev/null 2>&1
"$sheave" profile "$work/loop.profile" --html "$work/loop.html" | grep -q "Most frequent op pairs"
grep -q "</html>" "$work/loop.html"
# sheave run as Wasmtime's: --version, --preload, every result of --invoke, --env and stdin.
"$sheave" --version | grep -Eq '^sheave [0-9]+\.[0-9]+\.[0-9]+$'
cat >"$work/lib.wat" <<'WAT'
(module (func (export "pair") (param i32) (result i32 i64) (i32.mul (local.get 0) (i32.const 3)) (i64.const -1)))
WAT
cat >"$work/main.wat" <<'WAT'
(module (import "lib" "pair" (func $pair (param i32) (result i32 i64)))
  (func (export "twice") (param i32) (result i32 i64 f32) (call $pair (local.get 0)) (f32.const 1.5)))
WAT
[ "$("$sheave" run --preload "lib=$work/lib.wat" --invoke twice "$work/main.wat" 14 | tr '\n' ' ')" = "42 -1 1.5 " ] || {
    "$sheave" run --preload "lib=$work/lib.wat" --invoke twice "$work/main.wat" 14; echo "--preload or multi-value --invoke failed"; exit 1; }
# Wasm 3.0 from the command line: a C program built for wasm64 (memory64) gives the
# wasm32 build's answer, directly and from an artifact, and its bytecode uses the ops
# with 64-bit addresses; a mutual tail recursion a million calls deep runs in constant stack.
for bits in 32 64; do
    clang --target=wasm$bits -O2 -nostdlib -fuse-ld=lld -Wl,--no-entry -o "$work/kernels$bits.wasm" Benchmarks/wasm64/kernels.c
done
wasm32="$("$sheave" run --invoke run "$work/kernels32.wasm" 1)"
[ "$("$sheave" run --invoke run "$work/kernels64.wasm" 1)" = "$wasm32" ] || { echo "the wasm64 build answered differently"; exit 1; }
"$sheave" compile "$work/kernels64.wasm" -o "$work/kernels64.cwasm"
[ "$("$sheave" run --invoke run "$work/kernels64.cwasm" 1)" = "$wasm32" ] || { echo "the wasm64 artifact answered differently"; exit 1; }
# (Through a file: `grep -q` stops reading at the first match, and with pipefail the
# listing's writer, cut off, would fail the pipe.)
"$sheave" objdump "$work/kernels64.wasm" >"$work/kernels64.txt"
grep -q "xload32_u64_m" "$work/kernels64.txt" || { echo "no 64-bit-address op in the wasm64 bytecode"; exit 1; }
if "$sheave" run --wasm memory64=n --invoke run "$work/kernels64.wasm" 1 2>"$work/err"; then echo "memory64=n ran a 64-bit memory"; exit 1; fi
grep -q "a 64-bit memory needs a feature that is not enabled" "$work/err" || { cat "$work/err"; exit 1; }
cat >"$work/tail.wat" <<'WAT'
(module
  (func $even (export "even") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 1)) (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
  (func $odd (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 0)) (else (return_call $even (i64.sub (local.get 0) (i64.const 1)))))))
WAT
[ "$("$sheave" run --stack-size 65536 --invoke even "$work/tail.wat" 1000001)" = 0 ] || { echo "the tail recursion failed"; exit 1; }
# Exceptions: a C++ program whose catch blocks and destructors run (directly and
# from an artifact), an uncaught throw's exit code and backtrace, its catch clauses in objdump.
cp Tests/SheaveWASITests/Programs/exceptions.cpp "$work/"
Examples/c/build.sh "$work/exceptions.cpp" >/dev/null
"$sheave" run "$work/exceptions.wasm" >"$work/exceptions.txt"
grep -q '^rethrown: code 1005, 6 destructors ran$' "$work/exceptions.txt" || { cat "$work/exceptions.txt"; echo "the C++ program's catch blocks did not run"; exit 1; }
"$sheave" compile "$work/exceptions.wasm" -o "$work/exceptions.cwasm"
"$sheave" run "$work/exceptions.cwasm" | cmp -s - "$work/exceptions.txt" || { echo "the C++ artifact's output differs"; exit 1; }
status=0; "$sheave" run "$work/exceptions.wasm" uncaught >/dev/null 2>"$work/err" || status=$?
[ "$status" = 134 ] && grep -q "uncaught exception" "$work/err" && grep -q "fail(int, char const\*)" "$work/err" || {
    cat "$work/err"; echo "an uncaught C++ exception: exit $status"; exit 1; }
"$sheave" objdump "$work/exceptions.wasm" >"$work/exceptions-objdump.txt"
grep -q "; catch_all_ref in 0x" "$work/exceptions-objdump.txt" || { echo "objdump shows no catch clause"; exit 1; }
# A plain `run FILE ARGS` is read without ArgumentParser: the same output, exit statuses and
# messages as a command line ArgumentParser reads (an option makes it one).
printf '(module (func (export "_start") unreachable))' >"$work/trap.wat"
for option in "" "--dispatch match"; do
    # shellcheck disable=SC2086
    [ "$("$sheave" run $option Examples/c/hello.wasm Ada)" = "$expected" ] || { echo "run $option: output differs"; exit 1; }
    status=0; "$sheave" run $option "$work/nosuch.wasm" 2>"$work/err" || status=$?
    [ "$status" = 1 ] && grep -q "nosuch.wasm: no such file" "$work/err" || { cat "$work/err"; echo "run $option of a missing file: exit $status"; exit 1; }
    status=0; "$sheave" run $option "$work/trap.wat" 2>"$work/err" || status=$?
    [ "$status" = 134 ] && grep -q "trap: unreachable" "$work/err" || { cat "$work/err"; echo "run $option of a trap: exit $status"; exit 1; }
done
echo "artifacts, targets, objdump, the profiler, --version, --preload, multi-value --invoke, wasm64, tail calls, exceptions and plain runs work from the command line"
