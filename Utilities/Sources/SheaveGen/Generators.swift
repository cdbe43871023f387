// Writers for each generated file. Per-op knowledge comes from the table's
// operand kinds and flags only, never from op names.

import Foundation

// MARK: Naming and types

/// `br_if_xeq32_i32` -> `brIfXeq32I32`
func camel(_ name: String) -> String {
    let parts = name.split(separator: "_").map(String.init)
    return parts[0] + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
}

extension Op {
    var swiftName: String { camel(name) }
    var isExtended: Bool { flags.contains(.extended) }
    var opcode: Int {
        isExtended ? extended.firstIndex { $0.name == name }! : primary.firstIndex { $0.name == name }!
    }
    /// Bytes before the first operand: the opcode, or 0xFF and the u16 extended opcode.
    var prefixSize: Int { isExtended ? 3 : 1 }
    /// Byte offset of each operand from the start of the instruction.
    var operandOffsets: [Int] {
        var offsets: [Int] = []
        var at = prefixSize
        for operand in operands {
            offsets.append(at)
            at += operand.kind.size ?? 0
        }
        return offsets
    }
    /// The encoded size, when fixed.
    var fixedSize: Int? {
        operands.contains { $0.kind.size == nil } ? nil : prefixSize + operands.reduce(0) { $0 + $1.kind.size! }
    }
    var hasPcRel: Bool { operands.contains { $0.kind == .pcrel || $0.kind == .branchTable } }
    var docLines: String { "/// `\(name)`: \(doc)" }
    var isSIMD: Bool { flags.contains(.simd) }
}

/// The compilation condition under which the interpreter has SIMD handlers: the
/// package trait `InterpreterSIMD` (on by default; Package.swift).
let simdCondition = "InterpreterSIMD"

/// `text` for a SIMD op, inside `#if InterpreterSIMD`; with `otherwise` in the `#else`.
func guarded(_ op: Op, _ text: String, otherwise: String = "") -> String {
    guard op.isSIMD else { return text }
    return "#if \(simdCondition)\n" + text + (otherwise.isEmpty ? "" : "#else\n" + otherwise) + "#endif\n"
}

/// The Swift type of an operand in the decoded (visitor) view.
func visitorType(_ kind: OperandKind) -> String {
    switch kind {
    case .x: return "XReg"
    case .f: return "FReg"
    case .v: return "VReg"
    case .u8: return "UInt8"
    case .u16: return "UInt16"
    case .u32, .f32: return "UInt32"
    case .i32: return "Int32"
    case .u64, .f64: return "UInt64"
    case .i64: return "Int64"
    case .pcrel: return "PcRelOffset"
    case .trapCode: return "TrapCode"
    case .branchTable: return "BranchTable"
    }
}

/// The Swift type of an operand as the interpreter's handlers receive it.
func handlerType(_ kind: OperandKind) -> String {
    switch kind {
    case .pcrel: return "BranchTarget"
    case .branchTable: return "BranchTableRef"
    default: return visitorType(kind)
    }
}

/// Name of the checked reader method for a kind.
func readerMethod(_ kind: OperandKind) -> String {
    switch kind {
    case .x: return "readXReg"
    case .f: return "readFReg"
    case .v: return "readVReg"
    case .u8: return "readU8"
    case .u16: return "readU16"
    case .u32, .f32: return "readU32"
    case .i32: return "readI32"
    case .u64, .f64: return "readU64"
    case .i64: return "readI64"
    case .pcrel: return "readPcRel"
    case .trapCode: return "readTrapCode"
    case .branchTable: return "readBranchTable"
    }
}

func params(_ op: Op, _ type: (OperandKind) -> String) -> String {
    op.operands.map { "_ \($0.name): \(type($0.kind))" }.joined(separator: ", ")
}

func args(_ op: Op) -> String { op.operands.map(\.name).joined(separator: ", ") }

func flagList(_ flags: OpFlags) -> String {
    var names: [String] = []
    if flags.contains(.mayStop) { names.append(".mayStop") }
    if flags.contains(.memory) { names.append(".memory") }
    if flags.contains(.branch) { names.append(".branch") }
    if flags.contains(.terminator) { names.append(".terminator") }
    if flags.contains(.call) { names.append(".call") }
    if flags.contains(.extended) { names.append(".extended") }
    if flags.contains(.pure) { names.append(".pure") }
    if flags.contains(.simd) { names.append(".simd") }
    return "[" + names.joined(separator: ", ") + "]"
}

// MARK: SheaveBytecode

func genOpcodes() -> String {
    var s = """
        /// The primary opcodes: one byte each. `0xFF` introduces an extended op.
        public enum Opcode: UInt8, CaseIterable, Sendable {

        """
    for op in primary { s += "    \(op.docLines)\n    case \(op.swiftName) = \(op.opcode)\n" }
    s += """
        }

        /// The extended opcodes: `0xFF` followed by a little-endian `UInt16`.
        public enum ExtendedOpcode: UInt16, CaseIterable, Sendable {

        """
    for op in extended { s += "    \(op.docLines)\n    case \(op.swiftName) = \(op.opcode)\n" }
    s += "}\n\n"
    s += """
        /// Static facts about one op, from the op table.
        public struct OpInfo: Sendable {
            /// The mnemonic, as the disassembler prints it.
            public let name: String
            /// The pseudo-code description from the op table.
            public let doc: String
            /// Typed facts about the op: may it stop the run loop, touch memory, branch…
            public let flags: OpFlags
            /// The encoded size in bytes, or nil when it varies (`br_table32`).
            public let size: Int?
        }

        extension Opcode {
            /// Static facts about this op.
            public var info: OpInfo {
                switch self {

        """
    for op in primary {
        s += "        case .\(op.swiftName): return OpInfo(name: \"\(op.name)\", doc: \(quoted(op.doc)), flags: \(flagList(op.flags)), size: \(op.fixedSize.map(String.init) ?? "nil"))\n"
    }
    s += """
                }
            }
        }

        extension ExtendedOpcode {
            /// Static facts about this op.
            public var info: OpInfo {
                switch self {

        """
    for op in extended {
        s += "        case .\(op.swiftName): return OpInfo(name: \"\(op.name)\", doc: \(quoted(op.doc)), flags: \(flagList(op.flags)), size: \(op.fixedSize.map(String.init) ?? "nil"))\n"
    }
    s += """
                }
            }
        }

        """
    s += instructionSetFingerprint()
    s += slotFieldTable()
    s += branchFieldTable()
    s += shapeTable(primary, type: "Opcode")
    s += shapeTable(extended, type: "ExtendedOpcode")
    return s
}

/// The `OperandShape` an operand has, for the artifact verifier.
func shape(_ operand: Operand) -> String {
    switch operand.meaning {
    case .value: break
    case .global: return ".index(.global)"
    case .function: return ".index(.function)"
    case .table: return ".index(.table)"
    case .type: return ".index(.type)"
    case .elem: return ".index(.elementSegment)"
    case .data: return ".index(.dataSegment)"
    case .import: return ".index(.importedFunction)"
    case .frame: return ".calleeFrame"
    case .slots: return ".hostSlots"
    case .framesize: return ".frameSize"
    }
    switch operand.kind {
    case .x: return ".x"
    case .f: return ".f"
    case .v: return ".v"
    case .pcrel: return ".pcrel"
    case .trapCode: return ".trapCode"
    case .branchTable: return ".branchTable"
    default: return ".immediate(bytes: \(operand.kind.size!))"
    }
}

/// FNV-1a over every op's name, opcode and operand kinds and meanings, in order:
/// artifacts record it, so bytecode from another instruction set is refused.
func instructionSetFingerprint() -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for op in ops {
        let text = "\(op.name)=\(op.isExtended ? "ff" : "")\(op.opcode):" + op.operands.map { "\($0.kind)@\($0.meaning.rawValue)" }.joined(separator: ",") + ";"
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    }
    return """
        /// A fingerprint of the instruction set (every op's name, opcode and operands):
        /// an artifact records it, and one from another instruction set is refused.
        public let instructionSetFingerprint: UInt64 = 0x\(String(hash, radix: 16))


        """
}

/// The table `CodeImage` lays out the interpreter's code with: per op, its size
/// (without the targets for `br_table32`), where its branch offset is, and where
/// `br_table32`'s target count is.
func branchFieldTable() -> String {
    var rows: [String] = []
    for op in primary + extended {
        var size = op.prefixSize, branch = 0, table = 0
        for (operand, offset) in zip(op.operands, op.operandOffsets) {
            switch operand.kind {
            case .pcrel:
                precondition(branch == 0, "\(op.name) has two branch offsets")
                branch = offset
            case .branchTable: table = offset
            default: break
            }
            size = offset + (operand.kind.size ?? 4)  // a branch table's count; its targets follow
        }
        rows.append("    \(size), \(branch), \(table),  // \(op.name)")
    }
    return """
        /// Where every op's branch offsets are, for laying out code with a header in
        /// front of each op (the interpreter's code image): three bytes per op, primary
        /// opcodes then extended ones, holding the op's size (for `br_table32`, up to
        /// and including its target count), the byte offset of its `pcrel` operand (0:
        /// none; no op has two) and of `br_table32`'s target count (0 for other ops).
        public let branchFieldRows: [UInt8] = [
        \(rows.joined(separator: "\n"))
        ]


        """
}

/// Where every op's slot fields are, flat, for renumbering slots in emitted code:
/// a row of `slotFieldStride` bytes per op (primary opcodes, then extended): its
/// size (0 when it varies: `br_table32`), how many slot fields it has (registers
/// and callee frames), and their byte offsets from the op's start.
func slotFieldTable() -> String {
    let stride = 8
    var rows: [String] = []
    for op in primary + extended {
        var offsets: [Int] = []
        for (operand, offset) in zip(op.operands, op.operandOffsets) {
            switch operand.kind {
            case .x, .f, .v: offsets.append(offset)
            case .u16 where operand.meaning == .frame: offsets.append(offset)
            default: break
            }
        }
        precondition(offsets.count <= stride - 2, "\(op.name) has more slot fields than a row holds")
        let row = [op.fixedSize ?? 0, offsets.count] + offsets + Array(repeating: 0, count: stride - 2 - offsets.count)
        rows.append("    " + row.map(String.init).joined(separator: ", ") + ",  // \(op.name)")
    }
    return """
        /// Bytes per row of `slotFieldRows`.
        public let slotFieldStride = \(stride)

        /// How many primary opcodes there are (numbered densely from 0): the first
        /// extended op's row in `slotFieldRows`.
        public let primaryOpcodeCount = \(primary.count)

        /// Where every op's slot fields are, for renumbering the slots of emitted code: a
        /// row of `slotFieldStride` bytes per op, primary opcodes then extended ones, each
        /// holding the op's size (0 when it varies: `br_table32`), its number of slot
        /// fields (registers and callee frames), and their byte offsets from its start.
        public let slotFieldRows: [UInt8] = [
        \(rows.joined(separator: "\n"))
        ]


        """
}

/// A static table of every op's operand shapes, indexed by opcode.
func shapeTable(_ ops: [Op], type: String) -> String {
    var s = "extension \(type) {\n"
    s += "    /// The operand shapes of every op, indexed by opcode: what the artifact verifier checks.\n"
    s += "    public static let operandShapes: [[OperandShape]] = [\n"
    for op in ops {
        s += "        [" + op.operands.map(shape).joined(separator: ", ") + "],  // \(op.name)\n"
    }
    s += "    ]\n}\n\n"
    return s
}

func quoted(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

func genVisitor() -> String {
    var s = """
        /// One method per op, receiving its decoded operands. There are no
        /// default implementations: a declared op that a visitor does not
        /// handle is a compile error.
        public protocol OpVisitor {
            associatedtype Output

        """
    for op in ops {
        s += "    \(op.docLines)\n    mutating func \(op.swiftName)(\(params(op, visitorType))) -> Output\n"
    }
    s += "}\n"
    return s
}

func genEncoder() -> String {
    var s = "extension Encoder: OpVisitor {\n    /// Encoding an op produces nothing but bytes.\n    public typealias Output = Void\n\n"
    for op in ops {
        s += "    \(op.docLines)\n"
        s += "    public mutating func \(op.swiftName)(\(params(op, visitorType))) {\n"
        s += "        beginInstruction()\n"
        s += op.isExtended ? "        emitExtended(\(op.opcode))\n" : "        emitOpcode(\(op.opcode))\n"
        for operand in op.operands { s += "        emit(\(operand.name))\n" }
        s += "    }\n\n"
    }
    s += "}\n\n"
    s += "// Forms that take labels for branch targets, resolved when the label is bound.\nextension Encoder {\n"
    for op in ops where op.hasPcRel {
        let labelParams = op.operands.map { operand -> String in
            switch operand.kind {
            case .pcrel: return "_ \(operand.name): Label"
            case .branchTable: return "_ \(operand.name): [Label]"
            default: return "_ \(operand.name): \(visitorType(operand.kind))"
            }
        }.joined(separator: ", ")
        s += "    \(op.docLines)\n"
        s += "    public mutating func \(op.swiftName)(\(labelParams)) {\n"
        s += "        beginInstruction()\n"
        s += op.isExtended ? "        emitExtended(\(op.opcode))\n" : "        emitOpcode(\(op.opcode))\n"
        for operand in op.operands {
            switch operand.kind {
            case .pcrel: s += "        emitLabel(\(operand.name))\n"
            case .branchTable: s += "        emitLabelTable(\(operand.name))\n"
            default: s += "        emit(\(operand.name))\n"
            }
        }
        s += "    }\n\n"
    }
    s += "}\n"
    return s
}

func genDecoder() -> String {
    func decodeCase(_ op: Op, indent: String) -> String {
        var s = ""
        for operand in op.operands {
            s += "\(indent)let \(operand.name) = try reader.\(readerMethod(operand.kind))()\n"
        }
        s += "\(indent)return visitor.\(op.swiftName)(\(args(op)))\n"
        return s
    }
    var s = """
        extension Decoder {
            /// Decodes the op at the reader's position and passes its operands to `visitor`.
            /// Throws on a truncated instruction or an unknown opcode; never traps.
            public mutating func decodeOne<V: OpVisitor>(_ visitor: inout V) throws(DecodeError) -> V.Output {
                let at = reader.offset
                let byte = try reader.readU8()
                switch byte {

        """
    for op in primary {
        s += "        case \(op.opcode): // \(op.name)\n" + decodeCase(op, indent: "            ")
    }
    s += """
                case 0xFF:
                    let ext = try reader.readU16()
                    switch ext {

        """
    for op in extended {
        s += "            case \(op.opcode): // \(op.name)\n" + decodeCase(op, indent: "                ")
    }
    s += """
                    default:
                        throw .invalidExtendedOpcode(ext, at: at)
                    }
                default:
                    throw .invalidOpcode(byte, at: at)
                }
            }
        }

        """
    return s
}

func genDisassembler() -> String {
    var s = "extension Disassembler: OpVisitor {\n    /// Each op disassembles to one line of text.\n    public typealias Output = String\n\n"
    for op in ops {
        s += "    /// The text of `\(op.name)`.\n"
        s += "    public mutating func \(op.swiftName)(\(params(op, visitorType))) -> String {\n"
        if op.operands.isEmpty {
            s += "        \"\(op.name)\"\n"
        } else {
            let parts = op.operands.map { operand -> String in
                switch operand.kind {
                case .f32: return "\\(f32(\(operand.name)))"
                case .f64: return "\\(f64(\(operand.name)))"
                case .pcrel: return "\\(target(\(operand.name)))"
                case .branchTable: return "\\(targetList(\(operand.name)))"
                default: return "\\(\(operand.name))"
                }
            }
            s += "        \"\(op.name) \(parts.joined(separator: ", "))\"\n"
        }
        s += "    }\n\n"
    }
    s += "}\n"
    return s
}

// MARK: SheaveInterpreter

/// Bytes in front of every op in the interpreter's code image (`CodeImage`):
/// the address of the op's tail handler, so that dispatch is one load from the
/// code (direct threading). The op's bytes follow unchanged, so every operand
/// sits this much further from the op's start than in the bytecode.
let threadedHeader = 8

/// The expression that reads an operand from `pc` in an interpreter skeleton.
func uncheckedRead(_ operand: Operand, at offset: Int) -> String {
    func load(_ type: String) -> String { "pc.loadUnaligned(fromByteOffset: \(offset), as: \(type).self)" }
    switch operand.kind {
    case .x: return "XReg(\(load("UInt16")), inAccumulator: xaccField == \(offset))"
    case .f: return "FReg(\(load("UInt16")), inAccumulator: faccField == \(offset))"
    case .v: return "VReg(\(load("UInt16")))"
    case .u8: return load("UInt8")
    case .u16: return load("UInt16")
    case .u32, .f32: return load("UInt32")
    case .i32: return load("Int32")
    case .u64, .f64: return load("UInt64")
    case .i64: return load("Int64")
    case .pcrel: return "BranchTarget(start: pc, field: \(offset))"
    case .trapCode: return "TrapCode(rawValue: \(load("UInt8"))) ?? .invalidOpcode"
    case .branchTable: return "BranchTableRef(start: pc, count: \(load("UInt32")), offsets: pc.advanced(by: \(offset + 4)))"
    }
}

func genHandlers() -> String {
    var s = """
        import SheaveBytecode

        /// The semantics of every op, implemented by `Executor` in Handlers/.
        /// No default implementations: an op without a handler does not compile.
        /// Branch targets arrive unread (`BranchTarget`); `pc` has already moved
        /// past the instruction when a handler runs.
        protocol OpHandlers {

        """
    for op in ops {
        let throwsClause = op.flags.contains(.mayStop) ? " throws(Stop)" : ""
        s += guarded(op, "    \(op.docLines)\n    mutating func \(op.swiftName)(\(params(op, handlerType)))\(throwsClause)\n")
    }
    s += "}\n\nextension Executor: OpHandlers {}\n\n"
    s += """
        // Skeletons: each decodes its op's operands straight from the bytecode
        // (trusted, so unchecked), moves `pc` past the op and calls the handler.
        extension Executor {

        """
    for op in ops {
        let mayStop = op.flags.contains(.mayStop)
        var t = "    @inline(__always)\n    mutating func op_\(op.swiftName)()\(mayStop ? " throws(Stop)" : "") {\n"
        if mayStop { t += "        start = pc\n" }
        for (operand, offset) in zip(op.operands, op.operandOffsets) {
            t += "        let \(operand.name) = \(uncheckedRead(operand, at: threadedHeader + offset))\n"
        }
        if let size = op.fixedSize { t += "        pc = pc.advanced(by: \(threadedHeader + size))\n" }
        t += "        \(mayStop ? "try " : "")\(op.swiftName)(\(args(op)))\n"
        t += "    }\n"
        s += guarded(op, t) + "\n"
    }
    s += "}\n"
    return s
}

func genMatchLoop() -> String {
    func call(_ op: Op) -> String { (op.flags.contains(.mayStop) ? "try " : "") + "op_\(op.swiftName)()" }
    var s = """
        import SheaveBytecode

        extension Executor {
            /// The match loop: one `switch` on the opcode, handlers inlined into it.
            /// Returns only by throwing: a trap, a return to the host, or a host call.
            /// `Hook` sees each op before it runs; the loop is specialized for each
            /// hook, so `NoDispatchHook` (an empty function) costs nothing.
            mutating func runMatchLoop<Hook: DispatchHook>(_: Hook.Type) throws(Stop) -> Never {
                while true {
                    Hook.willDispatch(&self)
                    matchLoopReadsSlots()
                    switch pc.load(fromByteOffset: \(threadedHeader), as: UInt8.self) {

        """
    for op in primary {
        s += guarded(op, "            case \(op.opcode): \(call(op)) // \(op.name)\n",
                     otherwise: "            case \(op.opcode): start = pc; throw .trap(.disabledOpcode) // \(op.name)\n")
    }
    s += """
                    case 0xFF:
                        switch pc.loadUnaligned(fromByteOffset: \(threadedHeader + 1), as: UInt16.self) {

        """
    for op in extended {
        s += guarded(op, "                case \(op.opcode): \(call(op)) // \(op.name)\n",
                     otherwise: "                case \(op.opcode): start = pc; throw .trap(.disabledOpcode) // \(op.name)\n")
    }
    s += """
                        default:
                            start = pc
                            throw .trap(.invalidOpcode)
                        }
                    default:
                        start = pc
                        throw .trap(.invalidOpcode)
                    }
                }
            }
        }

        """
    return s
}

func genTailLoop() -> String {
    var s = """
        import SheaveBytecode

        // The tail loop: one function per op; each ends by calling the next op's
        // handler, whose address is in front of that op in the code image
        // (`CodeImage`), a call that the optimizer turns into a jump.
        // All handlers have the type `TailHandler`.

        /// Bytes in front of every op in a code image: the address of its tail handler.
        let threadedHeader = \(threadedHeader)


        """
    func body(_ op: Op, slot: (acc: String, field: Int)? = nil, keep: Bool = false) -> String {
        var b = "    var ex = Executor(pc: pc, fp: fp, links: links, memory: memory, vm: vm.assumingMemoryBound(to: VMState.self), xacc: xacc, facc: facc)\n"
        if let slot {
            b += "    ex.\(slot.acc)Slot = Int(pc.loadUnaligned(fromByteOffset: \(slot.field), as: UInt16.self))\n"
            b += "    ex.\(slot.acc)Field = \(slot.field)\n"
        }
        if keep { b += "    ex.keepsXAcc = true\n" }
        if op.flags.contains(.mayStop) {
            b += "    do { try ex.op_\(op.swiftName)() } catch { return }  // `stop` recorded why and where\n"
        } else {
            b += "    ex.op_\(op.swiftName)()\n"
        }
        b += "    return ex.dispatchNext()\n"
        return b
    }
    let signature = "(_ pc: UnsafeRawPointer, _ fp: UnsafeMutableRawPointer, _ links: UnsafeMutableRawPointer, _ memory: UnsafeMutableRawPointer, _ vm: UnsafeMutableRawPointer, _ xacc: UInt64, _ facc: Double)"
    for op in ops {
        s += guarded(op, "@inline(__always)\nprivate func tail_\(op.swiftName)\(signature) {\n" + body(op) + "}\n") + "\n"
    }
    // Accumulator forms: the same handler, told which slot an accumulator holds
    // (and, for keeping forms, not to write the integer accumulator).
    for op in ops {
        for (acc, names) in [("xacc", op.xaccForms), ("facc", op.faccForms)] {
            for name in names {
                let offset = zip(op.operands, op.operandOffsets).first { $0.0.name == name }!.1
                let slot = threadedHeader + offset
                s += "@inline(__always)\nprivate func tail_\(op.swiftName)_\(acc)_\(name)\(signature) {\n"
                s += body(op, slot: (acc, slot)) + "}\n\n"
                if acc == "xacc" && op.flags.contains(.hasKeepingForms) {
                    s += "@inline(__always)\nprivate func tail_\(op.swiftName)_xacc_\(name)_keep\(signature) {\n"
                    s += body(op, slot: (acc, slot), keep: true) + "}\n\n"
                }
            }
        }
        if op.flags.contains(.hasKeepingForms) {
            s += "@inline(__always)\nprivate func tail_\(op.swiftName)_keep\(signature) {\n" + body(op, keep: true) + "}\n\n"
        }
    }
    // Thin function references are stored through pointers only: a Swift
    // array of them would need reabstraction thunks, which thin functions lack.
    s += """
        /// The number of extended ops.
        let extendedOpCount = \(extended.count)

        /// Fills a 256-entry table with the handlers indexed by primary opcode;
        /// opcodes no op uses trap as invalid.
        func installPrimaryTailHandlers(_ table: UnsafeMutablePointer<TailHandler>) {
            for opcode in 0..<256 { table[opcode] = tailInvalidOpcode }

        """
    for op in primary { s += guarded(op, "    table[\(op.opcode)] = tail_\(op.swiftName)\n", otherwise: "    table[\(op.opcode)] = tailDisabledOpcode\n") }
    s += "    table[0xFF] = tailInvalidOpcode  // extended ops: `CodeImage` takes their handlers from the extended table\n}\n\n"
    s += "/// Fills an `extendedOpCount`-entry table with the handlers indexed by extended opcode.\nfunc installExtendedTailHandlers(_ table: UnsafeMutablePointer<TailHandler>) {\n"
    for op in extended { s += guarded(op, "    table[\(op.opcode)] = tail_\(op.swiftName)\n", otherwise: "    table[\(op.opcode)] = tailDisabledOpcode\n") }
    s += "}\n\n"
    // What `CodeImage` needs to install the float-accumulator forms, by layout index
    // (a primary opcode, or 256 + an extended one).
    func layoutIndex(_ op: Op) -> Int { op.isExtended ? 256 + op.opcode : op.opcode }
    func offset(_ op: Op, _ name: String) -> Int { zip(op.operands, op.operandOffsets).first { $0.0.name == name }!.1 }
    for (acc, kind, flag, forms) in [("xacc", OperandKind.x, OpFlags.writesXAcc, \Op.xaccForms), ("facc", .f, .writesFAcc, \Op.faccForms)] {
        let what = acc == "xacc" ? "integer" : "float"
        s += "/// Where the op with layout index `index` (a primary opcode, or 256 + an extended\n"
        s += "/// one) has the register it leaves in the \(what) accumulator; 0 when it leaves none.\n"
        s += "func \(acc)WriterField(_ index: Int) -> Int {\n    switch index {\n"
        for op in ops where op.flags.contains(flag) {
            precondition(op.operands.first?.name == "dst" && op.operands.first?.kind == kind, "\(op.name) writes the \(acc) but has no dst")
            s += guarded(op, "    case \(layoutIndex(op)): return \(offset(op, "dst"))  // \(op.name)\n")
        }
        s += "    default: return 0\n    }\n}\n\n"
        s += "/// The fields of the op with layout index `index` that it has a \(what)-accumulator\n"
        s += "/// form for, with that form's handler, first field first.\n"
        s += "func \(acc)Forms(_ index: Int) -> [(field: Int, handler: TailHandler)] {\n    switch index {\n"
        for op in ops where !op[keyPath: forms].isEmpty {
            let list = op[keyPath: forms].map { "(\(offset(op, $0)), tail_\(op.swiftName)_\(acc)_\($0))" }.joined(separator: ", ")
            s += guarded(op, "    case \(layoutIndex(op)): return [\(list)]  // \(op.name)\n")
        }
        s += "    default: return []\n    }\n}\n\n"
    }
    s += "/// The keeping forms of the op with layout index `index` (`hasKeepingForms`): the\n"
    s += "/// one that reads no operand from the accumulator (field 0), then one per x field.\n"
    s += "func xaccKeepingForms(_ index: Int) -> [(field: Int, handler: TailHandler)] {\n    switch index {\n"
    for op in ops where op.flags.contains(.hasKeepingForms) {
        let list = ["(0, tail_\(op.swiftName)_keep)"] + op.xaccForms.map { "(\(offset(op, $0)), tail_\(op.swiftName)_xacc_\($0)_keep)" }
        s += "    case \(layoutIndex(op)): return [\(list.joined(separator: ", "))]  // \(op.name)\n"
    }
    s += "    default: return []\n    }\n}\n\n"
    s += "/// Whether the op with layout index `index` writes a value it loaded from memory to its x `dst`.\n"
    s += "func xaccWriterLoads(_ index: Int) -> Bool {\n    switch index {\n"
    for op in ops where op.flags.contains(.loadsXAcc) {
        s += "    case \(layoutIndex(op)): return true  // \(op.name)\n"
    }
    s += "    default: return false\n    }\n}\n\n"
    s += "/// For an op that leaves the integer accumulator as it was (`keepsXAcc`): the field\n"
    s += "/// of the f register it writes, or 0 when it writes none; -1 for any other op.\n"
    s += "func xaccKeptField(_ index: Int) -> Int {\n    switch index {\n"
    for op in ops where op.flags.contains(.keepsXAcc) {
        let field = op.operands.first.map { $0.name == "dst" && $0.kind == .f } == true ? offset(op, "dst") : 0
        s += guarded(op, "    case \(layoutIndex(op)): return \(field)  // \(op.name)\n")
    }
    s += "    default: return -1\n    }\n}\n"
    return s
}

// MARK: Tests

func sampleValue(_ kind: OperandKind, _ i: Int) -> String {
    switch kind {
    case .x: return "XReg(\(i + 1))"
    case .f: return "FReg(\(i + 1))"
    case .v: return "VReg(\(2 * i + 2))"
    case .u8: return "5"
    case .u16: return "3"
    case .u32: return "16"
    case .i32: return "-7"
    case .u64: return "0x1_0000_0001"
    case .i64: return "-0x1_0000_0001"
    case .f32: return "Float(1.5).bitPattern"
    case .f64: return "Double(-2.25).bitPattern"
    case .pcrel: return "PcRelOffset(\(8 * (i + 1)))"
    case .trapCode: return ".unreachable"
    case .branchTable: return "BranchTable([PcRelOffset(12), PcRelOffset(-4), PcRelOffset(20)])"
    }
}

func randomValue(_ kind: OperandKind) -> String {
    switch kind {
    case .x: return "XReg(.random(in: 0...UInt16.max, using: &g))"
    case .f: return "FReg(.random(in: 0...UInt16.max, using: &g))"
    case .v: return "VReg(.random(in: 0...UInt16.max, using: &g))"
    case .u8: return ".random(in: 0...UInt8.max, using: &g)"
    case .u16: return ".random(in: 0...UInt16.max, using: &g)"
    case .u32, .f32: return ".random(in: 0...UInt32.max, using: &g)"
    case .i32: return ".random(in: Int32.min...Int32.max, using: &g)"
    case .u64, .f64: return ".random(in: 0...UInt64.max, using: &g)"
    case .i64: return ".random(in: Int64.min...Int64.max, using: &g)"
    case .pcrel: return "PcRelOffset(.random(in: Int32.min...Int32.max, using: &g))"
    case .trapCode: return "TrapCode.allCases.randomElement(using: &g)!"
    case .branchTable: return "BranchTable((0...Int.random(in: 0...5, using: &g)).map { _ in PcRelOffset(.random(in: Int32.min...Int32.max, using: &g)) })"
    }
}

func genMaterialized() -> String {
    var s = """
        import SheaveBytecode

        /// A materialized op, for tests only: the engine never builds one.
        enum MaterializedOp: Equatable {

        """
    for op in ops {
        if op.operands.isEmpty {
            s += "    case \(op.swiftName)\n"
        } else {
            s += "    case \(op.swiftName)(" + op.operands.map { "\($0.name): \(visitorType($0.kind))" }.joined(separator: ", ") + ")\n"
        }
    }
    s += """

            /// How many ops the table declares.
            static let count = \(ops.count)

            /// Encodes this op.
            func encode(into e: inout Encoder) {
                switch self {

        """
    for op in ops {
        if op.operands.isEmpty {
            s += "        case .\(op.swiftName): e.\(op.swiftName)()\n"
        } else {
            s += "        case let .\(op.swiftName)(\(args(op))): e.\(op.swiftName)(\(args(op)))\n"
        }
    }
    s += """
                }
            }

            /// One op of each kind, with fixed operands (golden tests).
            static let samples: [MaterializedOp] = [

        """
    for op in ops {
        if op.operands.isEmpty {
            s += "        .\(op.swiftName),\n"
        } else {
            let values = op.operands.enumerated().map { "\($1.name): \(sampleValue($1.kind, $0))" }.joined(separator: ", ")
            s += "        .\(op.swiftName)(\(values)),\n"
        }
    }
    s += """
            ]

            /// A random op with random operands.
            static func random<G: RandomNumberGenerator>(using g: inout G) -> MaterializedOp {
                switch Int.random(in: 0..<count, using: &g) {

        """
    for (i, op) in ops.enumerated() {
        if op.operands.isEmpty {
            s += "        case \(i): return .\(op.swiftName)\n"
        } else {
            let values = op.operands.map { "\($0.name): \(randomValue($0.kind))" }.joined(separator: ", ")
            s += "        case \(i): return .\(op.swiftName)(\(values))\n"
        }
    }
    s += """
                default: fatalError("unreachable: index below count")
                }
            }
        }

        /// Builds `MaterializedOp` values from a decoder.
        struct Materializer: OpVisitor {
            typealias Output = MaterializedOp


        """
    for op in ops {
        let body = op.operands.isEmpty ? ".\(op.swiftName)" : ".\(op.swiftName)(" + op.operands.map { "\($0.name): \($0.name)" }.joined(separator: ", ") + ")"
        s += "    mutating func \(op.swiftName)(\(params(op, visitorType))) -> MaterializedOp { \(body) }\n"
    }
    s += "}\n"
    return s
}

// MARK: SheaveCompiler

/// The compiler's lowering of every op that is exactly one Wasm SIMD instruction.
func genSIMDLowering() -> String {
    func type(_ t: String) -> String { ".\(t)" }
    func reg(_ t: String) -> String {
        switch t {
        case "v128": return "VReg"
        case "i32", "i64": return "XReg"
        default: return "FReg"
        }
    }
    func lowering(_ op: Op, _ w: WasmInstruction) -> String {
        var operands: [String] = []
        if let result = w.result { operands.append("\(reg(result))(dst)") }
        for (k, t) in w.inputs.enumerated() { operands.append("\(reg(t))(r[\(k)])") }
        if w.lanes != nil { operands.append("lane") }
        let result = w.result.map(type) ?? "nil"
        let inputs = "[" + w.inputs.map(type).joined(separator: ", ") + "]"
        return "try simdOp(\(inputs), \(result)) { e, dst, r in e.\(op.swiftName)(\(operands.joined(separator: ", "))) }"
    }
    var s = """
        import SheaveBytecode
        import WasmParser

        extension FunctionCompiler {
            /// Compiles a SIMD instruction that is one op.
            mutating func lowerSimd(_ instruction: Instruction.Simd) throws(CompileError) {
                switch instruction {

        """
    for op in ops {
        guard let w = op.wasm, w.lanes == nil else { continue }
        s += "        case .\(w.name): \(lowering(op, w))\n"
    }
    s += """
                default: throw failure(.unsupported, "\\(instruction) is not supported")
                }
            }

            /// Compiles a SIMD lane instruction (`extract_lane`, `replace_lane`), checking its lane index.
            mutating func lowerSimdLane(_ instruction: Instruction.SimdLane, lane: UInt8) throws(CompileError) {
                switch instruction {

        """
    for op in ops {
        guard let w = op.wasm, let lanes = w.lanes else { continue }
        s += "        case .\(w.name):\n"
        s += "            guard lane < \(lanes) else { throw failure(\"invalid lane index \\(lane)\") }\n"
        s += "            \(lowering(op, w))\n"
    }
    s += """
                }
            }
        }

        """
    return s
}
