#!/usr/bin/env python3
"""Makes the real-program benchmarks: programs built by others, run as commands.

    prepare.py RUST_BENCHMARKS OUT

RUST_BENCHMARKS is a checkout of wasmi-labs/rust-benchmarks (Rust libraries
compiled to wasm32 by their authors: compression, regex, JSON, hashing...).
Each case is a library with no imports, driven through its exports `setup`,
`input_ptr`, `run`, `teardown` and an output function, as wasmi-benchmarks'
criterion benchmarks drive it. A command-line runtime cannot drive a library,
so each case is given a `_start` that does what that benchmark does:

    data = setup(N); copy the benchmark's input to input_ptr(data);
    run(data) RUNS times; check the outputs (unreachable when wrong); teardown(data)

The input travels in an active data segment placed above the module's
initial memory, whose minimum is raised to hold it (the Rust allocator takes
new memory only through memory.grow, so it never reaches those pages). The
appended function and segment come last, so no index in the module moves.
Written for each case: OUT/NAME.wasm (the command) and OUT/NAME-load.wasm
(the same module whose `_start` returns at once: reading, compiling and
instantiating the module, and the process around it).

The expected outputs are those wasmi-benchmarks asserts (benches/criterion/
execute.rs); for matrix-mul and nbody, which it does not check, the values
Wasmtime's Cranelift computes (an engine we did not write). sort, sort-dyn and
tiny-keccak export no result to check, so they are left out.
"""
import pathlib
import re
import subprocess
import sys

# name: (setup argument type and value, input file or None, runs, checks)
# A check is (export, result type, expected) or ("output_ptr", "bytes", file).
CASES = {
    "argon2": (("i32", 3000), None, 1, [("output", "i64", 0x76318FB48BBA1258)]),
    "compression": (None, "res/alice29.txt", 1, [("len_compressed", "i64", 97649)]),
    "json-parse": (None, "res/citm_catalog.json", 1, [("node_count", "i64", 37778)]),
    "mandelbrot": (("i32", 150), None, 1, [("output", "i64", 5595328)]),
    "matrix-mul": (("i32", 400), None, 1, [("output", "f32", "FROM_WASMTIME")]),
    "nbody": (("i32", 400), None, 1, [("result", "f64", "FROM_WASMTIME")]),
    "prime-sieve": (("i64", 10_000_000), None, 1, [("len_primes", "i64", 664579), ("largest_prime", "i64", 9999991)]),
    "regex-redux": (None, "cases/reverse-complement/input.txt", 1, [("output", "i32", 2)]),
    "reverse-complement": (None, "cases/reverse-complement/input.txt", 1,
                           [("output_ptr", "bytes", "cases/reverse-complement/output.txt")]),
    "spectralnorm": (("i32", 500), None, 1, [("output", "f64", 1.2742241159529095)]),
    "word-count": (None, "res/alice29.txt", 1, [("len_unique_words", "i64", 2213), ("len_special_chars", "i64", 6314)]),
}
PAGE = 65536


def wat_bytes(data: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else "\\%02x" % b for b in data)


def constant(kind: str, value) -> str:
    if kind == "f32":
        return "f32.const %r" % float(value)
    if kind == "f64":
        return "f64.const %r" % float(value)
    if kind == "i64" and value >= 1 << 63:
        value -= 1 << 64
    return "%s.const %d" % (kind, value)


def driver(exports: dict, setup, input_len: int, stage: int, runs: int, checks, expected_at: int, body: bool) -> str:
    """The appended `_start`: WAT text naming the module's functions by index."""
    if not body:
        return "(func $sheave_bench_start)"
    lines = ["(func $sheave_bench_start (local $data i32) (local $i i32)"]
    arg = constant(*setup) if setup else ("i32.const %d" % input_len if input_len else "")
    lines.append("  (local.set $data (call %d %s))" % (exports["setup"], f"({arg})" if arg else ""))
    if input_len:
        lines += [
            "  (local.set $i (i32.const 0))",
            "  (block $done (loop $copy",
            "    (br_if $done (i32.ge_u (local.get $i) (i32.const %d)))" % input_len,
            "    (i32.store8 (i32.add (call %d (local.get $data)) (local.get $i))" % exports["input_ptr"],
            "                (i32.load8_u (i32.add (i32.const %d) (local.get $i))))" % stage,
            "    (local.set $i (i32.add (local.get $i) (i32.const 1)))",
            "    (br $copy)))",
        ]
    lines += ["  (local.set $i (i32.const %d))" % runs,
              "  (loop $runs",
              "    (call %d (local.get $data))" % exports["run"],
              "    (br_if $runs (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))"]
    for name, kind, value in checks:
        if kind == "bytes":
            size = len(value)
            lines += [
                "  (local.set $i (i32.const 0))",
                "  (block $same (loop $compare",
                "    (br_if $same (i32.ge_u (local.get $i) (i32.const %d)))" % size,
                "    (if (i32.ne (i32.load8_u (i32.add (call %d (local.get $data)) (local.get $i)))" % exports[name],
                "                (i32.load8_u (i32.add (i32.const %d) (local.get $i))))" % expected_at,
                "      (then unreachable))",
                "    (local.set $i (i32.add (local.get $i) (i32.const 1)))",
                "    (br $compare)))",
            ]
        else:
            lines.append("  (if (%s.ne (call %d (local.get $data)) (%s)) (then unreachable))" % (kind, exports[name], constant(kind, value)))
    lines.append("  (call %d (local.get $data)))" % exports["teardown"])
    return "\n".join(lines)


def wasmtime_value(path: pathlib.Path, setup, name: str):
    import wasmtime
    store = wasmtime.Store()
    instance = wasmtime.Instance(store, wasmtime.Module.from_file(store.engine, str(path)), [])
    exports = instance.exports(store)
    data = exports["setup"](store, setup[1])
    exports["run"](store, data)
    return exports[name](store, data)


def main() -> None:
    source, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    tools = pathlib.Path(sys.executable).parent
    for name, (setup, input_file, runs, checks) in CASES.items():
        module = source / "cases" / name / "out.wasm"
        text = subprocess.run([tools / "wasm-tools", "print", module], check=True, capture_output=True, text=True).stdout
        exports = {m[0]: int(m[1]) for m in re.findall(r'\(export "([^"]+)" \(func (\d+)\)\)', text)}
        memory = re.search(r"^  \(memory \(;0;\) (\d+)( \d+)?\)$", text, re.M)
        if memory is None or memory.group(2):
            sys.exit(f"{name}: expected one memory without a maximum")
        data = (source / input_file).read_bytes() if input_file else b""
        checks = [(n, k, (source / v).read_bytes() if k == "bytes" else
                   wasmtime_value(module, setup, n) if v == "FROM_WASMTIME" else v) for n, k, v in checks]
        expected = b"".join(v for _, k, v in checks if k == "bytes")
        stage = int(memory.group(1)) * PAGE
        expected_at = stage + len(data)
        pages = int(memory.group(1)) + (len(data) + len(expected) + PAGE - 1) // PAGE
        text = text[:memory.start(1)] + str(pages) + text[memory.end(1):]
        assert text.rstrip().endswith(")")
        for suffix, body in (("", True), ("-load", False)):
            appended = [driver(exports, setup, len(data), stage, runs, checks, expected_at, body),
                        '(export "_start" (func $sheave_bench_start))']
            if data:
                appended.append('(data (i32.const %d) "%s")' % (stage, wat_bytes(data)))
            if expected:
                appended.append('(data (i32.const %d) "%s")' % (expected_at, wat_bytes(expected)))
            wat = text.rstrip()[:-1] + "\n".join(appended) + ")\n"
            target = out / f"{name}{suffix}.wasm"
            subprocess.run([tools / "wasm-tools", "parse", "-o", target], input=wat, text=True, check=True)
        print(f"{name}: {target.stat().st_size} bytes, checks {[(n, v if k != 'bytes' else f'{len(v)} bytes') for n, k, v in checks]}")


if __name__ == "__main__":
    main()
