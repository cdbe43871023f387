#!/usr/bin/env python3
"""Differential testing against Wasmtime: generated modules, run by both engines, compared.

Modules come from `wasm-tools smith` (feature sets `mvp`: Wasm 2.0 and tail calls, without
SIMD; `simd`: with it; `memory`: `mvp` with up to three memories, 64-bit ones among them, and
64-bit tables; `exceptions`: `mvp` with tags, `throw`, `throw_ref`, `try_table` and exnref,
where an uncaught exception compares as a trap) and from a generator of our own (`fusion`) that writes
the shapes Sheave's super-instructions stand for (shift-adds, compares feeding
branches and selects, masked loads and stores, counted loops, multiply-adds,
constant xors) over randomly aliased locals and edge-value constants. Each
module is run by Wasmtime (its Python API, Cranelift) and by Sheave
(`sheave-differential`, one process for the whole campaign) on the tail loop,
the match loop and the tail loop through an artifact. Both make the same calls
in the same order on one instance (every exported function whose parameters
and results are numbers, with edge-value arguments), then read the exported
globals and a CRC-32 of each exported memory. Results are compared bit for
bit; NaNs compare equal whatever their payload and sign (the spec leaves them
open; v128 lanes are compared as f32x4 and f64x2 when the bytes differ);
traps compare as traps; a call that exhausts either engine's stack ends the
module's comparison (the two stacks differ in depth). Memories (a CRC) and globals
that differ while every call agrees are checked again on the same module with every
float result whose NaN bits the spec leaves open made canonical: if they then agree,
the module is reported NaN-dependent (NaN bits stored), not divergent. Wasmtime
failing to instantiate for its host's reasons (a memfd, a memory map) is tried once
more, then the module is skipped. A module Wasmtime
accepts that Sheave refuses is a divergence. Divergent modules are kept in
.differential/ with a note of what differed.

    .anchors/venv/bin/python3 Tests/Differential/differential.py RUNNER SECONDS [SETS] [--seed N] [--count N]
      RUNNER: the sheave-differential binary
              (swift build -c release --scratch-path .build-release --product sheave-differential)
      SETS:   comma-separated, of mvp, simd, memory, exceptions, fusion (all by default), taken in turn
      --seed N: the seeds N+1, N+2, ... (by default from the clock); --count N: at most N seeds
      the venv comes from ../shared/tools/anchors.sh (wasmtime, wasm-tools)

Ends with `N modules, N calls compared` and `N passed, N failed`; exits 1 when anything diverged.
"""
import json, math, os, random, re, struct, subprocess, sys, tempfile, time, zlib
import wasmtime

wasm_tools = os.path.join(os.path.dirname(sys.executable), "wasm-tools")
MODES = ["tail", "match", "tail-artifact", "tail-lazy"]  # tail-lazy: each function compiled on its first call

# Sheave's implementation limits, as sheave-differential reports them ({"limits": true}):
# past its limit on a table's entries, or on a memory's bytes (a 64-bit memory's default),
# `table.grow` and `memory.grow` return -1, which the spec allows.
# Wasmtime has none of its own (it grows an externref table to 2^31 entries), so its
# stores get Sheave's; otherwise the engines' different limits read as divergences.
LIMITS = {}

def ask_limits(runner):
    p = subprocess.run([runner], input='{"limits": true}\n', capture_output=True, text=True)
    LIMITS.update(json.loads(p.stdout))

def limited_store(engine):
    """A Wasmtime store with Sheave's implementation limits."""
    s = wasmtime.Store(engine)
    s.set_limits(table_elements=LIMITS["table_elements"], memory_size=LIMITS["memory_size"])
    return s

SMITH = ["--ensure-termination", "--max-imports", "0", "--max-memories", "1", "--max-tables", "2",
         "--tail-call-enabled", "true", "--memory64-enabled", "false", "--gc-enabled", "false",
         "--exceptions-enabled", "false", "--threads-enabled", "false", "--relaxed-simd-enabled", "false",
         "--wide-arithmetic-enabled", "false", "--custom-page-sizes-enabled", "false",
         "--extended-const-enabled", "false", "--export-everything", "true", "--min-funcs", "1",
         "--max-memory32-bytes", str(16 << 20), "--allow-start-export", "false"]

# ---------------------------------------------------------------- values

I32 = [0, 1, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 2, 31, 32, 0xFFFF, 0x10000, 0xFFF0]
I64 = [0, 1, (1 << 64) - 1, 1 << 63, (1 << 63) - 1, 63, 64, 0xFFFFFFFF, 1 << 32]
F32 = [0x00000000, 0x80000000, 0x3FC00000, 0xC0200000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x00000001, 0x4F000000, 0xCF000000]
F64 = [0, 1 << 63, 0x3FF8000000000000, 0xC004000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
       0x7FF8000000000000, 1, 0x41E0000000000000, 0xC3E0000000000000]

def argument(kind, rng, i):
    """The i-th argument set: zeros, ones, then edge values picked at random."""
    if i == 0: bits = 0
    elif i == 1: bits = {"i32": 1, "i64": 1, "f32": 0x3F800000, "f64": 0x3FF0000000000000}[kind]
    else: bits = rng.choice({"i32": I32, "i64": I64, "f32": F32, "f64": F64}[kind])
    if rng.random() < 0.15 and kind in ("i32", "i64"):
        bits = rng.getrandbits(32 if kind == "i32" else 64)
    return bits

def to_python(kind, bits):
    if kind == "i32": return bits - (1 << 32) if bits >> 31 else bits
    if kind == "i64": return bits - (1 << 64) if bits >> 63 else bits
    if kind == "f32": return struct.unpack("<f", struct.pack("<I", bits))[0]
    return struct.unpack("<d", struct.pack("<Q", bits))[0]

def from_python(kind, value):
    """Wasmtime's value as (kind, bits), NaNs as ('nan')."""
    if kind == "i32": return ("i32", value & 0xFFFFFFFF)
    if kind == "i64": return ("i64", value & ((1 << 64) - 1))
    if kind in ("f32", "f64"):
        if math.isnan(value): return (kind, "nan")
        return (kind, struct.unpack("<I", struct.pack("<f", value))[0] if kind == "f32" else struct.unpack("<Q", struct.pack("<d", value))[0])
    return (kind, "ref:null" if value is None else "ref:nonnull")

def from_sheave(text):
    kind, hexbits = text.split(":", 1)
    if kind == "ref": return (kind, text)
    bits = int(hexbits, 16)
    if kind == "f32" and (bits & 0x7F800000) == 0x7F800000 and bits & 0x7FFFFF: return (kind, "nan")
    if kind == "f64" and (bits >> 52 & 0x7FF) == 0x7FF and bits & ((1 << 52) - 1): return (kind, "nan")
    return (kind, bits)


ARGUMENT_KINDS = ("i32", "i64", "f32", "f64")

# ---------------------------------------------------------------- our generator

class Fusion:
    """A module of fusable shapes: one function over aliased locals, edge constants, memory and globals."""
    def __init__(self, rng):
        self.rng = rng
        self.i32 = ["$a", "$b", "$c", "$d", "$p0", "$p1"]
        self.i64 = ["$w", "$x", "$y", "$p2"]
        self.f64 = ["$f", "$g", "$h", "$p3"]
        self.depth = 0

    def c32(self):
        r = self.rng
        return str(r.choice(I32 + [r.getrandbits(32), r.randrange(0, 64), 0xFFFFFF00]))

    def c64(self):
        r = self.rng
        return str(r.choice(I64 + [r.getrandbits(64), r.randrange(0, 128)]))

    def l32(self): return self.rng.choice(self.i32)
    def l64(self): return self.rng.choice(self.i64)
    def lf(self): return self.rng.choice(self.f64)

    def e32(self):
        r = self.rng
        a, b = f"(local.get {self.l32()})", f"(local.get {self.l32()})"
        op = r.choice(["add", "sub", "mul", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl", "rotr"])
        shape = r.randrange(20)
        if shape == 0: return f"(i32.{op} {a} {b})"
        if shape == 1: return f"(i32.{op} {a} (i32.const {self.c32()}))"
        if shape == 2: return f"(i32.add {a} (i32.shl {b} (i32.const {r.randrange(0, 40)})))"
        if shape == 3:
            addr = f"(i32.and {a} (i32.const 0xFFF0))" if r.random() < 0.97 else a
            return f"(i32.load{r.choice(['', '8_u', '8_s', '16_u', '16_s'])} offset={r.choice([0, 4, 8, 100])} {addr})"
        if shape == 4: return f"(select {a} {b} (i32.{self.cmp()} (local.get {self.l32()}) (i32.const {self.c32()})))"
        if shape == 5: return f"(i32.xor (i32.xor {a} (i32.const {self.c32()})) (i32.const {self.c32()}))"
        if shape == 6: return f"(i32.{self.cmp()} {a} {b})"
        if shape == 7: return f"(i32.wrap_i64 {self.e64(shallow=True)})"
        c = f"(local.get {self.l32()})"
        if shape == 9: return f"(i32.add (i32.add {a} {b}) {c})"
        if shape == 10:
            load = f"(i32.load{r.choice(['', '8_u', '16_u', '16_s'])} offset={r.choice([0, 2, 8])} {self.addr()})"
            return r.choice([f"(i32.add {a} {load})", f"(i32.add {load} (i32.const {self.c32()}))"])
        if shape == 11:
            return r.choice([f"(i32.add (i32.mul {a} {b}) {c})", f"(i32.add (i32.add (i32.mul {a} {b}) {c}) (local.get {self.l32()}))",
                             f"(i32.add (i32.mul {a} {b}) (i32.const {self.c32()}))"])
        if shape == 12: return f"(i32.xor {a} (i32.{r.choice(['shl', 'shr_u'])} {b} (i32.const {r.randrange(0, 40)})))"
        if shape == 13: return f"(i32.and (i32.shr_u {a} (i32.const {r.randrange(0, 40)})) (i32.const {self.c32()}))"
        if shape == 14:
            return r.choice([f"(select {a} {b} (i32.and {c} (i32.const {self.c32()})))",
                             f"(i32.xor (select {a} {b} (i32.and {c} (i32.const {self.c32()}))) (i32.const {self.c32()}))",
                             f"(select {a} {b} (i32.eqz {c}))"])
        if shape == 15:
            # A load through a pointer loaded from memory (the chain at 0x100 holds pointers into itself).
            return f"(i32.load{r.choice(['8_u', '16_u', ''])} offset={r.choice([0, 1, 2])} (i32.load (i32.add (i32.const 0x100) (i32.and {a} (i32.const 0x7C)))))"
        if shape == 16:
            # A load whose address is a sum (of two registers, or a register and a constant).
            base = f"(i32.and {a} (i32.const 0x7FF0))"
            # Or a scaled index (an array of words at a constant address, or at a register):
            # masked to stay in bounds, or not (the shift by 33 or 40 wraps as i32.shl's).
            index = r.choice([f"(i32.and {b} (i32.const 0x3FF))", b])
            scaled = f"(i32.shl {index} (i32.const {r.choice([2, 2, 3, 33, 40])}))"
            if r.random() < 0.4:
                address = r.choice([f"(i32.add {scaled} (i32.const {r.choice([0, 0x400, 0x1000, -4])}))", f"(i32.add {base} {scaled})"])
                return f"(i32.load offset={r.choice([0, 4])} {address})"
            address = r.choice([f"(i32.add {base} (i32.and {b} (i32.const 0x7FF0)))", f"(i32.add {base} (i32.const {r.choice([4, 100, 0x1000])}))"])
            return f"(i32.load{r.choice(['', '8_u', '16_u', '16_s'])} offset={r.choice([0, 2])} {address})"
        if shape == 17: return f"(if (result i32) {self.cond()} (then (i32.const {self.c32()})) (else (i32.const {self.c32()})))"
        if shape == 18: return r.choice([f"(i32.add (i32.mul {a} (i32.const {self.c32()})) (i32.const {self.c32()}))",
                                         f"(select (i32.xor {b} (i32.const {self.c32()})) {b} (i32.and {a} (i32.const {self.c32()})))"])
        if shape == 19: return f"(i32.load{r.choice(['16_u', '8_u'])} offset={r.choice([0, 2])} (i32.load offset=0x100 (i32.and {a} (i32.const 0x7C))))"
        return f"(i32.eqz {a})"

    def cond(self):
        r = self.rng
        return r.choice([f"(i32.{self.cmp()} (local.get {self.l32()}) (local.get {self.l32()}))",
                         f"(i32.{self.cmp()} (local.get {self.l32()}) (i32.const {self.c32()}))",
                         f"(i64.{self.cmp()} (local.get {self.l64()}) (i64.const {self.c64()}))",
                         f"(i32.eqz (local.get {self.l32()}))", f"(i64.eqz (local.get {self.l64()}))",
                         f"(i32.and (local.get {self.l32()}) (i32.const {1 << r.randrange(32)}))"])

    def e64(self, shallow=False):
        r = self.rng
        a, b = f"(local.get {self.l64()})", f"(local.get {self.l64()})"
        op = r.choice(["add", "sub", "mul", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl"])
        shape = r.randrange(2 if shallow else 12)
        if shape == 0: return f"(i64.{op} {a} {b})"
        if shape == 1: return f"(i64.{op} {a} (i64.const {self.c64()}))"
        if shape == 2: return f"(i64.add {a} (i64.shl {b} (i64.const {r.randrange(0, 70)})))"
        if shape == 3: return f"(i64.load{r.choice(['', '32_u', '32_s', '8_u'])} offset={r.choice([0, 8, 16])} (i32.and (local.get {self.l32()}) (i32.const 0xFFF0)))"
        if shape == 4: return f"(i64.extend_i32_{r.choice('su')} (local.get {self.l32()}))"
        if shape == 5: return f"(select {a} {b} (i64.{self.cmp()} (local.get {self.l64()}) (i64.const {self.c64()})))"
        if shape == 7: return f"(i64.xor {a} (i64.{r.choice(['shl', 'shr_u'])} {b} (i64.const {r.randrange(0, 70)})))"
        if shape == 8: return f"(i64.add (i64.mul {a} {b}) (i64.const {self.c64()}))"
        if shape == 9: return f"(select {a} {b} (local.get {self.l32()}))"
        if shape == 10: return f"(select {a} {b} (i64.eqz (local.get {self.l64()})))"
        if shape == 11: return f"(i64.add (i64.mul {a} (i64.const {self.c64()})) (i64.const {self.c64()}))"
        return f"(i64.mul (i64.add {a} {b}) (i64.const {self.c64()}))"

    def ef(self):
        r = self.rng
        a, b, c = (f"(local.get {self.lf()})" for _ in range(3))
        shape = r.randrange(9)
        if shape == 0: return f"(f64.add (f64.mul {a} {b}) {c})"
        if shape == 7:
            base = f"(i32.and (local.get {self.l32()}) (i32.const 0x7FF0))"
            return f"(f64.load {r.choice([f'(i32.add {base} (i32.and (local.get {self.l32()}) (i32.const 0x7FF0)))', f'(i32.add {base} (i32.const 16))'])})"
        if shape == 4: return r.choice([f"(f64.sub (f64.mul {a} {b}) {c})", f"(f64.sub {c} (f64.mul {a} {b}))", f"(f64.mul (f64.mul {a} {b}) {c})"])
        if shape == 5: return r.choice([f"(f64.add {a} (f64.load offset=8 {self.addr()}))", f"(f64.add (f64.load {self.addr()}) (f64.const {r.choice(['1.5', '-0.0', '1e300', 'inf'])}))"])
        if shape == 6: return f"(f64.promote_f32 {self.ef32()})"
        if shape == 1: return f"(f64.{r.choice(['add', 'sub', 'mul', 'div', 'min', 'max'])} {a} {b})"
        if shape == 2: return f"(f64.load offset=8 (i32.and (local.get {self.l32()}) (i32.const 0xFFF0)))"
        return f"(f64.convert_i32_{r.choice('su')} (local.get {self.l32()}))"

    def ef32(self):
        r = self.rng
        a, b, c = (r.choice(["(local.get $s)", "(local.get $t)", f"(f32.demote_f64 (local.get {self.lf()}))"]) for _ in range(3))
        shape = r.randrange(5)
        if shape == 0: return f"(f32.add (f32.mul {a} {b}) {c})"
        if shape == 1: return r.choice([f"(f32.sub (f32.mul {a} {b}) {c})", f"(f32.sub {c} (f32.mul {a} {b}))", f"(f32.mul (f32.mul {a} {b}) {c})"])
        if shape == 2: return r.choice([f"(f32.add {a} (f32.load offset=4 {self.addr()}))", f"(f32.add (f32.load {self.addr()}) (f32.const 0.5))",
                                        f"(f32.load (i32.add (i32.and (local.get {self.l32()}) (i32.const 0x7FF0)) (i32.const 8)))",
                                        f"(f32.load (i32.add (i32.and (local.get {self.l32()}) (i32.const 0x7FF0)) (i32.and (local.get {self.l32()}) (i32.const 0x7FF0))))"])
        if shape == 3: return f"(f32.{r.choice(['add', 'sub', 'mul', 'div', 'min', 'max'])} {a} {b})"
        return f"(f32.convert_i32_s (local.get {self.l32()}))"

    def addr(self):
        """An address in memory (almost always)."""
        a = f"(local.get {self.l32()})"
        return f"(i32.and {a} (i32.const 0xFFF0))" if self.rng.random() < 0.97 else a

    def cmp(self):
        return self.rng.choice(["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"])

    def stmt(self):
        r = self.rng
        self.depth += 1
        shape = r.randrange(20) if self.depth < 4 else r.randrange(6)
        if shape <= 1: s = f"(local.set {self.l32()} {self.e32()})"
        elif shape == 2: s = f"(local.set {self.l64()} {self.e64()})"
        elif shape == 3: s = f"(local.set {self.lf()} {self.ef()})"
        elif shape == 4:
            addr = f"(i32.and (local.get {self.l32()}) (i32.const 0xFFF0))" if r.random() < 0.97 else f"(local.get {self.l32()})"
            s = r.choice([f"(i32.store{r.choice(['', '8', '16'])} offset={r.choice([0, 4, 100])} {addr} {self.e32()})",
                          f"(i64.store offset=8 {addr} (local.get {self.l64()}))",
                          f"(f64.store offset=16 {addr} (local.get {self.lf()}))"])
        elif shape == 5: s = f"(global.set $g (i32.add (global.get $g) (local.get {self.l32()})))"
        elif shape <= 7:
            cond = r.choice([f"(i32.{self.cmp()} (local.get {self.l32()}) (local.get {self.l32()}))",
                             f"(i32.{self.cmp()} (local.get {self.l32()}) (i32.const {self.c32()}))",
                             f"(i64.{self.cmp()} (local.get {self.l64()}) (i64.const {self.c64()}))",
                             f"(i32.eqz (local.get {self.l32()}))", f"(i64.eqz (local.get {self.l64()}))",
                             f"(i32.and (local.get {self.l32()}) (i32.const {1 << r.randrange(32)}))"])
            s = f"(if {cond} (then {self.stmt()}) (else {self.stmt()}))"
        elif shape == 8:
            s = f"(block $out (br_if $out (i32.{self.cmp()} (local.get {self.l32()}) (i32.const {self.c32()}))) {self.stmt()} {self.stmt()})"
        elif shape == 9:
            # Counters per depth ($i, $j, $n, $k): an inner loop never resets an outer one's.
            s = self.counted_loop()
        elif shape == 10:
            s = f"(local.set {self.l32()} (i32.div_{r.choice('su')} (local.get {self.l32()}) (i32.or (local.get {self.l32()}) (i32.const 1))))"
        elif shape == 11:
            divisor = f"(local.get {self.l64()})" if r.random() < 0.05 else f"(i64.or (local.get {self.l64()}) (i64.const 1))"
            s = f"(local.set {self.l64()} (i64.rem_{r.choice('su')} (local.get {self.l64()}) {divisor}))"
        elif shape == 12:
            address = self.addr()
            p, x = self.l32(), self.l32()
            s = r.choice([f"(local.set $d {address}) (i32.store offset=4 (local.get $d) (i32.add (i32.load offset=4 (local.get $d)) (i32.const {self.c32()})))",
                          f"(f64.store offset=24 {address} (f64.{r.choice(['sub', 'add'])} (local.get {self.lf()}) (local.get {self.lf()})))",
                          # a swap: load a word, store another at the same address
                          f"(local.set {p} (i32.and (local.get {p}) (i32.const 0xFFF0))) (local.set {x} (i32.load offset=8 (local.get {p}))) "
                          f"(i32.store offset=8 (local.get {p}) (local.get {self.l32()}))",
                          f"(local.set $d (i32.and (local.get {self.l32()}) (i32.const 0xFFF0))) (local.set {p} (local.get $d)) "
                          f"(local.set {x} (i32.load offset=4 (local.get {p}))) (i32.store offset=4 (local.get {p}) (local.get {self.l32()}))",
                          f"(local.set {r.choice(['$s', '$t'])} {self.ef32()})"])
        elif shape == 13:
            # Chase the pointer chain at 0x100 (each word points at another word of it).
            p = self.l32()
            s = (f"(local.set {p} (i32.add (i32.const 0x100) (i32.and (local.get {p}) (i32.const 0x7C)))) " +
                 " ".join(f"(local.set {p} (i32.load (local.get {p})))" for _ in range(r.randrange(1, 4))))
        elif shape == 14:
            p = self.l32()
            step = r.choice(["(i32.const 1)", f"(local.get $k{self.depth})"])
            s = (f"(local.set $k{self.depth} (i32.const {r.choice([1, 2, 3])})) "
                 f"(local.set {p} (i32.and (local.get {p}) (i32.const 0xFFF))) (i32.store8 (local.get {p}) (i32.const {self.c32()})) "
                 f"(local.set {p} (i32.add (local.get {p}) {step}))")
        elif shape <= 16:
            cond = r.choice([f"(i32.eqz (local.get {self.l32()}))", f"(local.get {self.l32()})", f"(i64.eqz (local.get {self.l64()}))",
                             f"(i32.{r.choice(['ne', 'le_u', 'lt_u'])} (i32.and (local.get {self.l32()}) (i32.const {self.c32()})) (i32.const {self.c32()}))",
                             f"(i32.eqz (i32.load {self.addr()}))", f"(i32.load8_u {self.addr()})", f"(i32.load {self.addr()})",
                             f"(i32.eqz (i32.load8_u {self.addr()}))"])
            s = f"(block $out (br_if $out {cond}) {self.stmt()})"
        else:
            s = self.counted_loop()
        self.depth -= 1
        return s

    def counted_loop(self):
        """A loop whose step and test fuse: up to a limit (a constant or a local), or down to zero; i32 or i64."""
        r = self.rng
        d = self.depth
        n = r.randrange(1, 10)
        body = " ".join(self.stmt() for _ in range(r.randrange(1, 3)))
        if r.random() < 0.5:
            i, limit = f"$i{d}", r.choice([f"(i32.const {n})", f"(local.get $n{d})"])
            up = r.choice(["ne", "lt_s", "lt_u"])
            step = r.choice(["(i32.const 1)", f"(local.get $k{d})"]) if up == "ne" else r.choice(["(i32.const 1)", "(i32.const 2)", f"(local.get $k{d})"])
            if r.random() < 0.7:
                return (f"(local.set $n{d} (i32.const {n})) (local.set $k{d} (i32.const 1)) (local.set {i} (i32.const 0)) "
                        f"(loop $l {body} (br_if $l (i32.{up} (local.tee {i} (i32.add (local.get {i}) {step})) {limit})))")
            down = r.choice(["(i32.const -1)", f"(local.get $k{d})"])
            return (f"(local.set $k{d} (i32.const -1)) (local.set {i} (i32.const {n})) "
                    f"(loop $l {body} (br_if $l (local.tee {i} (i32.add (local.get {i}) {down}))))")
        j = f"$j{d}"
        if r.random() < 0.7:
            up = r.choice(["ne", "lt_s", "lt_u"])
            limit = r.choice([f"(i64.const {n})", f"(i64.extend_i32_u (local.get $n{d}))", f"(local.get $m{d})"])
            step = r.choice(["(i64.const 1)", f"(local.get $q{d})"])
            return (f"(local.set $n{d} (i32.const {n})) (local.set $m{d} (i64.const {n})) (local.set $q{d} (i64.const 1)) (local.set {j} (i64.const 0)) "
                    f"(loop $l {body} (br_if $l (i64.{up} (local.tee {j} (i64.add (local.get {j}) {step})) {limit})))")
        down = r.choice(["(i64.const -1)", f"(local.get $q{d})"])
        return (f"(local.set $q{d} (i64.const -1)) (local.set {j} (i64.const {n})) "
                f"(loop $l {body} (br_if $l (i32.eqz (i64.eqz (local.tee {j} (i64.add (local.get {j}) {down}))))))")

    def module(self):
        body = "\n    ".join(self.stmt() for _ in range(self.rng.randrange(4, 30)))
        text = f"""(module
  (memory (export "memory") 1)
  (global $g (export "g") (mut i32) (i32.const 7))
  (data (i32.const 0) "\\01\\02\\03\\04\\05\\06\\07\\08\\ff\\fe\\fd\\fc\\80\\00\\00\\7f")
  (data (i32.const 0x100) "\\0c\\01\\00\\00\\28\\01\\00\\00\\44\\01\\00\\00\\60\\01\\00\\00\\7c\\01\\00\\00\\18\\01\\00\\00\\34\\01\\00\\00\\50\\01\\00\\00\\6c\\01\\00\\00\\08\\01\\00\\00\\24\\01\\00\\00\\40\\01\\00\\00\\5c\\01\\00\\00\\78\\01\\00\\00\\14\\01\\00\\00\\30\\01\\00\\00\\4c\\01\\00\\00\\68\\01\\00\\00\\04\\01\\00\\00\\20\\01\\00\\00\\3c\\01\\00\\00\\58\\01\\00\\00\\74\\01\\00\\00\\10\\01\\00\\00\\2c\\01\\00\\00\\48\\01\\00\\00\\64\\01\\00\\00\\00\\01\\00\\00\\1c\\01\\00\\00\\38\\01\\00\\00\\54\\01\\00\\00\\70\\01\\00\\00")
  (func (export "f") (param $p0 i32) (param $p1 i32) (param $p2 i64) (param $p3 f64) (result i64)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32) {{COUNTERS}}
    (local $w i64) (local $x i64) (local $y i64) (local $f f64) (local $g f64) (local $h f64)
    (local.set $a (local.get $p0)) (local.set $b (i32.const 0xFFF0)) (local.set $w (local.get $p2))
    {body}
    (i64.xor (i64.xor (i64.xor (local.get $w) (local.get $x)) (local.get $y))
      (i64.add (i64.reinterpret_f64 (f64.add (local.get $f) (local.get $h)))
        (i64.extend_i32_u (i32.xor (i32.xor (local.get $a) (local.get $b)) (i32.xor (local.get $c) (local.get $d)))))))
  (func (export "g2") (param i32 i32) (result i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $p0 i32) (local $p1 i32) {{COUNTERS}}
    (local $w i64) (local $x i64) (local $y i64) (local $p2 i64) (local $f f64) (local $g f64) (local $h f64) (local $p3 f64)
    (local.set $p0 (local.get 0)) (local.set $p1 (local.get 1)) (local.set $a (local.get 1))
    {self.stmt()} {self.stmt()} {self.stmt()}
    (i32.xor (local.get $a) (i32.xor (local.get $b) (i32.wrap_i64 (local.get $w))))))
"""
        counters = " ".join(f"(local $i{d} i32) (local $n{d} i32) (local $k{d} i32) (local $j{d} i64) (local $m{d} i64) (local $q{d} i64)" for d in range(1, 8))
        return text.replace("{COUNTERS}", counters + " (local $s f32) (local $t f32)")

# ---------------------------------------------------------------- one module

def generate(kind, seed, tmp):
    path = os.path.join(tmp, f"m{seed}.wasm")
    rng = random.Random(seed)
    if kind == "fusion":
        wat = Fusion(rng).module()
        watpath = path[:-5] + ".wat"
        open(watpath, "w").write(wat)
        r = subprocess.run([wasm_tools, "parse", watpath, "-o", path], capture_output=True, text=True)
        if r.returncode != 0: raise SystemExit(f"the fusion generator wrote invalid text (seed {seed}): {r.stderr[:400]}")
    else:
        flags = SMITH + ["--simd-enabled", "true" if kind == "simd" else "false"]
        if kind == "memory":
            wider = {"--max-memories": "3", "--memory64-enabled": "true", "--max-tables": "3"}
            flags = [wider.get(flags[i - 1], f) if i > 0 else f for i, f in enumerate(flags)]
            flags += ["--max-memory64-bytes", str(16 << 20)]
        if kind == "exceptions":
            flags = [("true" if flags[i - 1] == "--exceptions-enabled" else f) if i > 0 else f for i, f in enumerate(flags)]
        r = subprocess.run([wasm_tools, "smith", *flags, "-o", path], input=rng.randbytes(8192), capture_output=True)
        if r.returncode != 0: return None
    return path

def wasmtime_side(engine, module, types, rng):
    """The calls to make (every exported function of numbers, from Sheave's description
    of the exports: Wasmtime's Python binding aborts on naming a v128) and what Wasmtime answered."""
    store = limited_store(engine)
    try:
        instance = wasmtime.Instance(store, module, [])
    except Exception as e:
        if not host_failure(e):
            return {"calls": [], "globals": [], "memories": [], "expected": {"error": str(e)}}
        # Wasmtime's host failed (CI once saw "cannot add seals to the memfd"): try once more,
        # then the module is skipped, never compared against a failure that is not the module's.
        store = limited_store(engine)
        instance = wasmtime.Instance(store, module, [])
    if "error" in types:
        return {"calls": [], "globals": [], "memories": [], "expected": {"calls": [], "globals": {}, "memories": {}}}
    exports = instance.exports(store)
    calls, outcomes = [], []
    for name, (params, results) in sorted(types["functions"].items()):
        if not name or "\x00" in name: continue
        if any(t not in ARGUMENT_KINDS for t in params + results): continue
        for i in range(3):
            bits = [argument(p, rng, i) for p in params]
            calls.append([name, [f"{p}:{b:x}" for p, b in zip(params, bits)]])
            try:
                out = exports[name](store, *[to_python(p, b) for p, b in zip(params, bits)])
                out = [] if not results else [out] if len(results) == 1 else list(out)
                outcomes.append(("ok", [from_python(k, v) for k, v in zip(results, out)]))
            except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
                outcomes.append(("trap", "stack" if "stack" in str(e).lower() else "trap"))
    globals_, memories = {}, {}
    for name, kind in sorted(types["globals"].items()):
        if kind in ARGUMENT_KINDS:
            globals_[name] = from_python(kind, exports[name].value(store))
    for name in types["memories"]:
        memory = exports[name]
        data = bytes(memory.read(store))
        memories[name] = f"{zlib.crc32(data)}:{len(data)}"
    return {"calls": calls, "globals": list(globals_), "memories": list(memories),
            "expected": {"calls": outcomes, "globals": globals_, "memories": memories}}

def host_failure(error):
    """Whether Wasmtime's instantiation failed for its host's reasons (file descriptors,
    memory maps), not for anything the module does: a trap, a limit both engines share."""
    text = str(error).lower()
    return not isinstance(error, wasmtime.Trap) and any(w in text for w in ("memfd", "os error", "mmap", "failed to create"))

def same_v128(a, b):
    if a == b: return True
    x, y = int(a, 16).to_bytes(16, "little"), int(b, 16).to_bytes(16, "little")
    for fmt, n in (("<4f", 4), ("<2d", 8)):
        u, v = struct.unpack(fmt, x), struct.unpack(fmt, y)
        if all(p == q or (math.isnan(p) and math.isnan(q)) or struct.pack(fmt[-1], p) == struct.pack(fmt[-1], q) for p, q in zip(u, v)):
            return True
    return False

def compare(expected, answer):
    """The first difference between Wasmtime's answer and Sheave's, or None."""
    if "error" in expected or "error" in answer:
        if "error" in expected and "error" in answer: return None
        return f"instantiation: wasmtime {expected.get('error', 'ok')!r}, sheave {answer.get('error', 'ok')!r}"
    for n, (want, got) in enumerate(zip(expected["calls"], answer["calls"])):
        if want[0] == "trap" and want[1] == "stack" or "trap" in got and "stack" in got["trap"]:
            return None  # the engines' stacks differ in depth: nothing after this compares
        if want[0] == "trap":
            if "trap" not in got: return f"call {n}: wasmtime traps, sheave returns {got}"
            continue
        if "trap" in got: return f"call {n}: wasmtime returns {want[1]}, sheave traps ({got['trap']})"
        values = [from_sheave(v) for v in got["ok"]]
        for w, g in zip(want[1], values):
            if w != g and not (w[0] == "v128" and same_v128(w[1], g[1])):
                return f"call {n}: wasmtime {want[1]}, sheave {values}"
    if len(expected["calls"]) != len(answer["calls"]): return "a different number of calls"
    for name, want in expected["globals"].items():
        got = from_sheave(answer["globals"].get(name, "none:0"))
        if want != got: return f"global {name}: wasmtime {want}, sheave {got}"
    if expected["memories"] != answer["memories"]:
        return f"memories: wasmtime {expected['memories']}, sheave {answer['memories']}"
    return None

class Sheave:
    """The sheave-differential process, restarted when it dies."""
    def __init__(self, runner):
        self.runner = runner
        self.start()

    def start(self):
        self.process = subprocess.Popen([self.runner, ",".join(MODES)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(self, request, lines):
        """The answer's lines, or None when the process died (it is restarted)."""
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answers = []
        for _ in range(lines):
            line = self.process.stdout.readline()
            if not line:
                self.died = self.process.wait()
                self.start()
                return None
            answers.append(json.loads(line))
        return answers

    def close(self):
        self.process.stdin.close()
        self.process.wait()

# The float ops whose NaN results the spec leaves open (their payload and sign); the others
# (abs, neg, copysign, loads, reinterprets, pmin and pmax) are exact on NaNs too.
OPEN_NAN = re.compile(r"^\s*(f32|f64)\.(add|sub|mul|div|sqrt|min|max|ceil|floor|trunc|nearest|promote_f32|demote_f64)$|"
                      r"^\s*(f32x4|f64x2)\.(add|sub|mul|div|sqrt|min|max|ceil|floor|trunc|nearest|demote_f64x2_zero|promote_low_f32x4)$")
CANONICAL = {
    "f32": "(func $canonical-f32 (param f32) (result f32) (select (f32.const nan) (local.get 0) (f32.ne (local.get 0) (local.get 0))))",
    "f64": "(func $canonical-f64 (param f64) (result f64) (select (f64.const nan) (local.get 0) (f64.ne (local.get 0) (local.get 0))))",
    "f32x4": "(func $canonical-f32x4 (param v128) (result v128) (v128.bitselect (local.get 0) (v128.const f32x4 nan nan nan nan) (f32x4.eq (local.get 0) (local.get 0))))",
    "f64x2": "(func $canonical-f64x2 (param v128) (result v128) (v128.bitselect (local.get 0) (v128.const f64x2 nan nan) (f64x2.eq (local.get 0) (local.get 0))))",
}

def canonical_nans(wasm):
    """The same module with every float result whose NaN bits the spec leaves open made the
    canonical NaN (a call to a function appended after the others, so no index moves)."""
    text = subprocess.run([wasm_tools, "print"], input=wasm, capture_output=True, check=True).stdout.decode()
    lines, used = [], set()
    for line in text.splitlines():
        lines.append(line)
        m = OPEN_NAN.match(line)
        if m:
            shape = m.group(1) or m.group(3)
            used.add(shape)
            lines.append(f"call $canonical-{shape}")
    body = "\n".join(lines).rstrip()
    assert body.endswith(")")
    body = body[:-1] + "\n" + "\n".join(CANONICAL[k] for k in sorted(used)) + ")\n"
    return subprocess.run([wasm_tools, "parse", "-"], input=body.encode(), capture_output=True, check=True).stdout

def run_module(kind, n, tmp, engine, sheave, canonical=False):
    """One generated module on both engines: None when it could not be run (not generated,
    refused by Wasmtime), else (wasm, calls made, [(mode, difference)], skipped because).
    canonical: with its open NaNs made canonical (canonical_nans)."""
    path = generate(kind, n, tmp)
    if path is None: return None
    wasm = open(path, "rb").read()
    os.remove(path)
    if canonical: wasm = canonical_nans(wasm)
    rng = random.Random(n * 7919)
    try:
        module = wasmtime.Module(engine, wasm)
    except Exception:
        return None
    open(path, "wb").write(wasm)
    try:
        described = sheave.ask({"describe": path}, 1)
        if described is None:
            return wasm, 0, [("describe", f"sheave-differential died (exit {sheave.died})")], None
        types = described[0]
        try:
            side = wasmtime_side(engine, module, types, rng)
        except Exception as e:  # the Python binding's own limits: counted, never passed
            return wasm, 0, [], f"the harness failed on Wasmtime's side: {e!r}"
        expected = side.pop("expected")
        if "error" in types and "error" not in expected:
            return wasm, 0, [("compile", f"Sheave refuses a module Wasmtime runs: {types['error']}")], None
        answers = sheave.ask({"wasm": path, **side}, len(MODES))
        if answers is None:
            return wasm, len(side["calls"]), [("all", f"sheave-differential died (exit {sheave.died})")], None
        differences = [(a["mode"], d) for a in answers for d in [compare(expected, a)] if d]
        return wasm, len(side["calls"]), differences, None
    finally:
        if os.path.exists(path): os.remove(path)

def nan_dependent(differences):
    """Only memories or globals differ, with every call's result the same: what NaN bits
    stored (a NaN's payload is left open by the spec) would make."""
    return differences and all(d.startswith(("memories:", "global ")) for _, d in differences)

def main():
    args = sys.argv[1:]
    seed = int(time.time()) % 1000000
    if "--seed" in args:
        at = args.index("--seed")
        seed = int(args[at + 1])
        del args[at:at + 2]
    count = None
    if "--count" in args:
        at = args.index("--count")
        count = int(args[at + 1])
        del args[at:at + 2]
    runner, budget = args[0], float(args[1])
    sets = (args[2] if len(args) > 2 else "mvp,simd,memory,exceptions,fusion").split(",")
    for s in sets:
        if s not in ("mvp", "simd", "memory", "exceptions", "fusion"):
            raise SystemExit(f"unknown feature set {s!r}: mvp, simd, memory, exceptions or fusion")
    config = wasmtime.Config()
    config.wasm_memory64 = True
    config.wasm_multi_memory = True
    config.wasm_exceptions = True
    engine = wasmtime.Engine(config)
    ask_limits(runner)
    sheave = Sheave(runner)
    counts = {s: 0 for s in sets}
    modules = calls = skipped = 0
    nan_modules = []
    failures = []
    start = time.time()
    n = seed
    with tempfile.TemporaryDirectory() as tmp:
        while time.time() - start < budget and (count is None or n - seed < count):
            n += 1
            kind = sets[n % len(sets)]
            outcome = run_module(kind, n, tmp, engine, sheave)
            if outcome is None: continue
            wasm, made, differences, skip = outcome
            if skip:
                skipped += 1
                print(f"skipped seed {n} ({kind}): {skip}"[:300], flush=True)
                continue
            if nan_dependent(differences):
                # The same module with every open NaN made canonical: if the difference goes,
                # it was NaN bits the spec leaves open, stored to memory or a global.
                try:
                    again = run_module(kind, n, tmp, engine, sheave, canonical=True)
                except subprocess.CalledProcessError as e:  # not rewritten: the difference stands
                    print(f"seed {n} ({kind}): NaNs not made canonical: {e.stderr[:200]!r}", flush=True)
                    again = None
                if again is not None and not again[2] and not again[3]:
                    nan_modules.append((kind, n))
                    keep(wasm, kind, n, "NaN-dependent (gone with canonical NaNs): " + differences[0][1])
                    differences = []
            for mode, difference in differences:
                failures.append((kind, n, mode, difference))
                keep(wasm, kind, n, f"{mode}: {difference}")
            modules += 1
            counts[kind] += 1
            calls += made
            if modules % 2000 == 0:
                print(f"... {modules} modules, {calls} calls, {len(failures)} divergences, {time.time() - start:.0f} s", flush=True)
    sheave.close()
    print(f"{modules} modules ({', '.join(f'{k} {v}' for k, v in counts.items())}), {calls} calls compared "
          f"on {len(MODES)} ways of running in {time.time() - start:.0f} s (seeds {seed + 1}-{n}); "
          f"{skipped} skipped where Wasmtime's Python binding failed")
    for kind, n in nan_modules:
        print(f"NaN-DEPENDENT {kind} {n}: memories or globals differ only in NaN bits (the same with canonical NaNs agrees)")
    for f in failures[:20]: print("DIVERGENCE", *f)
    failed = len({(f[0], f[1]) for f in failures})
    print(f"{modules - failed} passed, {failed} failed")
    sys.exit(1 if failures else 0)

def keep(wasm, kind, n, why):
    os.makedirs(".differential", exist_ok=True)
    open(f".differential/{kind}-{n}.wasm", "wb").write(wasm)
    open(f".differential/{kind}-{n}.txt", "w").write(why + "\n")

if __name__ == "__main__":
    main()
