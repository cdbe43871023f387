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
/// It reads the code once, front to back, function after function, from two flat
/// tables generated from the op table (`opRows`, `opShapes`), and marks
/// what it learns in one byte per byte of code (an op starts here, a checkpoint, a
/// terminator, a landing's code); branches are checked against those marks when
/// their function ends, catch clauses too.
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

    /// What the verifier knows about a byte of code.
    private enum Mark {
        static let entry: UInt8 = 1 << 0  // a function starts here
        static let op: UInt8 = 1 << 1  // an op starts here
        static let checkpoint: UInt8 = 1 << 2  // that op is `checkpoint`
        static let terminator: UInt8 = 1 << 3  // that op does not fall through
        static let landingCode: UInt8 = 1 << 4  // that op is in a landing's code (metered code)
        static let landing: UInt8 = 1 << 5  // a landing whose code is marked
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
        var marks = [UInt8](repeating: 0, count: code.count)
        for offset in functionOffsets { marks[offset] = Mark.entry }
        // Slots a host call to each import, and a throw of each tag, must hold.
        let importSlots = (0..<info.importedFunctionCount).map { i in
            let type = info.functionType(i)
            return max(FunctionCompiler.layout(type.parameters).count, FunctionCompiler.layout(type.results).count)
        }
        let tagSlots = info.tags.map { FunctionCompiler.layout(info.types[Int($0)].parameters).count }
        var pass = Pass(code: code, bigEndian: options.target.byteOrder == .bigEndian, info: info, options: options,
                        importSlots: importSlots, tagSlots: tagSlots)
        for (k, start) in functionOffsets.enumerated() {
            let end = k + 1 < functionOffsets.count ? functionOffsets[k + 1] : code.count
            let clauses = handlers?[k] ?? []
            do throws(Failure) {
                let frameSize = try pass.verifyOps(start: start, end: end, marks: &marks)
                try pass.verifyControl(start: start, end: end, clauses: clauses, marks: &marks)
                for clause in clauses {
                    try pass.verifyHandler(clause, start: start, end: end, frameSize: frameSize, marks: marks)
                }
            } catch {
                throw ArtifactError(.unverifiable, "bytecode fails verification in function \(info.importedFunctionCount + k) at offset 0x\(String(error.at, radix: 16)): \(error.reason)")
            }
        }
    }

    struct Failure: Error {
        let at: Int
        let reason: String
    }

    /// One pass over a module's code: the reading position, and what each
    /// function's ops leave to check when it ends (its branches).
    private struct Pass {
        let code: [UInt8]
        let bigEndian: Bool
        let info: ModuleInfo
        let options: CompileOptions
        let importSlots: [Int], tagSlots: [Int]
        /// The branches of the function being read: offsets of the op and of its target.
        var branches: [(at: Int, target: Int)] = []
        /// Where the next byte is read, where the op being read starts, and where its function ends.
        var offset = 0, at = 0, end = 0

        init(code: [UInt8], bigEndian: Bool, info: ModuleInfo, options: CompileOptions, importSlots: [Int], tagSlots: [Int]) {
            self.code = code
            self.bigEndian = bigEndian
            self.info = info
            self.options = options
            self.importSlots = importSlots
            self.tagSlots = tagSlots
        }

        /// The next `size` bytes (at most 8) as an unsigned integer in the target's byte order.
        private mutating func read(_ size: Int) throws(Failure) -> Int {
            guard end - offset >= size else { throw fail("truncated: the op runs past the end of its function") }
            var value = 0
            for i in 0..<size {
                value |= Int(code[offset + i]) << (8 * (bigEndian ? size - 1 - i : i))
            }
            offset += size
            return value
        }

        /// Steps over `size` bytes of the op being read.
        private mutating func skip(_ size: Int) throws(Failure) {
            guard end - offset >= size else { throw fail("truncated: the op runs past the end of its function") }
            offset += size
        }

        /// An i32 operand, sign-extended.
        private mutating func readI32() throws(Failure) -> Int { Int(Int32(truncatingIfNeeded: try read(4))) }

        /// The row of the op at `at` (already read once, so valid), or nil.
        private func row(_ at: Int) -> Int? {
            let byte = code[at]
            guard byte == 0xFF else { return Int(byte) < primaryOpcodeCount ? Int(byte) : nil }
            guard at + 2 < code.count else { return nil }
            let extended = bigEndian ? Int(code[at + 1]) << 8 | Int(code[at + 2]) : Int(code[at + 1]) | Int(code[at + 2]) << 8
            return extended < opRows.count - primaryOpcodeCount ? primaryOpcodeCount + extended : nil
        }

        /// The op's name, for messages.
        private func name(_ at: Int) -> String {
            guard let row = row(at) else { return "op" }
            if row < primaryOpcodeCount { return Opcode(rawValue: UInt8(row))?.info.name ?? "op" }
            return ExtendedOpcode(rawValue: UInt16(row - primaryOpcodeCount))?.info.name ?? "op"
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

        /// Reads and checks the ops of the function at `start..<end`, marking them;
        /// returns its frame size.
        mutating func verifyOps(start: Int, end: Int, marks: inout [UInt8]) throws(Failure) -> Int {
            branches.removeAll(keepingCapacity: true)
            (offset, self.end) = (start, end)
            var frameSize = 0
            var lastFlags: OpFlags = []
            var index = 0
            let hasMemory = !info.memories.isEmpty
            let extendedCount = opRows.count - primaryOpcodeCount
            while offset < end {
                at = offset
                marks[at] |= Mark.op
                let byte = try read(1)
                let row: Int
                if byte == 0xFF {
                    let extended = try read(2)
                    guard extended < extendedCount else { throw Failure(at: at, reason: "invalid extended opcode 0x\(String(extended, radix: 16))") }
                    // The VM's stubs for lazily compiled functions hold it; no function's code does.
                    guard extended != Int(ExtendedOpcode.lazyEntry.rawValue) else { throw Failure(at: at, reason: "lazy_entry outside the VM's stubs") }
                    row = primaryOpcodeCount + extended
                } else {
                    guard byte < primaryOpcodeCount else { throw Failure(at: at, reason: "invalid opcode 0x\(String(byte, radix: 16))") }
                    row = byte
                    if byte == Int(Opcode.checkpoint.rawValue) { marks[at] |= Mark.checkpoint }
                }
                let op = opRows[row]
                let flags = op.flags
                if index == 0 {
                    guard op.shapeCount > 0, opShapes[op.firstShape] == .frameSize else { throw fail("a function must start with push_frame") }
                } else if index == 1, options.checkpoints {
                    guard marks[at] & Mark.checkpoint != 0 else { throw fail("metered code must consume fuel at function entry") }
                }
                if flags.contains(.memory), !hasMemory { throw fail("memory access in a module without memory") }
                if flags.contains(.simd), !FunctionCompiler.interpreterHasSIMD {
                    throw fail("SIMD is not available: this Sheave was built without the InterpreterSIMD trait")
                }
                if flags.contains(.terminator) { marks[at] |= Mark.terminator }
                var calleeFrame = 0
                var apart = (-1, -2)  // the registers at `op.distinct`'s positions
                var needed: Int?, exact = false  // slots a host call's import or a throw's tag needs
                for position in 0..<op.shapeCount {
                    switch opShapes[op.firstShape + position] {
                    case .x, .f:
                        let r = try read(2)
                        guard r < frameSize else { throw fail("register \(r) outside the frame of \(frameSize) slots") }
                        if let pair = op.distinct {
                            if position == pair.0 { apart.0 = r } else if position == pair.1 { apart.1 = r }
                        }
                    case .v:
                        let r = try read(2)
                        guard r + 1 < frameSize else { throw fail("vector register \(r) outside the frame of \(frameSize) slots") }
                    case .immediate(let bytes):
                        try skip(bytes)
                    case .pcrel:
                        let target = at + (try readI32())
                        if flags.contains(.call) {
                            guard target >= 0, target < code.count, marks[target] & Mark.entry != 0 else {
                                throw fail("call target 0x\(String(target, radix: 16)) is not a function's start")
                            }
                        } else {
                            branches.append((at, target))
                        }
                    case .branchTable:
                        let count = try read(4)
                        // Each target takes 4 bytes: refuse a count the function cannot hold.
                        guard count < (end - offset) / 4 else { throw fail("truncated: the op runs past the end of its function") }
                        for _ in 0...count { branches.append((at, at + (try readI32()))) }
                    case .trapCode:
                        let code = try read(1)
                        guard TrapCode(rawValue: UInt8(code)) != nil else { throw fail("invalid trap code \(code)") }
                    case .index(let space):
                        let i = try read(4)
                        guard i < limit(of: space) else { throw fail("\(space) \(i) out of range (\(limit(of: space)))") }
                        if space == .importedFunction { needed = importSlots[i] }
                        if space == .tag { (needed, exact) = (tagSlots[i], true) }
                    case .calleeFrame:
                        calleeFrame = try read(2)
                        guard calleeFrame <= frameSize else { throw fail("callee frame at slot \(calleeFrame) past the frame of \(frameSize) slots") }
                    case .hostSlots:
                        let slots = try read(2)
                        guard calleeFrame + slots <= frameSize else { throw fail("host call slots \(calleeFrame)..<\(calleeFrame + slots) past the frame of \(frameSize) slots") }
                        // The host reads the arguments (or a throw's payload) by the callee's
                        // (the tag's) type from these slots: they must hold them all.
                        if let needed, exact, slots != needed { throw fail("\(slots) slots for a payload of \(needed)") }
                        if let needed, !exact, slots < needed { throw fail("\(slots) slots for an import that takes or returns \(needed)") }
                    case .frameSize:
                        guard index == 0 else { throw fail("push_frame inside a function") }
                        let size = try read(4)
                        guard size < Int(UInt16.max) else { throw fail("frame of \(size) slots is too large") }
                        frameSize = size
                    }
                }
                if apart.0 == apart.1, let pair = op.distinct {
                    throw fail("operands \(pair.0) and \(pair.1) name one register, which the op's steps need apart (the compiler never fuses so)")
                }
                lastFlags = flags
                index += 1
            }
            guard lastFlags.contains(.terminator) else { throw Failure(at: end, reason: "control falls off the end of the function") }
            return frameSize
        }

        /// A failure of the op being read.
        private func fail(_ reason: String) -> Failure { Failure(at: at, reason: "\(name(at)): \(reason)") }

        /// Checks the branches of the function at `start..<end` (read by `verifyOps`)
        /// and, for metered code, marks its landings' code: from a clause's landing
        /// to its first terminator.
        mutating func verifyControl(start: Int, end: Int, clauses: [ExceptionHandler], marks: inout [UInt8]) throws(Failure) {
            if options.checkpoints {
                for clause in clauses {
                    let landing = Int(clause.landing)
                    // A landing where no op starts is the clause's own failure (`verifyHandler`).
                    guard landing >= start, landing < end, marks[landing] & Mark.op != 0, marks[landing] & Mark.landing == 0 else { continue }
                    var before = landing - 1
                    while before >= start, marks[before] & Mark.op == 0 { before -= 1 }
                    guard before >= start, marks[before] & Mark.terminator != 0 else {
                        throw Failure(at: landing, reason: "metered code must not fall into a landing")
                    }
                    marks[landing] |= Mark.landing
                    for later in landing..<end where marks[later] & Mark.op != 0 {
                        marks[later] |= Mark.landingCode
                        if marks[later] & Mark.terminator != 0 { break }
                    }
                }
            }
            for (at, target) in branches {
                guard target >= start, target < end, marks[target] & Mark.op != 0 else {
                    throw Failure(at: at, reason: "branch target 0x\(String(target, radix: 16)) is not an op of this function")
                }
                if marks[target] & Mark.landingCode != 0 {
                    throw Failure(at: at, reason: "metered code must not branch into a landing's code")
                }
                if options.checkpoints, target <= at, marks[target] & Mark.checkpoint == 0, marks[at] & Mark.landingCode == 0 {
                    throw Failure(at: at, reason: "metered code must consume fuel at the target of a backward branch")
                }
            }
        }

        /// A catch clause of the function at `start..<end` (offsets in the module's
        /// code), whose frame has `frameSize` slots.
        func verifyHandler(_ h: ExceptionHandler, start: Int, end: Int, frameSize: Int, marks: [UInt8]) throws(Failure) {
            func fail(_ reason: String) -> Failure { Failure(at: Int(h.landing), reason: "catch clause: \(reason)") }
            guard start <= Int(h.start), h.start <= h.end, Int(h.end) <= end else { throw fail("covers code outside its function") }
            let landing = Int(h.landing)
            guard landing >= start, landing < end, marks[landing] & Mark.op != 0 else { throw fail("lands where no op of its function starts") }
            var payload = 0
            if h.kind.hasTag {
                guard Int(h.tag) < info.tags.count else { throw fail("tag \(h.tag) out of range (\(info.tags.count))") }
                payload = tagSlots[Int(h.tag)]
            }
            guard Int(h.payloadSlots) == payload else { throw fail("\(h.payloadSlots) slots for a payload of \(payload)") }
            guard Int(h.slot) + h.writtenSlots <= frameSize else {
                throw fail("writes slots \(h.slot)..<\(Int(h.slot) + h.writtenSlots) past the frame of \(frameSize) slots")
            }
        }
    }
}
