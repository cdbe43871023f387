import SheaveBytecode

/// Checks that bytecode from an artifact keeps every rule the interpreter relies
/// on, so that running it can never touch memory outside the VM's stack, the
/// module's own memory, tables, globals and segments. The interpreter reads
/// bytecode unchecked; the compiler's output keeps these rules by construction,
/// and an artifact's is checked here, once, when it is loaded.
///
/// The rules, per function (the bytes from its offset to the next one's):
/// - every op decodes (known opcode, whole operands, valid trap code);
/// - the first op is `push_frame size` (or `push_frame_zero`), and no other op is one; every register
///   lies in the frame (`x`, `f` < size; `v` + 1 < size), a callee's frame
///   starts inside it, and a host call's slots end inside it;
/// - every branch target is the start of an op of the same function, and every
///   direct call's target is the start of a function;
/// - every global, function, table, type, segment and import index is in range,
///   and ops on memory appear only in modules with a memory;
/// - SIMD ops appear only in a build with SIMD handlers (the `InterpreterSIMD` trait);
/// - the last op does not fall through (control cannot run off the function);
/// - a super-instruction whose steps need two registers apart (`OpInfo.distinctOperands`)
///   names two different ones, as the compiler's fusion rules require;
/// - with checkpoints, the op after `push_frame` and the target of every
///   backward branch is a `checkpoint`, so metered code cannot run unmetered;
///   but a landing's code (from a clause's landing to its first terminator)
///   may branch back anywhere: the VM alone enters it, and each landing is
///   metered (`VM.land`), so no branch may go into it and no op fall into it;
/// - every catch clause (`ExceptionHandler`) covers code of its own function,
///   lands at an op of it, names a tag in range and the tag's payload size, and
///   the slots it writes lie in the function's frame.
///
/// What it does not check is what values registers hold: the interpreter needs
/// none of that for safety (memory accesses are bounds-checked on every access,
/// references are registry indices checked on use), so forged code can compute
/// wrong answers, but only inside its own sandbox.
public struct BytecodeVerifier {
    let info: ModuleInfo
    let options: CompileOptions

    /// A verifier for code of `info`, compiled with `options`.
    public init(info: ModuleInfo, options: CompileOptions) {
        self.info = info
        self.options = options
    }

    /// Verifies the code of every defined function, and its catch clauses
    /// (`handlers`, one list per function; nil: none).
    public func verify(code: [UInt8], functionOffsets: [Int], handlers: [[ExceptionHandler]]? = nil) throws(ArtifactError) {
        if let handlers, handlers.count != functionOffsets.count {
            throw ArtifactError(.unverifiable, "\(handlers.count) lists of catch clauses for \(functionOffsets.count) functions")
        }
        var previous = -1
        for offset in functionOffsets {
            guard offset > previous, offset < code.count else {
                throw ArtifactError(.unverifiable, "function offsets are not increasing offsets inside the code")
            }
            previous = offset
        }
        guard functionOffsets.first ?? 0 == 0 else { throw ArtifactError(.unverifiable, "the first function does not start the code") }
        guard !functionOffsets.isEmpty || code.isEmpty else { throw ArtifactError(.unverifiable, "code without functions") }
        let entries = Set(functionOffsets)
        for (k, start) in functionOffsets.enumerated() {
            let end = k + 1 < functionOffsets.count ? functionOffsets[k + 1] : code.count
            do {
                let landings = Set((handlers?[k] ?? []).map { Int($0.landing) - start })
                let (frameSize, starts) = try verifyFunction(code, start: start, end: end, entries: entries, landings: landings)
                for clause in handlers?[k] ?? [] {
                    try verifyHandler(clause, start: start, end: end, frameSize: frameSize, starts: starts)
                }
            } catch let failure as Failure {
                throw ArtifactError(.unverifiable, "bytecode fails verification in function \(info.importedFunctionCount + k) at offset 0x\(String(failure.at, radix: 16)): \(failure.reason)")
            } catch {
                throw ArtifactError(.unverifiable, "bytecode fails verification in function \(info.importedFunctionCount + k): \(error)")
            }
        }
    }

    struct Failure: Error {
        let at: Int
        let reason: String
    }

    private func limit(of space: IndexSpace) -> Int {
        switch space {
        case .global: return info.globals.count
        case .function: return info.functionTypes.count
        case .table: return info.tables.count
        case .memory: return info.memories.count
        case .tag: return info.tags.count
        case .type: return info.types.count
        case .elementSegment: return info.elements.count
        case .dataSegment: return info.data.count
        case .importedFunction: return info.importedFunctionCount
        }
    }

    /// A catch clause of the function at `start..<end` (offsets in the module's
    /// code), whose frame has `frameSize` slots and whose ops start where `starts` says.
    private func verifyHandler(_ h: ExceptionHandler, start: Int, end: Int, frameSize: Int, starts: [Bool]) throws {
        func fail(_ reason: String) -> Failure { Failure(at: Int(h.landing), reason: "catch clause: \(reason)") }
        guard start <= Int(h.start), h.start <= h.end, Int(h.end) <= end else { throw fail("covers code outside its function") }
        let landing = Int(h.landing) - start
        guard landing >= 0, landing < starts.count, starts[landing] else { throw fail("lands where no op of its function starts") }
        var payload = 0
        if h.kind.hasTag {
            guard Int(h.tag) < info.tags.count else { throw fail("tag \(h.tag) out of range (\(info.tags.count))") }
            payload = FunctionCompiler.layout(info.types[Int(info.tags[Int(h.tag)])].parameters).count
        }
        guard Int(h.payloadSlots) == payload else { throw fail("\(h.payloadSlots) slots for a payload of \(payload)") }
        guard Int(h.slot) + h.writtenSlots <= frameSize else {
            throw fail("writes slots \(h.slot)..<\(Int(h.slot) + h.writtenSlots) past the frame of \(frameSize) slots")
        }
    }

    private func verifyFunction(_ code: [UInt8], start: Int, end: Int, entries: Set<Int>,
                                landings: Set<Int>) throws -> (frameSize: Int, starts: [Bool]) {
        let slice = Array(code[start..<end])
        var reader = ByteReader(slice, byteOrder: options.target.byteOrder)
        var starts = [Bool](repeating: false, count: slice.count)
        var branches: [(at: Int, target: Int)] = []
        var frameSize = 0
        var lastFlags: OpFlags = []
        var checkpointAt = Set<Int>()
        var ops: [(at: Int, flags: OpFlags)] = []
        var index = 0
        while !reader.isAtEnd {
            let at = reader.offset
            starts[at] = true
            let byte = try reader.readU8()
            let shapes: [OperandShape]
            let opInfo: OpInfo  // built once per op: its switch makes arrays for a super-instruction
            if byte == 0xFF {
                let extendedByte = try reader.readU16()
                guard let op = ExtendedOpcode(rawValue: extendedByte) else { throw Failure(at: start + at, reason: "invalid extended opcode 0x\(String(extendedByte, radix: 16))") }
                // The VM's stubs for lazily compiled functions hold it; no function's code does.
                guard op != .lazyEntry else { throw Failure(at: start + at, reason: "lazy_entry outside the VM's stubs") }
                shapes = ExtendedOpcode.operandShapes[Int(op.rawValue)]
                opInfo = op.info
            } else {
                guard let op = Opcode(rawValue: byte) else { throw Failure(at: start + at, reason: "invalid opcode 0x\(String(byte, radix: 16))") }
                shapes = Opcode.operandShapes[Int(op.rawValue)]
                opInfo = op.info
                if op == .checkpoint { checkpointAt.insert(at) }
            }
            let (flags, name, distinct) = (opInfo.flags, opInfo.name, opInfo.distinctOperands)
            func fail(_ reason: String) -> Failure { Failure(at: start + at, reason: "\(name): \(reason)") }
            if index == 0 {
                guard shapes.first == .frameSize else { throw fail("a function must start with push_frame") }
            } else if index == 1, options.checkpoints {
                guard checkpointAt.contains(at) else { throw fail("metered code must consume fuel at function entry") }
            }
            if flags.contains(.memory), info.memories.isEmpty { throw fail("memory access in a module without memory") }
            if flags.contains(.simd), !FunctionCompiler.interpreterHasSIMD {
                throw fail("SIMD is not available: this Sheave was built without the InterpreterSIMD trait")
            }
            var calleeFrame = 0
            var registers: [Int: Int] = [:]  // operand position -> register, for `distinct`
            var importIndex: Int?, tagIndex: Int?  // read before a host call's or a throw's slots
            for (position, shape) in shapes.enumerated() {
                switch shape {
                case .x, .f:
                    let r = Int(try reader.readU16())
                    guard r < frameSize else { throw fail("register \(r) outside the frame of \(frameSize) slots") }
                    if !distinct.isEmpty { registers[position] = r }
                case .v:
                    let r = Int(try reader.readU16())
                    guard r + 1 < frameSize else { throw fail("vector register \(r) outside the frame of \(frameSize) slots") }
                case .immediate(let bytes):
                    for _ in 0..<bytes { _ = try reader.readU8() }
                case .pcrel:
                    let target = at + Int(try reader.readPcRel().value)
                    if flags.contains(.call) {
                        guard entries.contains(start + target) else { throw fail("call target 0x\(String(start + target, radix: 16)) is not a function's start") }
                    } else {
                        branches.append((at, target))
                    }
                case .branchTable:
                    for offset in try reader.readBranchTable().targets { branches.append((at, at + Int(offset.value))) }
                case .trapCode:
                    _ = try reader.readTrapCode()
                case .index(let space):
                    let i = Int(try reader.readU32())
                    guard i < limit(of: space) else { throw fail("\(space) \(i) out of range (\(limit(of: space)))") }
                    if space == .importedFunction { importIndex = i }
                    if space == .tag { tagIndex = i }
                case .calleeFrame:
                    calleeFrame = Int(try reader.readU16())
                    guard calleeFrame <= frameSize else { throw fail("callee frame at slot \(calleeFrame) past the frame of \(frameSize) slots") }
                case .hostSlots:
                    let slots = Int(try reader.readU16())
                    guard calleeFrame + slots <= frameSize else { throw fail("host call slots \(calleeFrame)..<\(calleeFrame + slots) past the frame of \(frameSize) slots") }
                    // The host reads the arguments (or a throw's payload) by the callee's
                    // (the tag's) type from these slots: they must hold them all.
                    if let importIndex {
                        let type = info.functionType(importIndex)
                        let needed = max(FunctionCompiler.layout(type.parameters).count, FunctionCompiler.layout(type.results).count)
                        guard slots >= needed else { throw fail("\(slots) slots for an import that takes or returns \(needed)") }
                    }
                    if let tagIndex {
                        let needed = FunctionCompiler.layout(info.types[Int(info.tags[tagIndex])].parameters).count
                        guard slots == needed else { throw fail("\(slots) slots for a payload of \(needed)") }
                    }
                case .frameSize:
                    guard index == 0 else { throw fail("push_frame inside a function") }
                    let size = try reader.readU32()
                    guard size < UInt32(UInt16.max) else { throw fail("frame of \(size) slots is too large") }
                    frameSize = Int(size)
                }
            }
            for (a, b) in distinct where registers[a] == registers[b] {
                throw fail("operands \(a) and \(b) name one register, which the op's steps need apart (the compiler never fuses so)")
            }
            lastFlags = flags
            ops.append((at, flags))
            index += 1
        }
        guard index > 0 else { throw Failure(at: start, reason: "empty function") }
        guard lastFlags.contains(.terminator) else { throw Failure(at: end, reason: "control falls off the end of the function") }
        // Metered: each landing's code, from the landing to its first terminator.
        var landingCode = Set<Int>()
        if options.checkpoints {
            for (k, op) in ops.enumerated() where landings.contains(op.at) {
                guard k > 0, ops[k - 1].flags.contains(.terminator) else {
                    throw Failure(at: start + op.at, reason: "metered code must not fall into a landing")
                }
                for later in ops[k...] {
                    landingCode.insert(later.at)
                    if later.flags.contains(.terminator) { break }
                }
            }
        }
        for branch in branches {
            guard branch.target >= 0, branch.target < slice.count, starts[branch.target] else {
                throw Failure(at: start + branch.at, reason: "branch target 0x\(String(start + branch.target, radix: 16)) is not an op of this function")
            }
            if landingCode.contains(branch.target) {
                throw Failure(at: start + branch.at, reason: "metered code must not branch into a landing's code")
            }
            if options.checkpoints, branch.target <= branch.at, !checkpointAt.contains(branch.target), !landingCode.contains(branch.at) {
                throw Failure(at: start + branch.at, reason: "metered code must consume fuel at the target of a backward branch")
            }
        }
        return (frameSize, starts)
    }
}
