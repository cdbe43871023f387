// The one declaration of every Sheave op. Everything else about the
// instruction set (encoder, decoder, disassembler, visitor protocol, the
// interpreter's handler protocol, both dispatch loops, the test-only
// materialized op type) is generated from this table by `SheaveGen`.
//
// Naming grammar (after Pulley's):
//
//     <class><operation><width>[_<signedness>][_<immediate kind>]
//
//   class       x = integer register, f = float register, v = vector register;
//               a conversion is named <to>_from_<from> (x32_from_f64_s).
//   width       32 or 64: how many low bits of the register the op reads
//               and writes. A 32-bit result is written zero-extended to
//               64 bits, so upper halves of i32 values are always zero.
//   signedness  _s or _u where the operation depends on it.
//   immediate   _i32 / _u8: the last source is an immediate of that type,
//               not a register.
//   br_if_<cmp> compare-and-branch super-instruction: branch to `offset`
//               (relative to the start of the instruction) when true.
//
// Registers are slots of the current frame (frame-relative windows, see
// docs/design.md): x5, f5 and v5 all name slot 5; v5 covers slots 5 and 6.

/// How an operand is encoded and what it means.
enum OperandKind: Equatable {
    case x, f, v          // register numbers, u16 each
    case u8, u16, u32, i32, u64, i64
    case f32, f64         // float immediates, stored as their bit patterns
    case pcrel            // i32 offset from the start of the instruction
    case trapCode         // u8, a `TrapCode`
    case branchTable      // u32 count, then count+1 i32 pc-relative offsets; the last is the default

    /// Encoded size in bytes; nil for the variable-length branch table.
    var size: Int? {
        switch self {
        case .x, .f, .v, .u16: return 2
        case .u8, .trapCode: return 1
        case .u32, .i32, .f32, .pcrel: return 4
        case .u64, .i64, .f64: return 8
        case .branchTable: return nil
        }
    }
}

/// Typed facts about an op, used by the generator; never guessed from names.
struct OpFlags: OptionSet {
    let rawValue: Int
    /// The handler can stop the run loop: a trap, a return to the host, a host call.
    static let mayStop = OpFlags(rawValue: 1 << 0)
    /// Reads or writes linear memory.
    static let memory = OpFlags(rawValue: 1 << 1)
    /// Has pc-relative branch targets.
    static let branch = OpFlags(rawValue: 1 << 2)
    /// Control never falls through to the next instruction.
    static let terminator = OpFlags(rawValue: 1 << 3)
    /// Transfers control to another function.
    static let call = OpFlags(rawValue: 1 << 4)
    /// Encoded as 0xFF followed by a u16 extended opcode: colder ops.
    static let extended = OpFlags(rawValue: 1 << 5)
    /// Touches only registers (no memory, tables, calls or control): safe for random execution tests.
    static let pure = OpFlags(rawValue: 1 << 6)
    /// A 128-bit SIMD op: compiled out of the interpreter without the `InterpreterSIMD` trait.
    static let simd = OpFlags(rawValue: 1 << 7)
    /// The handler leaves the f64 it writes to its `dst` in the float accumulator
    /// (`Executor.setF64`, `loadF64`), so the op after it may read it from there.
    static let writesFAcc = OpFlags(rawValue: 1 << 8)
    /// The handler's last write to an x register is to its `dst` (`setX32`,
    /// `setX64`), which leaves the value in the integer accumulator.
    static let writesXAcc = OpFlags(rawValue: 1 << 9)
    /// The handler writes no x register (so it leaves the integer accumulator as
    /// it was) and no slot other than its f `dst`, if it has one.
    static let keepsXAcc = OpFlags(rawValue: 1 << 10)
    /// A `writesXAcc` op that also has *keeping* forms: it writes its `dst` slot
    /// but leaves the integer accumulator as it was, so that a value the code
    /// image wants kept there (a loaded pointer) survives it.
    static let hasKeepingForms = OpFlags(rawValue: 1 << 11)
    /// A `writesXAcc` op whose value left in the integer accumulator was loaded from
    /// memory: a pointer the code image may keep there across later ops.
    static let loadsXAcc = OpFlags(rawValue: 1 << 12)
    /// A tail call: the callee replaces this frame. When the host makes the call
    /// as an ordinary one (a foreign or host callee), an exception it throws is
    /// not caught by this frame's clauses: the frame is gone as far as wasm can tell.
    static let tailCall = OpFlags(rawValue: 1 << 13)
}

/// For an op that is exactly one Wasm instruction: which one, and its Wasm
/// types, so the generator can write the compiler's lowering of it
/// (`Sources/SheaveCompiler/Generated/SIMDLowering.swift`).
struct WasmInstruction {
    /// The case of WasmParser's `Instruction.Simd` or `Instruction.SimdLane`.
    let name: String
    /// The operand types, first to last, and the result type.
    let inputs: [String]
    let result: String?
    /// For lane ops: how many lanes the `lane` immediate may name.
    let lanes: Int?
    /// Relaxed SIMD instructions (WasmParser's cases) this op also implements,
    /// as one of the behaviours each allows: Sheave's deterministic choice.
    var relaxed: [String] = []
    /// Whether the instruction itself is relaxed SIMD (needs that feature).
    var isRelaxed = false
}

/// What a plain integer operand means, for the artifact verifier: which index
/// space it indexes, or which frame fact it states. Written after the kind
/// with an `@`: `index: u32@global`.
enum OperandMeaning: String {
    case value                       // a plain immediate
    case global, function, table, memory, type, tag
    case elem, data                  // element and data segments
    case `import` = "import"         // an imported function (call_host)
    case frame                       // u16: the slot where a callee's frame starts
    case slots                       // u16: how many slots a host call reads and writes
    case framesize                   // u32: the function's frame size in slots
}

/// What a super-instruction stands for: plain ops of this table, run in order.
/// Their operands are the super-instruction's own, by name, or temporaries
/// (`t`, `u`: registers that nothing else reads, of the kind the step's operand
/// has). The generator checks every step against the table and writes, from it,
/// an equivalence test (the fused op against the steps, on random values and
/// register aliasings, in both loops and every accumulator form).
struct Fusion {
    /// "xshl32_u8 t, index, shift": an op's name, then one argument per operand.
    var steps: [String]
    /// Register operands that must name different registers for the steps to mean
    /// what the op does (the compiler fuses only then).
    var distinct: [(String, String)] = []
    /// The values the x registers hold: i32 (upper halves zero) or i64.
    var xBits = 32
    /// The values the f registers hold: f32 (in the low 32 bits) or f64.
    var fBits = 64
    /// Operands of the super-instruction that no step fills: the value each takes
    /// (a test against zero as one against the constant 0).
    var constants: [(String, Int64)] = []

    init(_ steps: String..., distinct: [(String, String)] = [], constants: [(String, Int64)] = [], xBits: Int = 32, fBits: Int = 64) {
        self.steps = steps
        self.distinct = distinct
        self.constants = constants
        self.xBits = xBits
        self.fBits = fBits
    }
}

struct Operand {
    let name: String
    let kind: OperandKind
    var meaning: OperandMeaning = .value
}

struct Op {
    let name: String
    let operands: [Operand]
    let doc: String
    var flags: OpFlags
    var wasm: WasmInstruction? = nil
    /// The f operands this op has float-accumulator forms for: tail handlers that
    /// read that operand from the accumulator, installed by `CodeImage` where the
    /// op before wrote that register (`writesFAcc`).
    var faccForms: [String] = []
    /// The x operands this op has integer-accumulator forms for (`writesXAcc`).
    var xaccForms: [String] = []
    /// A second x register the op writes, before its `dst` (so not in the integer
    /// accumulator when it is done): it has no form for that operand, which it
    /// writes rather than reads, and no keeping forms.
    var alsoWrites: String? = nil
    /// What the op stands for: each declaration is a sequence of other ops
    /// (plain ones, or super-instructions declared before) it does the work of.
    /// The compiler's fusion rules are generated from these (`FusionRules.swift`).
    var fuses: [Fusion] = []
    /// Two operands the op reads that may be swapped without changing what it
    /// does (`a + b` is `b + a`): the fusion rules match a step either way.
    var commutes: (String, String)? = nil
}

/// Parses "dst: x, src1: x" into operands.
private func parseOperands(_ text: String) -> [Operand] {
    if text.isEmpty { return [] }
    return text.split(separator: ",").map { part in
        let pieces = part.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
        precondition(pieces.count == 2, "bad operand \(part)")
        let kind: OperandKind
        let typeAndMeaning = pieces[1].split(separator: "@").map(String.init)
        let meaning = typeAndMeaning.count > 1 ? OperandMeaning(rawValue: typeAndMeaning[1])! : .value
        switch typeAndMeaning[0] {
        case "x": kind = .x
        case "f": kind = .f
        case "v": kind = .v
        case "u8": kind = .u8
        case "u16": kind = .u16
        case "u32": kind = .u32
        case "i32": kind = .i32
        case "u64": kind = .u64
        case "i64": kind = .i64
        case "f32": kind = .f32
        case "f64": kind = .f64
        case "pcrel": kind = .pcrel
        case "trap": kind = .trapCode
        case "table": kind = .branchTable
        default: fatalError("unknown operand kind \(pieces[1])")
        }
        return Operand(name: pieces[0], kind: kind, meaning: meaning)
    }
}

import Foundation

private var table: [Op] = []

/// "x" + "shr_s" + "32" -> "xshr32_s": the width comes before the signedness.
private func named(_ cls: String, _ operation: String, _ width: String, _ suffix: String = "") -> String {
    let parts = operation.split(separator: "_", maxSplits: 1).map(String.init)
    return cls + parts[0] + width + (parts.count > 1 ? "_" + parts[1] : "") + suffix
}

private func op(_ name: String, _ operands: String, _ doc: String, _ flags: OpFlags = [],
                faccForms: [String] = [], alsoWrites: String? = nil, commutes: (String, String)? = nil, fuses: Fusion...) {
    op(name, operands, doc, flags, faccForms: faccForms, alsoWrites: alsoWrites, commutes: commutes, fuses: fuses)
}

private func op(_ name: String, _ operands: String, _ doc: String, _ flags: OpFlags = [],
                faccForms: [String] = [], alsoWrites: String? = nil, commutes: (String, String)? = nil, fuses: [Fusion]) {
    table.append(Op(name: name, operands: parseOperands(operands), doc: doc, flags: flags,
                    faccForms: faccForms, alsoWrites: alsoWrites, fuses: fuses, commutes: commutes))
}

/// Builds the whole op table, in encoding order: primary ops take opcodes
/// 0, 1, 2, ... in the order declared; extended ops take extended opcodes
/// 0, 1, 2, ... in the order declared.
func buildOpTable() -> [Op] {
    table = []
    let pure: OpFlags = .pure
    let ext: OpFlags = .extended
    // Accumulator facts (docs/design.md, "Accumulators"), declared with each op:
    // an op that writes its x `dst` last (`setX32`, `setX64`), one that writes
    // its f `dst` with `setF32`/`setF64` or a float load (and no x register), the
    // loads and stores, a branch that writes its x `dst` first, and a
    // compare-and-branch that writes nothing.
    let xpure: OpFlags = [.pure, .writesXAcc]
    let fpure: OpFlags = [.pure, .writesFAcc, .keepsXAcc]
    let xload: OpFlags = [.memory, .mayStop, .writesXAcc, .loadsXAcc]
    let fload: OpFlags = [.memory, .mayStop, .writesFAcc, .keepsXAcc]
    let store: OpFlags = [.memory, .mayStop, .keepsXAcc]
    let xbranch: OpFlags = [.branch, .writesXAcc]
    let test: OpFlags = [.branch, .keepsXAcc]

    // MARK: Control
    op("nop", "", "do nothing", pure)
    op("trap", "code: trap", "stop with a trap of kind `code`", [.mayStop, .terminator])
    op("ret", "", "return to the caller: pop (pc, fp) from the link stack", [.mayStop, .terminator])
    op("jump", "offset: pcrel", "pc = pc + offset", [.branch, .terminator])
    // A branch on an `eqz` tests its operand (`if (!x)`, `br_if (i32.eqz x)`).
    op("br_if_xnez32", "cond: x, offset: pcrel", "if low32(cond) != 0 { pc = pc + offset }", test,
       fuses: Fusion("xeqz32 t, cond", "br_if_xeqz32 t, offset"))
    op("br_if_xeqz32", "cond: x, offset: pcrel", "if low32(cond) == 0 { pc = pc + offset }", test,
       fuses: Fusion("xeqz32 t, cond", "br_if_xnez32 t, offset"))
    op("br_if_xnez64", "cond: x, offset: pcrel", "if cond != 0 { pc = pc + offset }", test,
       fuses: Fusion("xeqz64 t, cond", "br_if_xeqz32 t, offset", xBits: 64))
    op("br_if_xeqz64", "cond: x, offset: pcrel", "if cond == 0 { pc = pc + offset }", test,
       fuses: Fusion("xeqz64 t, cond", "br_if_xnez32 t, offset", xBits: 64))
    for w in ["32", "64"] {
        let lo = w == "32" ? "low32" : ""
        // A comparison and the branch on it (the `if` on its negation: `a < b` is
        // false when `b <= a`).
        for (cmp, sym, sign, negation) in [("eq", "==", "", "xne\(w) t, a, b"), ("ne", "!=", "", "xeq\(w) t, a, b"),
                                           ("slt", "<", "signed ", "xsle\(w) t, b, a"), ("sle", "<=", "signed ", "xslt\(w) t, b, a"),
                                           ("ult", "<", "unsigned ", "xule\(w) t, b, a"), ("ule", "<=", "unsigned ", "xult\(w) t, b, a")] {
            op("br_if_x\(cmp)\(w)", "a: x, b: x, offset: pcrel",
               "if \(sign)\(lo)(a) \(sym) \(sign)\(lo)(b) { pc = pc + offset }", w == "32" ? test : test.union(ext),
               commutes: cmp == "eq" || cmp == "ne" ? ("a", "b") : nil,
               fuses: Fusion("x\(cmp)\(w) t, a, b", "br_if_xnez32 t, offset", xBits: Int(w)!),
               Fusion(negation, "br_if_xeqz32 t, offset", xBits: Int(w)!))
        }
    }
    for w in ["32", "64"] {
        let lo = w == "32" ? "low32" : ""
        for (cmp, sym, sign, negation) in [("eq", "==", "", "ne"), ("ne", "!=", "", "eq"), ("slt", "<", "signed ", "sge"),
                                           ("sle", "<=", "signed ", "sgt"), ("sgt", ">", "signed ", "sle"), ("sge", ">=", "signed ", "slt"),
                                           ("ult", "<", "unsigned ", "uge"), ("ule", "<=", "unsigned ", "ugt"),
                                           ("ugt", ">", "unsigned ", "ule"), ("uge", ">=", "unsigned ", "ult")] {
            op("br_if_x\(cmp)\(w)_i32", "a: x, imm: i32, offset: pcrel",
               "if \(sign)\(lo)(a) \(sym) \(sign)imm\(w == "64" ? " (sign-extended)" : "") { pc = pc + offset }",
               w == "32" ? test : test.union(ext), fuses: Fusion("x\(cmp)\(w)_i32 t, a, imm", "br_if_xnez32 t, offset", xBits: Int(w)!),
               Fusion("x\(negation)\(w)_i32 t, a, imm", "br_if_xeqz32 t, offset", xBits: Int(w)!))
        }
    }
    op("br_table32", "index: x, targets: table",
       "pc = pc + targets[min(low32(index), count)]: the last target is the default", [.branch, .terminator])
    op("call", "offset: pcrel, frame: u16@frame",
       "push (pc of next op, fp) on the link stack; fp = fp + 8 * frame; pc = pc + offset", [.call, .branch])
    op("call_indirect", "table: u32@table, type: u32@type, index: x, frame: u16@frame",
       "call the function at tables[table][low32(index)], which must have signature `type`", [.call, .mayStop])
    op("call_host", "id: u32@import, frame: u16@frame, slots: u16@slots",
       "stop the run loop to call host function `id`; its arguments and results are the `slots` slots at fp + frame", [.call, .mayStop])
    op("call_ref", "ref: x, frame: u16@frame",
       "call the function `ref` references; traps when it is null", [.call, .mayStop, .extended])
    op("checkpoint", "cost: u32",
       "fuel = fuel - cost; trap when fuel runs out or the store was interrupted (emitted only when the engine meters fuel or can be interrupted)",
       .mayStop)
    op("push_frame", "size: u32@framesize",
       "check that `size` slots from fp, and one more link, fit in the stack; else trap with stack overflow", .mayStop)

    // MARK: Moves and constants
    op("xmov", "dst: x, src: x", "dst = src (all 64 bits; moves f registers too)", xpure)
    op("xzero", "first: u16@frame, count: u16@slots",
       "slots first ..< first + count = 0: the declared locals, at function entry")
    op("xconst32", "dst: x, imm: i32", "dst = zext(imm)", xpure)
    op("xconst64", "dst: x, imm: i64", "dst = imm", xpure)
    op("fconst32", "dst: f, imm: f32", "low32(dst) = imm", pure)
    op("fconst64", "dst: f, imm: f64", "dst = imm", pure)
    // A select on an `eqz` selects on its operand, the other way round.
    op("xselect", "dst: x, cond: x, a: x, b: x", "dst = low32(cond) != 0 ? a : b (all 64 bits)", xpure,
       fuses: Fusion("xeqz32 t, cond", "xselect dst, t, b, a"))
    op("xselect64", "dst: x, cond: x, a: x, b: x", "dst = cond != 0 ? a : b (a 64-bit condition: select on an i64.eqz, operands swapped)", xpure,
       fuses: Fusion("xeqz64 t, cond", "xselect dst, t, b, a", xBits: 64))
    op("vmov", "dst: v, src: v", "dst = src (all 128 bits)", [.pure, .extended, .simd])

    // MARK: Globals (cells of the current instance, 8 bytes each)
    op("global_get", "dst: x, index: u32@global", "dst = globals[index]", .extended)
    op("global_set", "index: u32@global, src: x", "globals[index] = src", .extended)

    // MARK: References and tables (a reference is 8 bytes: 0 is null)
    op("ref_func", "dst: x, index: u32@function", "dst = reference to function `index` of the current instance", .extended)
    op("table_get", "dst: x, table: u32@table, index: x", "dst = tables[table][low32(index)]; traps when out of bounds", [.mayStop, .extended])
    op("table_set", "table: u32@table, index: x, value: x", "tables[table][low32(index)] = value; traps when out of bounds", [.mayStop, .extended])
    op("table_size", "dst: x, table: u32@table", "dst = size of tables[table]", .extended)
    op("table_grow", "dst: x, table: u32@table, value: x, delta: x", "grow tables[table] by low32(delta) entries set to value; dst = old size, or -1", .extended)
    op("table_fill", "table: u32@table, start: x, value: x, count: x", "fill count entries from start with value; traps when out of bounds", [.mayStop, .extended])
    op("table_copy", "dst_table: u32@table, src_table: u32@table, dst: x, src: x, count: x", "copy count entries between tables (overlap-safe); traps when out of bounds", [.mayStop, .extended])
    op("table_init", "table: u32@table, segment: u32@elem, dst: x, src: x, count: x", "copy count references of element segment `segment` into the table; traps when out of bounds", [.mayStop, .extended])
    op("elem_drop", "segment: u32@elem", "drop element segment `segment`: it becomes empty", .extended)

    // MARK: Bulk memory
    op("memory_fill", "dst: x, value: x, count: x", "fill count bytes of memory 0 from dst with low8(value); traps when out of bounds", [.memory, .mayStop, .extended])
    op("memory_copy", "dst: x, src: x, count: x", "copy count bytes of memory 0 (overlap-safe); traps when out of bounds", [.memory, .mayStop, .extended])
    op("memory_init", "segment: u32@data, dst: x, src: x, count: x", "copy count bytes of data segment `segment` to memory 0; traps when out of bounds", [.memory, .mayStop, .extended])
    // The same on any memory, by index (multi-memory, memory64): addresses and counts
    // are read in all 64 bits (an i32's upper half is zero), so one op serves both widths.
    op("memory_fill_m", "memory: u32@memory, dst: x, value: x, count: x", "fill count bytes of memories[memory] from dst with low8(value); traps when out of bounds", [.memory, .mayStop, .extended])
    op("memory_copy_m", "dst_memory: u32@memory, src_memory: u32@memory, dst: x, src: x, count: x",
       "copy count bytes from memories[src_memory] at src to memories[dst_memory] at dst (overlap-safe); traps when out of bounds", [.memory, .mayStop, .extended])
    op("memory_init_m", "memory: u32@memory, segment: u32@data, dst: x, src: x, count: x", "copy count bytes of data segment `segment` to memories[memory]; traps when out of bounds", [.memory, .mayStop, .extended])
    op("data_drop", "segment: u32@data", "drop data segment `segment`: it becomes empty", .extended)

    // MARK: Integer arithmetic
    for w in ["32", "64"] {
        let lo = w == "32" ? "low32" : ""
        for (name, sym, commutative) in [("add", "+", true), ("sub", "-", false), ("mul", "*", true), ("and", "&", true), ("or", "|", true),
                                         ("xor", "^", true), ("shl", "<<", false), ("shr_s", ">>s", false), ("shr_u", ">>u", false),
                                         ("rotl", "rotl", false), ("rotr", "rotr", false)] {
            op(named("x", name, w), "dst: x, src1: x, src2: x", "\(lo)(dst) = \(lo)(src1) \(sym) \(lo)(src2) (wrapping; shifts modulo \(w))", xpure,
               commutes: commutative ? ("src1", "src2") : nil)
        }
        for (name, sym) in [("div_s", "/s"), ("div_u", "/u"), ("rem_s", "%s"), ("rem_u", "%u")] {
            op(named("x", name, w), "dst: x, src1: x, src2: x",
               "\(lo)(dst) = \(lo)(src1) \(sym) \(lo)(src2); traps on division by zero\(name == "div_s" ? " and overflow" : "")", .mayStop)
        }
        op("xeqz\(w)", "dst: x, src: x", "dst = \(lo)(src) == 0 ? 1 : 0", xpure)
        for name in ["clz", "ctz", "popcnt"] {
            op("x\(name)\(w)", "dst: x, src: x", "dst = \(name)(\(lo)(src))", xpure.union(ext))
        }
        for (cmp, sym, sign) in [("eq", "==", ""), ("ne", "!=", ""), ("slt", "<", "signed "), ("sle", "<=", "signed "), ("ult", "<", "unsigned "), ("ule", "<=", "unsigned ")] {
            op("x\(cmp)\(w)", "dst: x, a: x, b: x", "dst = \(sign)\(lo)(a) \(sym) \(sign)\(lo)(b) ? 1 : 0", xpure,
               commutes: cmp == "eq" || cmp == "ne" ? ("a", "b") : nil)
        }
    }
    // Super-instructions from the profiler's adjacent-pair counts (docs/benchmarks.md):
    // scaled-index address arithmetic, and bit-field extraction.
    op("xadd32_shl", "dst: x, base: x, index: x, shift: u8",
       "low32(dst) = low32(base) + (low32(index) << (shift % 32)) (wrapping): i32.shl by a constant, then i32.add", xpure,
       fuses: Fusion("xshl32_u8 t, index, shift", "xadd32 dst, base, t"))
    op("xshr32_u_and", "dst: x, src: x, shift: u8, mask: i32",
       "low32(dst) = (low32(src) >>u (shift % 32)) & mask: i32.shr_u by a constant, then i32.and with one", xpure,
       fuses: Fusion("xshr32_u_u8 t, src, shift", "xand32_i32 dst, t, mask"))
    // xorshift steps (hashes, PRNGs): a ^ (b << k) and a ^ (b >>u k).
    for w in ["32", "64"] {
        let lo = w == "32" ? "low32" : ""
        op("xxor\(w)_shl", "dst: x, a: x, b: x, shift: u8", "\(lo)(dst) = \(lo)(a) ^ (\(lo)(b) << (shift % \(w))): a shift by a constant, then xor", xpure,
           fuses: Fusion("xshl\(w)_u8 t, b, shift", "xxor\(w) dst, a, t", xBits: Int(w)!))
        op("xxor\(w)_shr_u", "dst: x, a: x, b: x, shift: u8", "\(lo)(dst) = \(lo)(a) ^ (\(lo)(b) >>u (shift % \(w))): a shift by a constant, then xor", xpure,
           fuses: Fusion("xshr\(w)_u_u8 t, b, shift", "xxor\(w) dst, a, t", xBits: Int(w)!))
    }
    // A float product used by the next op: (a * b) op c, each rounded as the two ops
    // round (no fused multiply-add). Products, dot products, `v -= d * m`.
    for w in ["32", "64"] {
        for (name, what, then) in [("mul", "(a * b) * c", "fmul\(w) dst, t, c"), ("add", "(a * b) + c", "fadd\(w) dst, t, c"),
                                   ("sub", "(a * b) - c", "fsub\(w) dst, t, c"), ("rsub", "c - (a * b)", "fsub\(w) dst, c, t")] {
            op("fmul\(w)_\(name)", "dst: f, a: f, b: f, c: f", "dst = \(what) (f\(w), the product rounded first)", fpure,
               faccForms: ["a", "b", "c"], fuses: Fusion("fmul\(w) t, a, b", then, fBits: Int(w)!))
        }
    }
    // Multiply by a constant, then add one (3x + 1, linear congruential steps).
    for w in ["32", "64"] {
        let lo = w == "32" ? "low32" : ""
        let ext = w == "32" ? "" : " (both sign-extended)"
        op("xmul\(w)_add_i32", "dst: x, src: x, mul: i32, add: i32",
           "\(lo)(dst) = \(lo)(src) * mul + add (wrapping)\(ext): a multiply by a constant, then an add of one", xpure,
           fuses: Fusion("xmul\(w)_i32 t, src, mul", "xadd\(w)_i32 dst, t, add", xBits: Int(w)!))
    }
    // Loop ends: an add (the induction step) and a compare-and-branch on its result,
    // one op: the sum is written and tested without a trip through the frame.
    for w in ["32", "64"] {
        let lo = w == "32" ? "low32" : ""
        for (add, addOperand, added, step) in [("_i32", "imm: i32", w == "32" ? "imm" : "sext(imm)", "xadd\(w)_i32 dst, a, imm"),
                                               ("", "b: x", "\(lo)(b)", "xadd\(w) dst, a, b")] {
            for (cond, right, test, branch) in [("nez", "", "!= 0", "br_if_xnez\(w) dst, offset"),
                                                ("ne", ", c: x", "!= \(lo)(c)", "br_if_xne\(w) dst, c, offset"),
                                                ("ne_i32", ", limit: i32", "!= \(w == "32" ? "limit" : "sext(limit)")", "br_if_xne\(w)_i32 dst, limit, offset"),
                                                ("slt", ", c: x", "<s \(lo)(c)", "br_if_xslt\(w) dst, c, offset"),
                                                ("ult", ", c: x", "<u \(lo)(c)", "br_if_xult\(w) dst, c, offset")] {
                op("br_xadd\(w)\(add)_\(cond)", "dst: x, a: x, \(addOperand)\(right), offset: pcrel",
                   "\(lo)(dst) = \(lo)(a) + \(added) (wrapping); if \(lo)(dst) \(test) { pc = pc + offset }", xbranch,
                   fuses: Fusion(step, branch, xBits: Int(w)!))
            }
        }
    }
    // Immediate forms.
    for w in ["32", "64"] {
        let lo = w == "32" ? "low32" : ""
        let immNote = w == "32" ? "imm" : "sext(imm)"
        for (name, sym) in [("add", "+"), ("mul", "*"), ("and", "&"), ("or", "|"), ("xor", "^")] {
            op("x\(name)\(w)_i32", "dst: x, src: x, imm: i32", "\(lo)(dst) = \(lo)(src) \(sym) \(immNote) (wrapping)", xpure)
        }
        if w == "64" {
            // Constants that do not sign-extend from 32 bits: hash multipliers, masks.
            for (name, sym) in [("add", "+"), ("mul", "*"), ("and", "&"), ("or", "|"), ("xor", "^")] {
                op("x\(name)64_i64", "dst: x, src: x, imm: i64", "dst = src \(sym) imm (wrapping)", xpure)
            }
        }
        for (name, sym) in [("shl", "<<"), ("shr_s", ">>s"), ("shr_u", ">>u")] {
            op(named("x", name, w, "_u8"), "dst: x, src: x, imm: u8", "\(lo)(dst) = \(lo)(src) \(sym) (imm % \(w))", xpure)
        }
        for (cmp, sym, sign) in [("eq", "==", ""), ("ne", "!=", ""), ("slt", "<", "signed "), ("sle", "<=", "signed "),
                                 ("sgt", ">", "signed "), ("sge", ">=", "signed "), ("ult", "<", "unsigned "),
                                 ("ule", "<=", "unsigned "), ("ugt", ">", "unsigned "), ("uge", ">=", "unsigned ")] {
            op("x\(cmp)\(w)_i32", "dst: x, a: x, imm: i32", "dst = \(sign)\(lo)(a) \(sym) \(sign)\(immNote) ? 1 : 0",
               w == "32" ? xpure : xpure.union(ext))
        }
    }
    // Width changes.
    op("xzext32_64", "dst: x, src: x", "dst = zext(low32(src)) (i32.wrap_i64, i64.extend_i32_u)", xpure)
    op("xsext32_64", "dst: x, src: x", "dst = sext(low32(src)) (i64.extend_i32_s)", xpure)
    op("xsext8_32", "dst: x, src: x", "low32(dst) = sext(low8(src))", xpure.union(ext))
    op("xsext16_32", "dst: x, src: x", "low32(dst) = sext(low16(src))", xpure.union(ext))
    op("xsext8_64", "dst: x, src: x", "dst = sext(low8(src))", xpure.union(ext))
    op("xsext16_64", "dst: x, src: x", "dst = sext(low16(src))", xpure.union(ext))

    // MARK: Float arithmetic
    for w in ["32", "64"] {
        for (name, what) in [("add", "+"), ("sub", "-"), ("mul", "*"), ("div", "/")] {
            op("f\(name)\(w)", "dst: f, src1: f, src2: f", "dst = src1 \(what) src2 (f\(w))", fpure, faccForms: ["src1", "src2"],
               commutes: name == "add" || name == "mul" ? ("src1", "src2") : nil)
        }
        op("fmin\(w)", "dst: f, src1: f, src2: f", "dst = wasm min(src1, src2): NaN if either is NaN, -0 < +0", fpure)
        op("fmax\(w)", "dst: f, src1: f, src2: f", "dst = wasm max(src1, src2): NaN if either is NaN, -0 < +0", fpure)
        op("fcopysign\(w)", "dst: f, src1: f, src2: f", "dst = magnitude of src1, sign of src2", [.pure, .extended])
        op("fabs\(w)", "dst: f, src: f", "dst = |src|", pure)
        op("fneg\(w)", "dst: f, src: f", "dst = -src", pure)
        op("fsqrt\(w)", "dst: f, src: f", "dst = sqrt(src)", fpure, faccForms: ["src"])
        for name in ["ceil", "floor", "trunc", "nearest"] {
            op("f\(name)\(w)", "dst: f, src: f", "dst = \(name)(src)\(name == "nearest" ? ", ties to even" : "")", fpure.union(ext))
        }
        for (cmp, sym) in [("eq", "=="), ("ne", "!="), ("lt", "<"), ("le", "<=")] {
            op("f\(cmp)\(w)", "dst: x, a: f, b: f", "dst = a \(sym) b ? 1 : 0 (f\(w); false for NaN except ne)", xpure)
        }
    }

    // MARK: Conversions
    for (iw, fw) in [("32", "32"), ("32", "64"), ("64", "32"), ("64", "64")] {
        for s in ["s", "u"] {
            op("x\(iw)_from_f\(fw)_\(s)", "dst: x, src: f",
               "dst = trunc(src) as i\(iw) (\(s == "s" ? "signed" : "unsigned")); traps on NaN or overflow", [.mayStop, .extended])
            op("x\(iw)_from_f\(fw)_\(s)_sat", "dst: x, src: f",
               "dst = trunc(src) as i\(iw) (\(s == "s" ? "signed" : "unsigned")), saturating; NaN gives 0", xpure.union(ext))
        }
    }
    for (fw, iw) in [("32", "32"), ("32", "64"), ("64", "32"), ("64", "64")] {
        for s in ["s", "u"] {
            op("f\(fw)_from_x\(iw)_\(s)", "dst: f, src: x",
               "dst = \(s == "s" ? "signed" : "unsigned") i\(iw) src as f\(fw), rounded to nearest", fpure.union(ext))
        }
    }
    op("f32_from_f64", "dst: f, src: f", "dst = src demoted to f32", fpure.union(ext))
    op("f64_from_f32", "dst: f, src: f", "dst = src promoted to f64", fpure.union(ext))

    // MARK: Memory (linear memory 0; effective address = zext(low32(addr)) + offset, bounds-checked)
    let integerLoads = [("xload8_s32", "low32(dst) = sext(i8 load)"), ("xload8_u32", "low32(dst) = zext(u8 load)"),
                        ("xload16_s32", "low32(dst) = sext(i16 load)"), ("xload16_u32", "low32(dst) = zext(u16 load)"),
                        ("xload32", "low32(dst) = u32 load"),
                        ("xload8_s64", "dst = sext(i8 load)"), ("xload8_u64", "dst = zext(u8 load)"),
                        ("xload16_s64", "dst = sext(i16 load)"), ("xload16_u64", "dst = zext(u16 load)"),
                        ("xload32_s64", "dst = sext(i32 load)"), ("xload32_u64", "dst = zext(u32 load)"),
                        ("xload64", "dst = u64 load")]
    for (name, what) in integerLoads {
        op(name, "dst: x, addr: x, offset: u32", "\(what) from memory[ea]; traps when out of bounds", xload)
    }
    op("fload32", "dst: f, addr: x, offset: u32", "low32(dst) = f32 load from memory[ea]; traps when out of bounds", fload)
    op("fload64", "dst: f, addr: x, offset: u32", "dst = f64 load from memory[ea]; traps when out of bounds", fload)
    // Loads whose address is an i32.add just before (the add's result used only by
    // the load): address = zext(low32(a) + low32(b), wrapping like the add) + offset.
    for (name, what, dst, fBits) in [("xload32", "low32(dst) = u32 load", "x", 64), ("xload8_u32", "low32(dst) = zext(u8 load)", "x", 64),
                                     ("fload32", "low32(dst) = f32 load", "f", 32), ("fload64", "dst = f64 load", "f", 64)] {
        op(name + "_add", "dst: \(dst), a: x, b: x, offset: u32",
           "\(what) from memory[zext(low32(a) + low32(b)) + offset]; traps when out of bounds", dst == "x" ? xload : fload,
           fuses: Fusion("xadd32 t, a, b", "\(name) dst, t, offset", fBits: fBits))
        op(name + "_add_i32", "dst: \(dst), a: x, imm: i32, offset: u32",
           "\(what) from memory[zext(low32(a) + imm) + offset]; traps when out of bounds", dst == "x" ? xload : fload,
           fuses: Fusion("xadd32_i32 t, a, imm", "\(name) dst, t, offset", fBits: fBits))
    }
    let integerStores = [("xstore8", "low8(src)"), ("xstore16", "low16(src)"), ("xstore32", "low32(src)"), ("xstore64", "src")]
    for (name, what) in integerStores {
        op(name, "addr: x, offset: u32, src: x", "memory[ea] = \(what); traps when out of bounds", store)
    }
    // Stores of a constant (clearing bytes, setting flags): no op to materialize it first.
    for (name, what) in [("xstore8", "low8(imm)"), ("xstore16", "low16(imm)"), ("xstore32", "imm"), ("xstore64", "sext(imm)")] {
        op(name + "_i32", "addr: x, offset: u32, imm: i32", "memory[ea] = \(what); traps when out of bounds", store)
    }
    op("fstore32", "addr: x, offset: u32, src: f", "memory[ea] = low32(src) as f32; traps when out of bounds", store, faccForms: ["src"])
    op("fstore64", "addr: x, offset: u32, src: f", "memory[ea] = src as f64; traps when out of bounds", store, faccForms: ["src"])
    // (With the moves, but last among the primary ops: its opcode came after theirs.)
    op("fmov", "dst: f, src: f", "dst = src (all 64 bits, through a float register, where float ops read and write)", pure)
    // Measured on CoreMark's op pairs (`sheave profile`): a move and the branch right
    // after it (a loop's variables rotating, a block's result set before `br_if`),
    // 4.5% of its pairs; a bit test and the branch on it, 4.4%. Each op does what
    // the two did, in their order. Last among the primary ops, as `fmov`.
    op("br_xmov_if_xnez32", "dst: x, src: x, cond: x, offset: pcrel",
       "dst = src; if low32(cond) != 0 { pc = pc + offset }", xbranch,
       fuses: Fusion("xmov dst, src", "br_if_xnez32 cond, offset"))
    op("br_xmov_if_xne32_i32", "dst: x, src: x, a: x, imm: i32, offset: pcrel",
       "dst = src; if low32(a) != imm { pc = pc + offset }", xbranch,
       fuses: Fusion("xmov dst, src", "br_if_xne32_i32 a, imm, offset"))
    // (`if (x & 3)` branches on the mask's result against zero.)
    for (cond, test, zero) in [("eq", "==", "br_if_xeqz32"), ("ne", "!=", "br_if_xnez32"), ("ult", "<u", nil), ("ule", "<=u", nil)] {
        let againstZero = zero.map { [Fusion("xand32_i32 dst, src, mask", "\($0) dst, offset", constants: [("imm", 0)])] } ?? []
        op("br_xand32_i32_\(cond)_i32", "dst: x, src: x, mask: i32, imm: i32, offset: pcrel",
           "low32(dst) = low32(src) & mask; if low32(dst) \(test) imm { pc = pc + offset }", xbranch,
           fuses: [Fusion("xand32_i32 dst, src, mask", "br_if_x\(cond)32_i32 dst, imm, offset")] + againstZero)
    }
    // A float sum or difference and the store of it (a body's velocity or position
    // updated in memory): 9.5% of nbody's pairs.
    for (name, sym) in [("fadd64", "+"), ("fsub64", "-")] {
        op("\(name)_store", "dst: f, a: f, b: f, addr: x, offset: u32",
           "dst = a \(sym) b; memory[ea] = dst as f64; traps when out of bounds", [.memory, .mayStop, .writesFAcc, .keepsXAcc],
           faccForms: ["a", "b"], fuses: Fusion("\(name) dst, a, b", "fstore64 addr, offset, dst"))
    }
    // A load and the branch on whether it read zero (a list's next pointer, a
    // string's next byte): 4.6% of CoreMark's pairs.
    for (load, what) in [("xload32", "low32"), ("xload8_u32", "zext(low8)")] {
        for (cond, test) in [("nez", "!= 0"), ("eqz", "== 0")] {
            op("br_\(load)_if_x\(cond)32", "dst: x, addr: x, offset: u32, branch: pcrel",
               "dst = \(what)(memory[ea]); if dst \(test) { pc = pc + branch }; traps when out of bounds", xload.union(.branch),
               fuses: Fusion("\(load) dst, addr, offset", "br_if_x\(cond)32 dst, branch"))
        }
    }
    // Loads of 16 bits whose address is an i32.add (a matrix of shorts indexed by
    // row and column): 4% of CoreMark's op pairs. As `xload32_add` above; last
    // among the primary ops, as `fmov`.
    for (name, what) in [("xload16_s32", "low32(dst) = sext(i16 load)"), ("xload16_u32", "low32(dst) = zext(u16 load)")] {
        op(name + "_add", "dst: x, a: x, b: x, offset: u32",
           "\(what) from memory[zext(low32(a) + low32(b)) + offset]; traps when out of bounds", xload,
           fuses: Fusion("xadd32 t, a, b", "\(name) dst, t, offset"))
        op(name + "_add_i32", "dst: x, a: x, imm: i32, offset: u32",
           "\(what) from memory[zext(low32(a) + imm) + offset]; traps when out of bounds", xload,
           fuses: Fusion("xadd32_i32 t, a, imm", "\(name) dst, t, offset"))
    }
    // A constant set and a jump (a state machine's next state, a block's result set
    // before `br`): 1.9% of CoreMark's op pairs.
    op("br_xconst32", "dst: x, imm: i32, offset: pcrel", "dst = zext(imm); pc = pc + offset", [.branch, .terminator, .writesXAcc],
       fuses: Fusion("xconst32 dst, imm", "jump offset"))
    // A counter in memory stepped by a constant (`p->count++`: an i32 load, an add,
    // the store back to the same address): 1.7% of CoreMark's op pairs, twice.
    op("xadd32_i32_mem", "addr: x, offset: u32, imm: i32",
       "memory[ea] = low32(memory[ea]) + imm (an i32 load, add and store); traps when out of bounds", store,
       fuses: Fusion("xload32 t, addr, offset", "xadd32_i32 t, t, imm", "xstore32 addr, offset, t"))
    // A byte stored through a pointer and the pointer stepped after it (a sieve
    // striking out multiples, a fill with a stride): 23% of sieve's op pairs.
    op("xstore8_i32_step", "dst: x, offset: u32, imm: i32, step: x",
       "memory[zext(low32(dst)) + offset] = low8(imm), then low32(dst) = low32(dst) + low32(step); traps when out of bounds (dst unchanged)",
       [.memory, .mayStop, .writesXAcc], fuses: Fusion("xstore8_i32 dst, offset, imm", "xadd32 dst, dst, step"))
    // A value loaded and another stored to the same address right after it (a list
    // reversed in place: `next = p->next; p->next = prev`): 3.2% of CoreMark's op pairs.
    op("xload32_xchg", "dst: x, addr: x, offset: u32, src: x",
       "low32(dst) = u32 load from memory[ea], then memory[ea] = low32(src) (src read after dst is written); traps when out of bounds", xload,
       fuses: Fusion("xload32 dst, addr, offset", "xstore32 addr, offset, src", distinct: [("dst", "addr")]))
    // A select on a bit test (a CRC's next bit): 2.2% of CoreMark's op pairs. A
    // product or a sum that one more value is added to (a dot product, a sum of
    // three): 1.8% and 3.2%.
    op("xselect_and_i32", "dst: x, src: x, mask: i32, a: x, b: x", "dst = low32(src) & mask != 0 ? a : b (all 64 bits)", xpure,
       fuses: Fusion("xand32_i32 t, src, mask", "xselect dst, t, a, b"))
    // A select between a value and that value xor a constant, on a bit (a CRC's
    // step, `crc = (crc >> 1) ^ (bit ? poly : 0)` as clang writes it: 2.8% of
    // CoreMark's pairs are the xor before the condition).
    op("xselect_and_xor_i32", "dst: x, src: x, mask: i32, imm: i32, b: x",
       "low32(dst) = low32(src) & mask != 0 ? low32(b) ^ imm : low32(b)", xpure,
       fuses: Fusion("xxor32_i32 u, b, imm", "xselect_and_i32 dst, src, mask, u, b"))
    op("xmul32_add", "dst: x, a: x, b: x, c: x", "low32(dst) = low32(a) * low32(b) + low32(c)", xpure,
       fuses: Fusion("xmul32 t, a, b", "xadd32 dst, t, c"))
    op("xadd32_add", "dst: x, a: x, b: x, c: x", "low32(dst) = low32(a) + low32(b) + low32(c)", xpure,
       fuses: Fusion("xadd32 t, a, b", "xadd32 dst, t, c"))
    // A dot product's step of two terms, `s + a*b + c*d`: the add of the other
    // term to the multiply-add (1.6% of CoreMark's op pairs, its matrix loops).
    op("xmul32_add_add", "dst: x, a: x, b: x, c: x, d: x", "low32(dst) = low32(a) * low32(b) + low32(c) + low32(d)", xpure,
       fuses: Fusion("xmul32_add t, a, b, c", "xadd32 dst, t, d"))
    // A load through a pointer just loaded (`p->info->idx`, the pointer used by
    // nothing else): 3.7% of CoreMark's op pairs.
    for (name, what) in [("xload8_u32", "zext(u8 load)"), ("xload16_u32", "zext(u16 load)")] {
        op(name + "_via", "dst: x, addr: x, at: u32, offset: u32",
           "low32(dst) = \(what) from memory[zext(u32 load from memory[zext(low32(addr)) + at]) + offset]; traps when either is out of bounds", xload,
           fuses: Fusion("xload32 t, addr, at", "\(name) dst, t, offset"))
    }
    // A function's entry and the zeros of its first run of declared locals (a
    // call's first two ops): 12.7% of fib's op pairs.
    op("push_frame_zero", "size: u32@framesize, first: u16@frame, count: u16@slots",
       "push_frame size, then slots first ..< first + count = 0 (as `xzero`)", .mayStop,
       fuses: Fusion("push_frame size", "xzero first, count"))
    // A move and the jump after it (a value carried to a join or a loop's next
    // round, `pc = next; continue`): 3% of switch's op pairs. As `br_xconst32`.
    op("br_xmov", "dst: x, src: x, offset: pcrel", "dst = src (all 64 bits); pc = pc + offset", [.branch, .terminator, .writesXAcc],
       fuses: Fusion("xmov dst, src", "jump offset"))
    // The move before an `xload32_xchg` that sets its pointer (CoreMark's list
    // reversal, `p = next; next = p->next; p->next = prev`: 3.7% of its pairs). It
    // writes two registers, `ptr` first: it has no keeping forms, so the accumulator
    // never keeps `ptr`'s old value past it.
    op("xmov_xload32_xchg", "dst: x, ptr: x, src: x, offset: u32, value: x",
       "ptr = src (all 64 bits), then low32(dst) = u32 load from memory[zext(low32(ptr)) + offset], then that memory = low32(value); traps when out of bounds (ptr already written)", xload,
       alsoWrites: "ptr", fuses: Fusion("xmov ptr, src", "xload32_xchg dst, ptr, offset, value", distinct: [("dst", "ptr")]))
    op("memory_size", "dst: x, memory: u32@memory", "dst = size of memories[memory] in 64 KiB pages", [.memory, .extended])
    op("memory_grow", "dst: x, delta: x, memory: u32@memory",
       "grow memories[memory] by delta pages; dst = old size in pages, or -1 (of the memory's address width) on failure", [.memory, .extended])

    // MARK: Memory, any index and 64-bit addresses (multi-memory, memory64)
    //
    // The forms above serve memory 0 with 32-bit addresses; these any memory:
    // effective address = addr + offset in 64 bits (a sum past 2^64 traps, an i32
    // address arrives zero-extended), checked against memories[memory]'s size.
    let mload: OpFlags = [.memory, .mayStop, .extended, .writesXAcc]
    let mfload: OpFlags = [.memory, .mayStop, .extended, .writesFAcc, .keepsXAcc]
    let mstore: OpFlags = [.memory, .mayStop, .extended, .keepsXAcc]
    for (name, what) in integerLoads {
        op(name + "_m", "dst: x, addr: x, offset: u64, memory: u32@memory", "\(what) from memories[memory][ea]; traps when out of bounds", mload)
    }
    op("fload32_m", "dst: f, addr: x, offset: u64, memory: u32@memory", "low32(dst) = f32 load from memories[memory][ea]; traps when out of bounds", mfload)
    op("fload64_m", "dst: f, addr: x, offset: u64, memory: u32@memory", "dst = f64 load from memories[memory][ea]; traps when out of bounds", mfload)
    for (name, what) in integerStores {
        op(name + "_m", "addr: x, offset: u64, src: x, memory: u32@memory", "memories[memory][ea] = \(what); traps when out of bounds", mstore)
    }
    op("fstore32_m", "addr: x, offset: u64, src: f, memory: u32@memory", "memories[memory][ea] = low32(src) as f32; traps when out of bounds", mstore)
    op("fstore64_m", "addr: x, offset: u64, src: f, memory: u32@memory", "memories[memory][ea] = src as f64; traps when out of bounds", mstore)

    // MARK: SIMD (128-bit vectors; every op extended, and compiled out without the `InterpreterSIMD` trait)
    //
    // A v register is two consecutive slots holding the vector in Wasm's byte
    // order (lane 0 first, each lane little-endian). Ops that are one Wasm
    // instruction are named after it (`i32x4.add` is `i32x4_add`) and their
    // operands follow its signature: dst, then a, b, c, then a lane immediate.
    let vext: OpFlags = [.extended, .simd]
    let vmem: OpFlags = [.memory, .mayStop, .extended, .simd]
    op("v128_const", "dst: v, low: u64, high: u64", "dst = the vector whose bytes 0-7 are `low` and 8-15 `high`, little-endian", [.pure, .extended, .simd])
    op("vselect", "dst: v, cond: x, a: v, b: v", "dst = low32(cond) != 0 ? a : b (select on v128)", [.pure, .extended, .simd])
    op("vglobal_get", "dst: v, index: u32@global", "dst = globals[index], a v128 global (16 bytes)", vext)
    op("vglobal_set", "index: u32@global, src: v", "globals[index] = src, a v128 global (16 bytes)", vext)
    op("i8x16_shuffle", "dst: v, a: v, b: v, low: u64, high: u64",
       "dst lane i = byte (lanes[i]) of a ++ b, where lanes are the 16 bytes of `low` and `high` (each < 32)", [.pure, .extended, .simd])
    let vectorLoads = [("v128_load", "dst = 16 bytes"),
                       ("v128_load8x8_s", "dst = 8 i8 sign-extended to i16x8"), ("v128_load8x8_u", "dst = 8 u8 zero-extended to i16x8"),
                       ("v128_load16x4_s", "dst = 4 i16 sign-extended to i32x4"), ("v128_load16x4_u", "dst = 4 u16 zero-extended to i32x4"),
                       ("v128_load32x2_s", "dst = 2 i32 sign-extended to i64x2"), ("v128_load32x2_u", "dst = 2 u32 zero-extended to i64x2"),
                       ("v128_load8_splat", "dst = one byte in every lane"), ("v128_load16_splat", "dst = one u16 in every lane"),
                       ("v128_load32_splat", "dst = one u32 in every lane"), ("v128_load64_splat", "dst = one u64 in every lane"),
                       ("v128_load32_zero", "dst = one u32 in lane 0, zeros above"), ("v128_load64_zero", "dst = one u64 in lane 0, zeros above")]
    for (name, what) in vectorLoads {
        op(name, "dst: v, addr: x, offset: u32", "\(what) from memory[ea]; traps when out of bounds", vmem)
    }
    op("v128_store", "addr: x, offset: u32, src: v", "memory[ea] = the 16 bytes of src; traps when out of bounds", vmem)
    for bits in ["8", "16", "32", "64"] {
        op("v128_load\(bits)_lane", "dst: v, addr: x, offset: u32, src: v, lane: u8",
           "dst = src with lane `lane` (of \(bits) bits) loaded from memory[ea]; traps when out of bounds", vmem)
    }
    for bits in ["8", "16", "32", "64"] {
        op("v128_store\(bits)_lane", "addr: x, offset: u32, src: v, lane: u8",
           "memory[ea] = lane `lane` (of \(bits) bits) of src; traps when out of bounds", vmem)
    }
    // The same on any memory, with 64-bit addresses (as `xload32_m`).
    for name in vectorLoads.map(\.0) {
        op(name + "_m", "dst: v, addr: x, offset: u64, memory: u32@memory", "as \(name), from memories[memory][addr + offset]; traps when out of bounds", vmem)
    }
    op("v128_store_m", "addr: x, offset: u64, src: v, memory: u32@memory", "as v128_store, to memories[memory][addr + offset]; traps when out of bounds", vmem)
    for bits in ["8", "16", "32", "64"] {
        op("v128_load\(bits)_lane_m", "dst: v, addr: x, offset: u64, src: v, lane: u8, memory: u32@memory",
           "as v128_load\(bits)_lane, from memories[memory][addr + offset]; traps when out of bounds", vmem)
    }
    for bits in ["8", "16", "32", "64"] {
        op("v128_store\(bits)_lane_m", "addr: x, offset: u64, src: v, lane: u8, memory: u32@memory",
           "as v128_store\(bits)_lane, to memories[memory][addr + offset]; traps when out of bounds", vmem)
    }

    simd("v128.not", "v128 -> v128", "dst = ~a")
    simd("v128.and", "v128 v128 -> v128", "dst = a & b")
    simd("v128.andnot", "v128 v128 -> v128", "dst = a & ~b")
    simd("v128.or", "v128 v128 -> v128", "dst = a | b")
    simd("v128.xor", "v128 v128 -> v128", "dst = a ^ b")
    simd("v128.bitselect", "v128 v128 v128 -> v128", "dst = (a & c) | (b & ~c)",
         relaxed: ["i8x16.relaxed_laneselect", "i16x8.relaxed_laneselect", "i32x4.relaxed_laneselect", "i64x2.relaxed_laneselect"])
    simd("v128.any_true", "v128 -> i32", "dst = a != 0 ? 1 : 0")
    simd("i8x16.swizzle", "v128 v128 -> v128", "dst lane i = b[i] < 16 ? a[b[i]] : 0", relaxed: ["i8x16.relaxed_swizzle"])

    let shapes: [(shape: String, lanes: Int, scalar: String)] =
        [("i8x16", 16, "i32"), ("i16x8", 8, "i32"), ("i32x4", 4, "i32"), ("i64x2", 2, "i64"), ("f32x4", 4, "f32"), ("f64x2", 2, "f64")]
    for (shape, lanes, scalar) in shapes {
        simd("\(shape).splat", "\(scalar) -> v128", "every lane of dst = a")
        if shape == "i8x16" || shape == "i16x8" {
            simd("\(shape).extract_lane_s", "v128 -> i32", "dst = sext(a[lane])", lanes: lanes)
            simd("\(shape).extract_lane_u", "v128 -> i32", "dst = zext(a[lane])", lanes: lanes)
        } else {
            simd("\(shape).extract_lane", "v128 -> \(scalar)", "dst = a[lane]", lanes: lanes)
        }
        simd("\(shape).replace_lane", "v128 \(scalar) -> v128", "dst = a with lane `lane` = b", lanes: lanes)
    }

    // Comparisons: each lane of dst is all ones when true, else zero.
    for shape in ["i8x16", "i16x8", "i32x4"] {
        for (cmp, sym) in [("eq", "=="), ("ne", "!="), ("lt_s", "<s"), ("lt_u", "<u"), ("gt_s", ">s"), ("gt_u", ">u"),
                           ("le_s", "<=s"), ("le_u", "<=u"), ("ge_s", ">=s"), ("ge_u", ">=u")] {
            simd("\(shape).\(cmp)", "v128 v128 -> v128", "dst lane = a \(sym) b ? all ones : 0")
        }
    }
    for (cmp, sym) in [("eq", "=="), ("ne", "!="), ("lt_s", "<s"), ("gt_s", ">s"), ("le_s", "<=s"), ("ge_s", ">=s")] {
        simd("i64x2.\(cmp)", "v128 v128 -> v128", "dst lane = a \(sym) b ? all ones : 0")
    }
    for shape in ["f32x4", "f64x2"] {
        for (cmp, sym) in [("eq", "=="), ("ne", "!="), ("lt", "<"), ("gt", ">"), ("le", "<="), ("ge", ">=")] {
            simd("\(shape).\(cmp)", "v128 v128 -> v128", "dst lane = a \(sym) b ? all ones : 0 (false for NaN except ne)")
        }
    }

    // Integer lanes.
    for shape in ["i8x16", "i16x8", "i32x4", "i64x2"] {
        simd("\(shape).abs", "v128 -> v128", "dst lane = |a| (wrapping: the minimum stays)")
        simd("\(shape).neg", "v128 -> v128", "dst lane = -a (wrapping)")
        simd("\(shape).all_true", "v128 -> i32", "dst = every lane of a != 0 ? 1 : 0")
        simd("\(shape).bitmask", "v128 -> i32", "dst bit i = the top bit of lane i of a")
        for (name, sym) in [("shl", "<<"), ("shr_s", ">>s"), ("shr_u", ">>u")] {
            simd("\(shape).\(name)", "v128 i32 -> v128", "dst lane = a \(sym) (b mod lane width)")
        }
        simd("\(shape).add", "v128 v128 -> v128", "dst lane = a + b (wrapping)")
        simd("\(shape).sub", "v128 v128 -> v128", "dst lane = a - b (wrapping)")
        if shape != "i8x16" { simd("\(shape).mul", "v128 v128 -> v128", "dst lane = a * b (wrapping)") }
        if shape != "i64x2" {
            for (name, what) in [("min_s", "signed min"), ("min_u", "unsigned min"), ("max_s", "signed max"), ("max_u", "unsigned max")] {
                simd("\(shape).\(name)", "v128 v128 -> v128", "dst lane = \(what)(a, b)")
            }
        }
        if shape == "i8x16" || shape == "i16x8" {
            for (name, what) in [("add_sat_s", "a + b, saturating signed"), ("add_sat_u", "a + b, saturating unsigned"),
                                 ("sub_sat_s", "a - b, saturating signed"), ("sub_sat_u", "a - b, saturating unsigned"),
                                 ("avgr_u", "(a + b + 1) / 2, unsigned")] {
                simd("\(shape).\(name)", "v128 v128 -> v128", "dst lane = \(what)")
            }
        }
    }
    simd("i8x16.popcnt", "v128 -> v128", "dst lane = number of one bits in a")
    simd("i8x16.narrow_i16x8_s", "v128 v128 -> v128", "dst = the i16 lanes of a then b, each saturated to i8")
    simd("i8x16.narrow_i16x8_u", "v128 v128 -> v128", "dst = the i16 lanes of a then b, each saturated to u8")
    simd("i16x8.narrow_i32x4_s", "v128 v128 -> v128", "dst = the i32 lanes of a then b, each saturated to i16")
    simd("i16x8.narrow_i32x4_u", "v128 v128 -> v128", "dst = the i32 lanes of a then b, each saturated to u16")
    for (wide, narrow) in [("i16x8", "i8x16"), ("i32x4", "i16x8"), ("i64x2", "i32x4")] {
        for half in ["low", "high"] {
            for s in ["s", "u"] {
                let ext = s == "s" ? "sign-extended" : "zero-extended"
                simd("\(wide).extend_\(half)_\(narrow)_\(s)", "v128 -> v128", "dst = the \(half) half of a's \(narrow) lanes, \(ext)")
                simd("\(wide).extmul_\(half)_\(narrow)_\(s)", "v128 v128 -> v128", "dst lane = a * b of the \(half) halves, \(ext) first")
            }
        }
    }
    for (wide, narrow) in [("i16x8", "i8x16"), ("i32x4", "i16x8")] {
        for s in ["s", "u"] {
            simd("\(wide).extadd_pairwise_\(narrow)_\(s)", "v128 -> v128", "dst lane i = a[2i] + a[2i+1], \(s == "s" ? "sign" : "zero")-extended first")
        }
    }
    simd("i16x8.q15mulr_sat_s", "v128 v128 -> v128", "dst lane = (a * b + 0x4000) >> 15, saturated to i16", relaxed: ["i16x8.relaxed_q15mulr_s"])
    simd("i32x4.dot_i16x8_s", "v128 v128 -> v128", "dst lane i = a[2i] * b[2i] + a[2i+1] * b[2i+1], signed i16 products")

    // Float lanes.
    for shape in ["f32x4", "f64x2"] {
        for (name, what) in [("ceil", "ceil(a)"), ("floor", "floor(a)"), ("trunc", "trunc(a)"), ("nearest", "nearest(a), ties to even"),
                             ("abs", "|a|"), ("neg", "-a"), ("sqrt", "sqrt(a)")] {
            simd("\(shape).\(name)", "v128 -> v128", "dst lane = \(what)")
        }
        for (name, what) in [("add", "a + b"), ("sub", "a - b"), ("mul", "a * b"), ("div", "a / b"),
                             ("min", "wasm min(a, b): NaN if either is NaN, -0 < +0"), ("max", "wasm max(a, b): NaN if either is NaN, -0 < +0"),
                             ("pmin", "b < a ? b : a"), ("pmax", "a < b ? b : a")] {
            // Relaxed min and max may answer as min and max do (NaN and -0 handled).
            simd("\(shape).\(name)", "v128 v128 -> v128", "dst lane = \(what)",
                 relaxed: name == "min" || name == "max" ? ["\(shape).relaxed_\(name)"] : [])
        }
    }
    simd("i32x4.trunc_sat_f32x4_s", "v128 -> v128", "dst lane = trunc(a) as i32, saturating; NaN gives 0", relaxed: ["i32x4.relaxed_trunc_f32x4_s"])
    simd("i32x4.trunc_sat_f32x4_u", "v128 -> v128", "dst lane = trunc(a) as u32, saturating; NaN gives 0",
         relaxed: ["i32x4.relaxed_trunc_f32x4_u"])
    simd("i32x4.trunc_sat_f64x2_s_zero", "v128 -> v128", "dst = the two f64 lanes of a as i32, saturating, then two zero lanes",
         relaxed: ["i32x4.relaxed_trunc_f64x2_s_zero"])
    simd("i32x4.trunc_sat_f64x2_u_zero", "v128 -> v128", "dst = the two f64 lanes of a as u32, saturating, then two zero lanes",
         relaxed: ["i32x4.relaxed_trunc_f64x2_u_zero"])
    simd("f32x4.convert_i32x4_s", "v128 -> v128", "dst lane = signed a as f32, rounded to nearest")
    simd("f32x4.convert_i32x4_u", "v128 -> v128", "dst lane = unsigned a as f32, rounded to nearest")
    simd("f64x2.convert_low_i32x4_s", "v128 -> v128", "dst lane = signed a (lanes 0, 1) as f64")
    simd("f64x2.convert_low_i32x4_u", "v128 -> v128", "dst lane = unsigned a (lanes 0, 1) as f64")
    simd("f32x4.demote_f64x2_zero", "v128 -> v128", "dst = the two f64 lanes of a as f32, then two zero lanes")
    simd("f64x2.promote_low_f32x4", "v128 -> v128", "dst = f32 lanes 0 and 1 of a as f64")

    // MARK: Relaxed SIMD (Wasm 3.0), after the Wasm 2.0 ops: the instructions no other op answers for
    // Each relaxed instruction allows several results; Sheave always gives the
    // first, the spec's deterministic profile (docs/design.md, "Relaxed SIMD").
    // The others are aliases declared above with the op whose behaviour they take.
    for shape in ["f32x4", "f64x2"] {
        simd("\(shape).relaxed_madd", "v128 v128 v128 -> v128", "dst lane = a * b + c, the product rounded first (not fused)")
        simd("\(shape).relaxed_nmadd", "v128 v128 v128 -> v128", "dst lane = -(a * b) + c, the product rounded first (not fused)")
    }
    simd("i16x8.relaxed_dot_i8x16_i7x16_s", "v128 v128 -> v128",
         "dst lane i = a[2i] * b[2i] + a[2i+1] * b[2i+1], signed i8 lanes, the sum saturated to i16")
    simd("i32x4.relaxed_dot_i8x16_i7x16_add_s", "v128 v128 v128 -> v128",
         "dst lane i = the two i16 lanes of i16x8.relaxed_dot_i8x16_i7x16_s(a, b) at 2i, 2i+1, added to c[i] (wrapping i32)")

    // MARK: Tail calls (Wasm 3.0), after the Wasm 2.0 ops: theirs keep their numbers
    // A tail call moves its arguments from the callee's window (`frame`, as a
    // call's) to the start of the caller's own frame and enters the callee there,
    // keeping the caller's link: the callee returns to the caller's caller, and
    // the stack stays as deep as it was. `count` slots are moved (the arguments).
    op("return_call", "offset: pcrel, frame: u16@frame, count: u16@slots",
       "move slots frame ..< frame + count to 0 ..< count; pc = pc + offset (the link stays: a call that replaces this one)",
       [.call, .tailCall, .branch, .terminator, .extended])
    op("return_call_indirect", "table: u32@table, type: u32@type, index: x, frame: u16@frame, count: u16@slots",
       "as call_indirect, but replacing this call when the callee runs in this context; a host or foreign callee is called, and the code after the op returns its results",
       [.call, .tailCall, .mayStop, .extended])
    op("return_call_ref", "ref: x, frame: u16@frame, count: u16@slots",
       "as call_ref, but replacing this call when the callee runs in this context; a host or foreign callee is called, and the code after the op returns its results",
       [.call, .tailCall, .mayStop, .extended])
    // A tail call to an imported function (a host's, or another instance's). When
    // this frame was entered from the host (its link returns there), the host makes
    // the call in this one's place, in constant stack space (`RunResult.tailCall`);
    // the two `_indirect`/`_ref` forms above do the same for a foreign callee.
    op("return_call_host", "id: u32@import, frame: u16@frame, slots: u16@slots",
       "as call_host, but replacing this call when this frame was entered from the host; else the code after the op returns its results",
       [.call, .tailCall, .mayStop, .extended])

    // MARK: Exceptions (Wasm 3.0)
    // `throw`: the payload is the `slots` slots at fp + frame (a call's window).
    // The run loop stops; the VM looks for a handler in the function's side table
    // of `try_table` clauses (`ExceptionHandler`), then in each caller's, and
    // resumes at the first that catches; else the call ends with the uncaught
    // exception (`RunResult.exception`). Nothing runs for a handler until a throw.
    op("throw_exception", "tag: u32@tag, frame: u16@frame, slots: u16@slots",
       "throw an exception of tag `tag` whose payload is the `slots` slots at fp + frame", [.mayStop, .terminator, .extended])
    // `throw_ref`: the exception an `exnref` names (a `catch_ref` passed it on)
    // is thrown again, as it was, from here; a null reference traps.
    op("throw_ref", "exn: x", "throw again the exception `exn` refers to; trap if it is null", [.mayStop, .terminator, .extended])

    // MARK: Lazy compilation, after every other op: theirs keep their numbers
    // A function compiled alone, on its first call (`CompileOptions.lazy`), has its
    // own code: a direct call to another function names the callee by index and
    // goes through its reference (`ref_func`, then `call_ref`, in one op). Once the
    // callee is compiled the call enters it directly; until then the host compiles
    // it and makes the call. A call to itself stays `call` (pc-relative).
    op("call_func", "index: u32@function, frame: u16@frame",
       "as ref_func t, index then call_ref t, frame: call function `index` of the current instance through its reference", [.call, .mayStop])
    op("return_call_func", "index: u32@function, frame: u16@frame, count: u16@slots",
       "as ref_func t, index then return_call_ref t, frame, count", [.call, .tailCall, .mayStop, .extended])
    // Until a function is compiled, its reference's code is a stub: this op alone,
    // in a small image of the module's stubs (never in a function's code: the
    // verifier refuses it). A call enters the function's frame and reaches the
    // stub as the function's first op; the run stops, the host compiles the
    // function, gives the reference its code and goes on at its first op.
    op("lazy_entry", "index: u32@function",
       "stop the run for the host to compile function `index`, then go on at its first op in this frame", [.mayStop, .terminator, .extended])

    // MARK: Scaled-index loads, after lazy compilation's ops: theirs keep their numbers
    // An i32 read from an array of i32 at a constant address (a table, a C switch's
    // program in memory) or in a register, indexed by a variable: the index shifted,
    // added to the base, loaded. 11% and 4% of the switch benchmark's op pairs.
    op("xload32_shl_add_i32", "dst: x, index: x, shift: u8, imm: i32, offset: u32",
       "low32(dst) = u32 load from memory[zext((low32(index) << (shift % 32)) + imm) + offset]; traps when out of bounds", xload,
       fuses: Fusion("xshl32_u8 t, index, shift", "xload32_add_i32 dst, t, imm, offset"))
    op("xload32_add_shl", "dst: x, base: x, index: x, shift: u8, offset: u32",
       "low32(dst) = u32 load from memory[zext(low32(base) + (low32(index) << (shift % 32))) + offset]; traps when out of bounds", xload,
       fuses: Fusion("xadd32_shl t, base, index, shift", "xload32 dst, t, offset"))

    // MARK: The accumulators (docs/design.md)
    // Every x result and every f64 result also stays in a host register that the
    // next handler gets as an argument. Where an op reads the register the op just
    // before it wrote, the code image installs a form of its handler that takes
    // that operand from the accumulator: the dependency then skips the
    // store-to-load forwarding through the frame slot. The encoding does not
    // change; the match loop reads slots.
    //
    // What each op writes and keeps is declared with it, above (`xpure`, `xload`,
    // `store`, `test`…). From those facts and the operands: a primary op has an
    // integer-accumulator form for each x operand it reads (the first three), and
    // one that writes the x accumulator has keeping forms (it writes its `dst`
    // slot but leaves the accumulator as it was, so that a loaded pointer the
    // code image wants kept there survives it), unless it writes a second register.
    for i in table.indices where !table[i].flags.contains(.simd) {
        let op = table[i]
        let writesDst = op.operands.first.map { $0.name == "dst" && $0.kind == .x } ?? false
        precondition(!op.flags.contains(.writesXAcc) || writesDst, "\(op.name) writes the integer accumulator but has no x dst")
        precondition(!op.flags.contains(.loadsXAcc) || op.flags.contains(.writesXAcc), "\(op.name) loads into an accumulator it does not write")
        precondition(!(op.flags.contains(.keepsXAcc) && op.flags.contains(.writesXAcc)), "\(op.name) both keeps and writes the integer accumulator")
        precondition(op.alsoWrites.map { name in op.operands.contains { $0.name == name && $0.kind == .x } } ?? true,
                     "\(op.name) writes an x operand it does not have")
        if !op.flags.contains(.extended) {
            table[i].xaccForms = op.operands.enumerated()
                .filter { $0.element.kind == .x && !($0.offset == 0 && writesDst) && $0.element.name != op.alsoWrites }
                .prefix(3)  // the choice looks at three (`AccumulatorChoice.reads`): `xmul32_add_add`'s `d` has none
                .map(\.element.name)
            if op.flags.contains(.writesXAcc) && op.alsoWrites == nil { table[i].flags.insert(.hasKeepingForms) }
        }
        precondition(op.faccForms.allSatisfy { name in op.operands.contains { $0.name == name && $0.kind == .f } },
                     "\(op.name) has a float-accumulator form for an operand that is not an f register")
    }

    return table
}

/// A SIMD op that is exactly one Wasm instruction, its operands derived from
/// the instruction's signature ("v128 i32 -> v128": dst: v, a: v, b: x).
private func simd(_ wasmName: String, _ signature: String, _ doc: String, lanes: Int? = nil, relaxed: [String] = []) {
    let sides = signature.components(separatedBy: "->").map { $0.split(separator: " ").map(String.init) }
    let inputs = sides[0], result = sides[1].first
    func kind(_ type: String) -> String {
        switch type {
        case "v128": return "v"
        case "i32", "i64": return "x"
        case "f32", "f64": return "f"
        default: fatalError("unknown Wasm type \(type)")
        }
    }
    var operands: [String] = []
    if let result { operands.append("dst: \(kind(result))") }
    for (name, type) in zip(["a", "b", "c"], inputs) { operands.append("\(name): \(kind(type))") }
    if lanes != nil { operands.append("lane: u8") }
    let name = wasmName.replacingOccurrences(of: ".", with: "_")
    table.append(Op(name: name, operands: parseOperands(operands.joined(separator: ", ")), doc: doc,
                    flags: [.pure, .extended, .simd],
                    wasm: WasmInstruction(name: wasmParserCase(wasmName), inputs: inputs, result: result, lanes: lanes,
                                          relaxed: relaxed.map(wasmParserCase), isRelaxed: wasmName.contains(".relaxed_"))))
}

/// "i16x8.extend_low_i8x16_s" -> "i16x8ExtendLowI8X16S", WasmParser's case name.
private func wasmParserCase(_ wasmName: String) -> String {
    if wasmName == "i16x8.q15mulr_sat_s" { return "i16x8Q15MulrSatS" }
    if wasmName == "i16x8.relaxed_q15mulr_s" { return "i16x8RelaxedQ15MulrS" }
    let parts = wasmName.split(whereSeparator: { $0 == "." || $0 == "_" }).map(String.init)
    return parts[0] + parts.dropFirst().map { part -> String in
        var out = ""
        var previous: Character = " "
        for (i, c) in part.enumerated() {
            out.append(i == 0 || (c == "x" && previous.isNumber) ? Character(c.uppercased()) : c)
            previous = c
        }
        return out
    }.joined()
}
