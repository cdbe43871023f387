#!/usr/bin/env python3
"""Wasmtime's side of the instantiation benchmark (Benchmarks/CompileTime, `instantiate`):
the module compiled once, then instantiated COUNT times, each in a new store; median of 5
rounds, for Cranelift and for Pulley. Python's own cost per call is in the figures.

    .anchors/venv/bin/python3 Benchmarks/instantiate.py [FILE.wat] [COUNT]
(the `wasmtime` package from PyPI; ../shared/tools/anchors.sh installs it in .anchors/venv)
"""
import importlib.metadata
import statistics
import sys
import time

import wasmtime

path = sys.argv[1] if len(sys.argv) > 1 else "Benchmarks/instantiate.wat"
count = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
wasm = wasmtime.wat2wasm(open(path).read())

print("| runtime | total (s) | per instance (µs) |")
print("|---|---:|---:|")
version = importlib.metadata.version("wasmtime")
for name, target in [("Wasmtime %s (Python API), Cranelift" % version, None), ("Wasmtime %s (Python API), Pulley" % version, "pulley64")]:
    config = wasmtime.Config()
    if target:
        config.target = target
    engine = wasmtime.Engine(config)
    module = wasmtime.Module(engine, wasm)
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(count):
            wasmtime.Instance(wasmtime.Store(engine), module, [])
        rounds.append(time.perf_counter() - start)
    store = wasmtime.Store(engine)
    instance = wasmtime.Instance(store, module, [])
    assert instance.exports(store)["add"](store, 2, 3) == 5
    median = statistics.median(rounds)
    print("| %s | %.3f | %.1f |" % (name, median, median / count * 1e6))
