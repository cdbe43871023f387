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
    if flags.contains(.tailCall) { names.append(".tailCall") }
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
            /// For a super-instruction: the ops it stands for, as declared
            /// (`xshl32_u8 t, index, shift; xadd32 dst, base, t`), one entry per declaration.
            public var stands: [String] = []
            /// Pairs of register operands (by position) that must differ for the op to
            /// mean what its steps do: the compiler never fuses otherwise, and the
            /// artifact verifier refuses code where they are the same.
            public var distinctOperands: [(Int, Int)] = []
        }

        extension Opcode {
            /// Static facts about this op.
            public var info: OpInfo {
                switch self {

        """
    for op in primary {
        s += "        case .\(op.swiftName): return OpInfo(name: \"\(op.name)\", doc: \(quoted(op.doc)), flags: \(flagList(op.flags)), size: \(op.fixedSize.map(String.init) ?? "nil")\(op.fusionInfo))\n"
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
        s += "        case .\(op.swiftName): return OpInfo(name: \"\(op.name)\", doc: \(quoted(op.doc)), flags: \(flagList(op.flags)), size: \(op.fixedSize.map(String.init) ?? "nil")\(op.fusionInfo))\n"
    }
    s += """
                }
            }
        }

        """
    s += instructionSetFingerprint()
    s += slotFieldTable()
    s += branchFieldTable()
    s += verifierTable()
    return s
}

/// The `OperandShape` an operand has, for the artifact verifier.
func shape(_ operand: Operand) -> String {
    switch operand.meaning {
    case .value: break
    case .global: return ".index(.global)"
    case .function: return ".index(.function)"
    case .table: return ".index(.table)"
    case .memory: return ".index(.memory)"
    case .tag: return ".index(.tag)"
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

/// Flat tables of every op: a row per op (primary opcodes, then extended ones)
/// with its flags, where its operand shapes lie in one flat list, and the pair of
/// registers its steps need apart; so that the artifact verifier (and whatever
/// needs an op's flags at run time) reads two tables and builds nothing.
func verifierTable() -> String {
    var rows: [String] = []
    var shapes: [String] = []
    for op in primary + extended {
        let pairs = op.distinctPairs
        precondition(pairs.count <= 1, "\(op.name): a verifier row holds one distinct pair")
        let distinct = pairs.first.map { "(\($0.0), \($0.1))" } ?? "nil"
        rows.append("    OpRow(flags: \(flagList(op.flags)), firstShape: \(shapes.count), shapeCount: \(op.operands.count), distinct: \(distinct)),  // \(op.name)")
        shapes += op.operands.map { "    \(shape($0)),  // \(op.name) \($0.name)" }
    }
    return """
        /// Every op's flags, operand shapes (a range of `opShapes`) and registers that
        /// must differ, primary opcodes then extended ones (`primaryOpcodeCount` + the
        /// extended opcode): what the artifact verifier reads, with no `OpInfo` built.
        public let opRows: [OpRow] = [
        \(rows.joined(separator: "\n"))
        ]

        /// Every op's operand shapes, one after another (`OpRow.firstShape`).
        public let opShapes: [OperandShape] = [
        \(shapes.joined(separator: "\n"))
        ]

        """
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
        if op.isStaged && !op.hasPcRel { s += "        \(op.stageStatement)\n" }
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
        if op.isStaged { s += "        \(op.stageStatement)\n" }
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
