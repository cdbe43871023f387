import SheaveBytecode
import WasmParser
import WasmTypes

/// Validates one function body and compiles it to Sheave bytecode in the same pass.
///
/// Registers: the function's locals (parameters first) are slots 0..<base;
/// the operand stack entries follow in order from slot `base` (an entry's
/// canonical slot). A value takes one slot, a v128 two, so a function's
/// layout of parameters and results depends only on its type: caller and
/// callee agree without knowing each other. Entries may stay lazy — a local not yet copied, a constant not yet
/// written — so that `local.get` and constants cost no op: consumers read the
/// local's slot or take the constant as an immediate. A lazy entry is written
/// to its canonical slot when something needs it there (a block boundary, a
/// call's arguments, an op without an immediate form).
struct FunctionCompiler: AnyInstructionVisitor {
    typealias VisitorError = CompileError

    /// Where a stack entry's value is now.
    enum Location: Equatable {
        /// In its canonical slot.
        case slot
        /// Still in a local's slot (a lazy `local.get`).
        case local(UInt16)
        /// A constant not yet written anywhere; the bits of the value.
        case const(UInt64)
    }

    struct Entry {
        /// nil for the unknown type of an unreachable stack's bottom.
        var type: ValueType?
        var location: Location
        /// The canonical slot: just above the entry below (or `base`).
        var slot: Int
    }

    struct Control {
        enum Kind { case function, block, loop, `if`, `else`, tryTable }
        var kind: Kind
        var params: [ValueType]
        var results: [ValueType]
        /// Stack depth below this block's parameters.
        var height: Int
        /// After `br`, `return`, `unreachable`…: the rest of the block is dead and its
        /// operand stack polymorphic (validation accepts any type from its bottom).
        var unreachable = false
        /// The whole block is dead code because it started in dead code: nothing is
        /// emitted, but its operand stack is validated normally.
        var dead = false
        /// Where branches to this block go: its start for a loop, else its end.
        var label: Label
        /// For `if`: where the false branch starts, bound at `else` (or `end`).
        var elseLabel: Label?
        /// For `if` with parameters: late slots holding a copy of them for the false branch.
        var savedParams: [Int] = []
        /// Non-nullable locals known to be set at the block's start; restored at its end.
        var initializedLocals: Set<UInt32> = []

        var labelTypes: [ValueType] { kind == .loop ? params : results }
        /// Whether code at the current point of this block is emitted.
        var emits: Bool { !unreachable && !dead }
    }

    var binaryOffset = 0
    let module: ModuleInfo
    /// The function's index in the function index space.
    let index: Int
    let type: FunctionType
    var e: Encoder
    let locals: [ValueType]
    /// The slot of each local: parameters first, then the declared locals.
    let localSlots: [Int]
    /// First slot of the operand stack: the slots all locals take.
    let base: Int
    var stack: [Entry] = []
    var controls: [Control] = []
    /// Highest stack depth reached, for the frame size.
    var maxDepth = 0
    /// Non-nullable locals set so far in the current block: only those may be read.
    var initializedLocals: Set<UInt32> = []
    /// Extra slots above the operand stack (saved `if` parameters), numbered from 0.
    var lateSlots = 0
    /// Register fields that name late slots, patched once the frame size is known.
    var lateSlotFields: [(field: Int, late: Int)] = []
    /// A register the body's first op would have set to zero: the entry zeroes it
    /// instead, with the declared locals (`finish`).
    var zeroAtEntry: UInt16?
    /// Direct calls to patch: the call op's start and the callee's function index.
    var callSites: [(instructionStart: Int, callee: Int)] = []

    /// A `try_table` clause waiting for its region's end: what it catches, where
    /// its values go, and the code its landing runs (`finish` emits it).
    struct PendingCatch {
        /// The side-table entry: its region is set when the try_table closes, its
        /// landing when the landings are emitted; its `slot` (the first the VM writes)
        /// is the try_table's own stack base.
        var clause: ExceptionHandler
        /// Each value's move from the window to the target label's slots.
        var moves: [(type: ValueType, to: UInt16, from: UInt16)]
        /// The label the landing branches to; nil: the function, which returns.
        var target: Label?
    }
    /// The open `try_table`s, innermost last: where each region starts, and its clauses.
    var openTryTables: [(start: Int, catches: [PendingCatch])] = []
    /// Every clause of the closed regions, innermost region first (the order they
    /// close), with offsets relative to the body, and each one's landing code.
    var catches: [PendingCatch] = []

    /// Constants read inside loops, by bits, in the order they got a slot: each has a
    /// slot of its own, written once at entry, which ops read like any register
    /// (see `pooledRegister`). Placeholder register numbers stand for them until
    /// `finish` knows where the pool goes.
    var pooledConstants: [UInt64] = []
    /// How many loops enclose the current point.
    var loopDepth = 0

    /// While the body is still straight-line code at its top level (no block,
    /// loop, if or branch yet), every op runs, in order, on every call: a declared
    /// local whose first access there is a write needs no zero at entry.
    var entryIsStraightLine = true
    /// Locals read (a `local.get`) in the straight-line entry so far.
    var readAtEntry: Set<UInt32> = []
    /// Declared locals written in the straight-line entry before any read.
    var writtenFirst: Set<UInt32> = []

    /// Notes a write of local `index` for `writtenFirst`.
    mutating func noteWrite(_ index: UInt32) {
        if entryIsStraightLine, Int(index) >= type.parameters.count, !readAtEntry.contains(index) { writtenFirst.insert(index) }
    }
    /// Register numbers from here up are placeholders for pooled constants.
    static let poolPlaceholder = 0xFF00
    static let poolCapacity = 64

    /// Emit `checkpoint` ops (fuel, interruption) at the function's entry and at loop headers.
    let checkpoints: Bool
    /// Compiled alone, on first call (`CompileOptions.lazy`): calls to other functions go by reference.
    let lazy: Bool
    /// The proposals the function may use.
    let features: Features

    /// Refuses an instruction of a disabled feature.
    func require(_ feature: Features, _ what: @autoclosure () -> String) throws(CompileError) {
        guard features.contains(feature) else { throw failure("\(what()) needs a feature that is not enabled") }
    }

    init(module: ModuleInfo, index: Int, code: Code, options: CompileOptions) throws(CompileError) {
        self.module = module
        self.e = Encoder(byteOrder: options.target.byteOrder)
        // Ops are staged, and the fusion rules generated from the op table's
        // declarations replace sequences of them with super-instructions.
        e.fusing = true
        self.checkpoints = options.checkpoints
        self.lazy = options.lazy
        self.features = options.features
        self.index = index
        self.type = module.functionType(index)
        self.locals = type.parameters + code.locals
        let layout = Self.layout(locals)
        self.localSlots = layout.slots
        self.base = layout.count
        for local in locals {
            if let refusal = module.refusal(of: local) { throw CompileError(refusal.kind, refusal.message, function: index) }
        }
        for local in code.locals {
            do { try CompiledModule.requireFeatures(of: local, options.features) } catch {
                throw CompileError(.invalid, error.message, function: index)
            }
        }

        guard base + 2 < Int(UInt16.max) else {
            throw CompileError(.unsupported, "too many locals (\(base) slots)", function: index)
        }
        let end = e.makeLabel()
        controls.append(Control(kind: .function, params: [], results: type.results, height: 0, label: end))
        guard locals.count < Int(UInt16.max) else {
            throw CompileError(.unsupported, "function has \(locals.count) locals: at most 65,534 fit a frame", function: index)
        }
        // Declared locals start at zero; `finish` writes the zeros, for the locals
        // the function may read before it writes them (see `writtenFirst`).
    }

    /// Every instruction without its own `visit…` method lands here: WasmParser's
    /// defaults would silently ignore it, so it is refused instead.
    mutating func visit(_ instruction: Instruction) throws(CompileError) {
        throw failure(.unsupported, "instruction \(instruction) is not supported yet")
    }

    // MARK: Finishing

    /// The function's bytecode (a `push_frame`, then the body) and its call sites,
    /// relative to the function's first byte.
    /// The entry: `push_frame` (`push_frame_zero` when it zeroes locals too), a
    /// `checkpoint` when metering, zeros for the other locals, the pooled constants
    /// written to their slots, then the body.
    mutating func finish() throws(CompileError) -> (code: [UInt8], callSites: [(instructionStart: Int, callee: Int)], handlers: [ExceptionHandler]) {
        guard controls.isEmpty else { throw failure(.malformed, "unexpected end of function: missing end") }
        emitLandings()
        let pool = pooledConstants.count
        let frameSize = base + pool + maxDepth + lateSlots
        guard frameSize < (pool > 0 ? Self.poolPlaceholder : Int(UInt16.max)) else {
            throw CompileError(.unsupported, "function frame too large (\(frameSize) slots)", function: index)
        }
        e.flush()
        for (field, late) in lateSlotFields {
            e.patchRegister(at: field, UInt16(base + maxDepth + late))
        }
        var body: [UInt8]
        do { body = try e.finish() } catch { throw CompileError(.unsupported, "\(error)", function: index) }
        if pool > 0 {
            // The pool goes between the locals and the operand stack, where calls cannot
            // reach it (a callee's frame starts at its first argument, above).
            Self.renumber(&body, byteOrder: e.byteOrder) { r in
                if r >= Self.poolPlaceholder { return base + (r - Self.poolPlaceholder) }
                return r >= base ? r + pool : r
            }
        }
        // Zeros for the declared locals, but those written before they are read:
        // one run of consecutive slots each. The first goes into the `push_frame`
        // (`push_frame_zero`) unless a checkpoint must come right after it.
        var runs: [(first: Int, count: Int)] = []
        for index in type.parameters.count..<locals.count where !writtenFirst.contains(UInt32(index)) {
            let slot = localSlots[index], width = Self.width(locals[index])
            if let current = runs.last, current.first + current.count == slot {
                runs[runs.count - 1].count += width
            } else {
                runs.append((slot, width))
            }
        }
        if let r = zeroAtEntry {
            if let k = runs.firstIndex(where: { $0.first + $0.count == Int(r) }) {
                runs[k].count += 1
            } else if let k = runs.firstIndex(where: { $0.first == Int(r) + 1 }) {
                runs[k] = (Int(r), runs[k].count + 1)
            } else {
                runs.insert((Int(r), 1), at: 0)
            }
        }
        var out = Encoder(byteOrder: e.byteOrder)
        if !checkpoints, let (first, count) = runs.first {
            out.pushFrameZero(UInt32(frameSize), UInt16(first), UInt16(count))
            runs.removeFirst()
        } else {
            out.pushFrame(UInt32(frameSize))
        }
        if checkpoints { out.checkpoint(1) }
        for (first, count) in runs {
            if count == 1 { out.xconst32(XReg(UInt16(first)), 0) } else { out.xzero(UInt16(first), UInt16(count)) }
        }
        for (k, bits) in pooledConstants.enumerated() {
            let slot = XReg(UInt16(base + k))
            if bits <= UInt64(UInt32.max) {
                out.xconst32(slot, Int32(bitPattern: UInt32(bits)))
            } else {
                out.xconst64(slot, Int64(bitPattern: bits))
            }
        }
        let prologue = out.position
        out.append(contentsOf: body)
        // The handlers' offsets move with the body, and their slots with the pool.
        let moved = catches.map { pending in
            let h = pending.clause
            return ExceptionHandler(start: h.start + UInt32(prologue), end: h.end + UInt32(prologue), kind: h.kind, tag: h.tag,
                                    slot: Int(h.slot) >= base ? h.slot + UInt16(pool) : h.slot, payloadSlots: h.payloadSlots,
                                    landing: h.landing + UInt32(prologue))
        }
        return (out.bytes, callSites.map { ($0.instructionStart + prologue, $0.callee) }, moved)
    }

    /// Rewrites every slot number in `code` (registers, and the slots where callee
    /// frames start) through `map`, walking the ops with the generated `slotFieldRows`.
    static func renumber(_ code: inout [UInt8], byteOrder: ByteOrder, _ map: (Int) -> Int) {
        let little = byteOrder == .littleEndian
        code.withUnsafeMutableBufferPointer { code in
            func u16(_ at: Int) -> Int { little ? Int(code[at]) | Int(code[at + 1]) << 8 : Int(code[at]) << 8 | Int(code[at + 1]) }
            var at = 0
            while at < code.count {
                let row = (code[at] == 0xFF ? primaryOpcodeCount + u16(at + 1) : Int(code[at])) * slotFieldStride
                for k in 0..<Int(slotFieldRows[row + 1]) {
                    let field = at + Int(slotFieldRows[row + 2 + k])
                    let value = map(u16(field))
                    let (first, second) = (UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8))
                    if little { code[field] = first; code[field + 1] = second } else { code[field] = second; code[field + 1] = first }
                }
                var size = Int(slotFieldRows[row])
                if size == 0 {
                    // br_table32: opcode, index register, u32 count, count + 1 offsets.
                    let c = at + 3
                    let count = little
                        ? Int(code[c]) | Int(code[c + 1]) << 8 | Int(code[c + 2]) << 16 | Int(code[c + 3]) << 24
                        : Int(code[c + 3]) | Int(code[c + 2]) << 8 | Int(code[c + 1]) << 16 | Int(code[c]) << 24
                    size = 7 + 4 * (count + 1)
                }
                at += size
            }
        }
    }

    // MARK: Errors

    /// A validation error (spec: the module is invalid) at the current instruction.
    func failure(_ message: String) -> CompileError {
        failure(.invalid, message)
    }

    /// Refuses a type the function cannot compile (`ModuleInfo.refusal(of:)`), at the current offset.
    func requireSupported(_ type: ValueType, _ what: String = "value type") throws(CompileError) {
        if let refusal = module.refusal(of: type, what) { throw failure(refusal.kind, refusal.message) }
    }

    func failure(_ kind: CompileError.Kind, _ message: String) -> CompileError {
        CompileError(kind, message, function: index, offset: binaryOffset)
    }

    // MARK: The operand stack

    // The small readers below are inlined: FunctionCompiler is a 440-byte struct, and
    // a call to a non-mutating method from a mutating `visit…` copies all of it (a
    // memcpy and a retain of every array in it) to pass it, at every instruction.

    /// Whether code at this point can run, so the compiler emits it.
    @inline(__always) var isReachable: Bool {
        // The innermost block's fields are read in place here and below: `controls.last`
        // copies the whole block (three arrays and a set to retain and release), and these
        // are read for almost every instruction.
        guard !controls.isEmpty else { return false }
        let innermost = controls.count - 1
        return !controls[innermost].unreachable && !controls[innermost].dead
    }

    /// The stack depth below the innermost block's parameters (0 after the function's end).
    @inline(__always) var frameHeight: Int { controls.isEmpty ? 0 : controls[controls.count - 1].height }
    /// Whether the innermost block's rest is unreachable (its stack's bottom polymorphic).
    @inline(__always) var frameUnreachable: Bool { controls.isEmpty ? false : controls[controls.count - 1].unreachable }

    /// The slot of the entry at stack index `i` when it is in its canonical place.
    @inline(__always) func slot(_ i: Int) -> UInt16 { Self.slot16(stack[i].slot) }

    /// A slot number or slot count as the bytecode's u16. A deep operand stack (a
    /// module can push 70,000 values) may pass 65,535 while compiling; the number
    /// is then cut, never trapped on, and `finish` refuses the function, because
    /// `maxDepth` (updated by every push and call) makes its frame too large.
    static func slot16(_ value: Int) -> UInt16 { UInt16(truncatingIfNeeded: value) }

    /// The canonical slot of stack index `i`, which may be one past the top
    /// (where the next entry goes).
    @inline(__always) func slotAt(_ i: Int) -> Int { i == 0 ? base : stack[i - 1].slot + Self.width(stack[i - 1].type) }

    /// How many slots a value of `type` takes: two for a v128, else one.
    static func width(_ type: ValueType?) -> Int { type == .v128 ? 2 : 1 }

    /// The slot of each of `types` laid out from slot 0, and how many slots they take.
    static func layout(_ types: [ValueType]) -> (slots: [Int], count: Int) {
        var slots: [Int] = []
        var next = 0
        for t in types {
            slots.append(next)
            next += width(t)
        }
        return (slots, next)
    }

    mutating func push(_ type: ValueType?, _ location: Location = .slot) {
        let at = slotAt(stack.count)
        stack.append(Entry(type: type, location: location, slot: at))
        maxDepth = max(maxDepth, at + Self.width(type) - base)
    }

    /// Checks that the top of the stack holds `types` (last on top), allowing
    /// for an unreachable frame's polymorphic bottom.
    /// Inlined for its common case, the top entries of the very types (see `isReachable`).
    @inline(__always) func check(_ types: [ValueType]) throws(CompileError) {
        let height = frameHeight
        if !controls.isEmpty, stack.count - types.count >= height {
            var same = true
            for k in 0..<types.count where stack[stack.count - types.count + k].type != types[k] { same = false }
            if same { return }
        }
        try checkSubtypes(types)
    }

    func checkSubtypes(_ types: [ValueType]) throws(CompileError) {
        guard !controls.isEmpty else { throw failure("operand stack used after the function's end") }
        let height = frameHeight
        for (k, expected) in types.reversed().enumerated() {
            let i = stack.count - 1 - k
            if i < height {
                if frameUnreachable { continue }
                throw failure("type mismatch: expected \(expected) but the stack is empty")
            }
            if let actual = stack[i].type, !module.isSubtype(actual, of: expected) {
                throw failure("type mismatch: expected \(expected), found \(actual)")
            }
        }
    }

    /// Removes `count` entries, never below the current frame's height.
    mutating func drop(_ count: Int) {
        let floor = frameHeight
        stack.removeLast(min(count, max(0, stack.count - floor)))
    }

    /// Pops one value of any type (for `drop`, `select`); nil when it is the unknown bottom.
    mutating func popAny() throws(CompileError) -> ValueType?? {
        guard !controls.isEmpty else { throw failure("operand stack used after the function's end") }
        if stack.count <= frameHeight {
            if frameUnreachable { return .some(nil) }
            throw failure("type mismatch: the stack is empty")
        }
        return .some(stack.removeLast().type)
    }

    /// The register holding the entry at stack index `i`: its canonical slot,
    /// the local it still lives in, or its canonical slot after writing the constant there.
    mutating func register(_ i: Int) -> UInt16 {
        switch stack[i].location {
        case .slot: return slot(i)
        case .local(let l): return l
        case .const(let bits):
            if let pooled = pooledRegister(bits) { return pooled }
            materialize(i)
            return slot(i)
        }
    }

    /// Inside a loop, a constant operand is read from the constant pool: one slot
    /// per distinct constant, written once at entry, instead of an op writing it
    /// before every use. Outside loops writing it where it is used costs no more.
    /// Returns the placeholder register, or nil (not in a loop, or the pool is full).
    mutating func pooledRegister(_ bits: UInt64) -> UInt16? {
        // `finish` moves every slot from `base` up past the pool; the result slots
        // (from 0) must not be among them, so they must lie within the locals.
        guard loopDepth > 0, base >= Self.layout(type.results).count else { return nil }
        // A linear search: a function pools a few constants (at most `poolCapacity`).
        if let k = pooledConstants.firstIndex(of: bits) { return UInt16(Self.poolPlaceholder + k) }
        guard pooledConstants.count < Self.poolCapacity else { return nil }
        pooledConstants.append(bits)
        return UInt16(Self.poolPlaceholder + pooledConstants.count - 1)
    }

    /// Writes a lazy entry into its canonical slot.
    mutating func materialize(_ i: Int) {
        let target = slot(i)
        switch stack[i].location {
        case .slot: return
        case .local(let l): move(stack[i].type, to: target, from: l)
        case .const(let bits): emitConst(bits, type: stack[i].type, into: target)
        }
        stack[i].location = .slot
    }

    /// Emits a move of a value of `type` between slots: `vmov` for a v128, `fmov`
    /// for a float (which the interpreter keeps in float registers), else `xmov`.
    mutating func move(_ type: ValueType?, to target: UInt16, from source: UInt16) {
        switch type {
        case .v128: emit { $0.vmov(VReg(target), VReg(source)) }
        case .f32, .f64: emit { $0.fmov(FReg(target), FReg(source)) }
        default: emit { $0.xmov(XReg(target), XReg(source)) }
        }
    }

    mutating func materializeAll(from start: Int = 0) {
        for i in start..<stack.count { materialize(i) }
    }

    /// Materializes every lazy copy of local `l` (before `l` is written).
    mutating func materializeCopies(of l: UInt16) {
        for i in stack.indices where stack[i].location == .local(l) { materialize(i) }
    }

    // MARK: Emitting

    /// Emits an op that writes no stack slot, or whose destination `local.set` must not retarget.
    mutating func emit(_ body: (inout Encoder) -> Void) {
        body(&e)
    }

    /// Emits an op whose first operand is its destination register, `slot`: a
    /// `local.set` of the value right after it may retarget it (`store(top:into:)`).
    mutating func emitWithDestination(_ slot: UInt16, _ body: (inout Encoder) -> Void) {
        body(&e)
        e.noteDestination(slot)
    }

    mutating func bind(_ label: Label) {
        e.bind(label)
    }

    mutating func emitConst(_ bits: UInt64, type: ValueType?, into target: UInt16) {
        if bits == 0, type == .i32 || type == .i64, Int(target) < base, e.isEmpty, !e.isLabelBound(at: 0), zeroAtEntry == nil, isReachable {
            // The body's first op, which nothing branches to: the entry zeroes the register.
            zeroAtEntry = target
            return
        }
        switch type {
        case .i32: emitWithDestination(target) { $0.xconst32(XReg(target), Int32(bitPattern: UInt32(truncatingIfNeeded: bits))) }
        case .f32: emitWithDestination(target) { $0.fconst32(FReg(target), UInt32(truncatingIfNeeded: bits)) }
        case .f64: emitWithDestination(target) { $0.fconst64(FReg(target), bits) }
        default: emitWithDestination(target) { $0.xconst64(XReg(target), Int64(bitPattern: bits)) }
        }
    }

    /// Emits a register move of one value into `target` from stack index `i`, leaving the entry as it is.
    mutating func copy(_ i: Int, to target: UInt16) {
        switch stack[i].location {
        case .slot:
            let source = slot(i)
            if source != target { move(stack[i].type, to: target, from: source) }
        case .local(let l): move(stack[i].type, to: target, from: l)
        case .const(let bits): emitConst(bits, type: stack[i].type, into: target)
        }
    }

    // MARK: Typed helpers for ops

    /// An op with operands `inputs` and one result: checks types, pops, pushes the result
    /// in the first operand's canonical slot and, when reachable, calls `body` with the
    /// destination and the operands' stack indices.
    mutating func op(_ inputs: [ValueType], _ result: ValueType?, _ body: (inout FunctionCompiler, UInt16, Int) throws(CompileError) -> Void) throws(CompileError) {
        try check(inputs)
        if isReachable {
            let first = stack.count - inputs.count
            let dst = slot(first)
            // The op consumes its operands: their slots are free once it has run.
            e.reusableFrom = Int(dst)
            try body(&self, dst, first)
            stack.removeLast(inputs.count)
            if let result { push(result) }
        } else {
            drop(inputs.count)
            if let result { push(result) }
        }
    }

    /// A two-operand op with a register form and, optionally, a form taking the
    /// second operand as an `Int32` immediate when it is a constant that fits.
    mutating func binary(_ t: ValueType, _ result: ValueType,
                         _ reg: (inout Encoder, UInt16, UInt16, UInt16) -> Void,
                         imm: ((inout Encoder, UInt16, UInt16, Int32) -> Void)? = nil,
                         imm64: ((inout Encoder, UInt16, UInt16, Int64) -> Void)? = nil) throws(CompileError) {
        try op([t, t], result) { (c: inout FunctionCompiler, dst, first) throws(CompileError) in
            if let imm, case .const(let bits) = c.stack[first + 1].location, let value = c.immediate(bits, t) {
                let a = c.register(first)
                c.emitWithDestination(dst) { imm(&$0, dst, a, value) }
            } else if let imm64, case .const(let bits) = c.stack[first + 1].location {
                let a = c.register(first)
                c.emitWithDestination(dst) { imm64(&$0, dst, a, Int64(bitPattern: bits)) }
            } else {
                let a = c.register(first), b = c.register(first + 1)
                c.emitWithDestination(dst) { reg(&$0, dst, a, b) }
            }
        }
    }

    /// The constant as an i32 immediate: any i32, or an i64 that sign-extends from 32 bits.
    func immediate(_ bits: UInt64, _ type: ValueType) -> Int32? {
        switch type {
        case .i32: return Int32(bitPattern: UInt32(truncatingIfNeeded: bits))
        case .i64: return Int32(exactly: Int64(bitPattern: bits))
        default: return nil
        }
    }

    mutating func unary(_ t: ValueType, _ result: ValueType, _ body: (inout Encoder, UInt16, UInt16) -> Void) throws(CompileError) {
        try op([t], result) { (c: inout FunctionCompiler, dst, first) throws(CompileError) in
            let a = c.register(first)
            c.emitWithDestination(dst) { body(&$0, dst, a) }
        }
    }

    /// An op with no operands and one result of `type`, written to the new entry's canonical slot.
    mutating func produce(_ type: ValueType, _ body: @escaping (inout Encoder, UInt16) -> Void) {
        push(type)
        if isReachable {
            let dst = slot(stack.count - 1)
            emitWithDestination(dst) { body(&$0, dst) }
        }
    }

    /// A conversion that changes only the type: the bits in the slot stay as they are.
    mutating func retype(_ from: ValueType, _ to: ValueType) throws(CompileError) {
        try check([from])
        if stack.count > frameHeight {
            stack[stack.count - 1].type = to
        } else {
            drop(1)
            push(to)
        }
    }
}
