#!/usr/bin/env python3
"""A first differential campaign against Wasmtime (issue 18 asks for more).

Modules from `wasm-tools smith` (Wasm 2.0 without SIMD, imports or several
memories; `--ensure-termination`), one per seed: each is compiled by Sheave to
an artifact (a crash or a refusal of a module Wasmtime accepts is a
divergence), then every exported function whose parameters and results are
numbers is called with three argument sets (zeros, ones, minus ones) in
Wasmtime (Python API, Cranelift) and in Sheave (`sheave run --invoke`, the
second set through the artifact), a fresh instance per call on both sides.
Results are compared bit for bit (NaNs as one), traps as traps. Modules that
diverge are kept in .differential/.

    .anchors/venv/bin/python3 Tests/Differential/differential.py SHEAVE SECONDS [match|tail]
    (SEED=N to start elsewhere; the venv comes from ../shared/tools/anchors.sh)

Ends with `N passed, N failed`; exits 1 when anything diverged.
"""
import math, os, random, struct, subprocess, sys, tempfile, time
import wasmtime

sheave, budget = sys.argv[1], float(sys.argv[2])
dispatch = sys.argv[3] if len(sys.argv) > 3 else None
smith = os.path.join(os.path.dirname(sys.executable), "wasm-tools")
flags = ["--ensure-termination", "--max-imports", "0", "--max-memories", "1", "--simd-enabled", "false",
         "--tail-call-enabled", "false", "--memory64-enabled", "false", "--gc-enabled", "false",
         "--exceptions-enabled", "false", "--threads-enabled", "false", "--relaxed-simd-enabled", "false",
         "--wide-arithmetic-enabled", "false", "--custom-page-sizes-enabled", "false",
         "--extended-const-enabled", "false", "--export-everything", "true", "--min-funcs", "1",
         "--max-memory32-bytes", str(16 << 20), "--allow-start-export", "false"]
engine = wasmtime.Engine()
ARGS = {"i32": ["0", "1", "-1"], "i64": ["0", "1", "-1"], "f32": ["0", "1.5", "-2.5"], "f64": ["0", "1.5", "-2.5"]}
PY = {"i32": int, "i64": int, "f32": float, "f64": float}

def norm(kind, value):
    if kind in ("i32", "i64"):
        bits = 32 if kind == "i32" else 64
        v = int(value) & ((1 << bits) - 1)
        return v
    if isinstance(value, str) and "nan" in value: return "nan"  # Swift prints a NaN's payload: -nan(0x3e00000000000)
    v = float(value)
    if math.isnan(v): return "nan"
    return struct.pack("<f" if kind == "f32" else "<d", v)

def kind(t):
    s = str(t)
    return s if s in ("i32", "i64", "f32", "f64") else None

modules = calls = compared = 0
divergences = []
start = time.time()
seed = int(os.environ.get("SEED", "1"))
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "m.wasm")
    while time.time() - start < budget:
        seed += 1
        data = random.Random(seed).randbytes(8192)
        r = subprocess.run([smith, "smith", *flags, "-o", path], input=data, capture_output=True)
        if r.returncode != 0: continue
        wasm = open(path, "rb").read()
        try:
            module = wasmtime.Module(engine, wasm)
        except Exception:
            continue
        modules += 1
        artifact = path + ".cwasm"
        c = subprocess.run([sheave, "compile", path, "-o", artifact], capture_output=True, text=True, timeout=120)
        if c.returncode != 0:
            os.makedirs(".differential", exist_ok=True)
            open(f".differential/{seed}.wasm", "wb").write(wasm)
            divergences.append((seed, "compile", c.returncode, c.stderr[-300:]))
            continue
        for export in module.exports:
            if not isinstance(export.type, wasmtime.FuncType): continue
            if "\x00" in export.name or export.name.startswith("-") or not export.name: continue
            params = [kind(p) for p in export.type.params]
            results = [kind(p) for p in export.type.results]
            if None in params or None in results: continue
            for i in range(3):
                args = [ARGS[p][i] for p in params]
                calls += 1
                store = wasmtime.Store(engine)
                try:
                    inst = wasmtime.Instance(store, module, [])
                    out = inst.exports(store)[export.name](store, *[PY[p](a) for p, a in zip(params, args)])
                    if len(results) == 0: out = []
                    elif len(results) == 1: out = [out]
                    expected = ("ok", [norm(k, v) for k, v in zip(results, out)])
                except wasmtime.Trap:
                    expected = ("trap", None)
                except wasmtime.WasmtimeError as e:
                    expected = ("trap", None)
                cmd = [sheave, "run"] + (["--dispatch", dispatch] if dispatch else []) + ["--invoke", export.name, artifact if i == 1 else path, *args]
                try:
                    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
                except subprocess.TimeoutExpired:
                    divergences.append((seed, export.name, args, "sheave timed out", expected)); continue
                if p.returncode < 0 or "Fatal error" in p.stderr or "crashed" in p.stderr:
                    divergences.append((seed, export.name, args, "sheave crashed: " + p.stderr[-300:], expected)); continue
                if p.returncode != 0:
                    got = ("trap", None)
                else:
                    lines = p.stdout.split()
                    got = ("ok", [norm(k, v) for k, v in zip(results, lines)]) if len(lines) == len(results) else ("bad output", p.stdout)
                compared += 1
                if got != expected:
                    os.makedirs(".differential", exist_ok=True)
                    open(f".differential/{seed}.wasm", "wb").write(wasm)
                    divergences.append((seed, export.name, args, got, expected, p.stderr[-200:]))
print(f"{modules} modules, {calls} calls, {compared} compared in {time.time() - start:.0f} s")
for d in divergences[:20]: print("DIVERGENCE", d)
print(f"{compared - len(divergences)} passed, {len(divergences)} failed")
sys.exit(1 if divergences else 0)
