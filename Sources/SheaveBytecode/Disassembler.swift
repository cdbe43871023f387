/// Turns bytecode into text, one op per line, laid out as Wasmtime's
/// `objdump` lays out Pulley:
///
///            5: 40 13 00 00 00         xmov x19, x0
///
/// Branch targets are resolved into a trailing `// target = 0x…` comment.
public struct Disassembler {
    /// What each line shows besides the op.
    public struct Options: Sendable {
        /// Print each op's offset.
        public var addresses: Bool
        /// Print each op's raw bytes.
        public var bytes: Bool
        /// After a super-instruction, print the ops it stands for (`OpInfo.stands`).
        public var fusions: Bool
        /// Options showing addresses and raw bytes unless told otherwise.
        public init(addresses: Bool = true, bytes: Bool = true, fusions: Bool = false) {
            self.addresses = addresses
            self.bytes = bytes
            self.fusions = fusions
        }
    }

    /// Offset of the op being disassembled: branch offsets are relative to it.
    var instructionStart = 0
    /// Absolute targets of the current op's branches, printed as a comment.
    var pendingTargets: [Int] = []

    /// A disassembler; `disassemble(_:)` is the usual entry point.
    public init() {}

    /// Disassembles `code`. A decoding error ends the listing with a line naming it.
    public static func disassemble(_ code: [UInt8], byteOrder: ByteOrder = .host, options: Options = Options(), baseOffset: Int = 0) -> String {
        lines(code, byteOrder: byteOrder, options: options, baseOffset: baseOffset).map { $0.text + "\n" }.joined()
    }

    /// Disassembles `code` into one line per op, each with the op's offset
    /// (`baseOffset` plus its position in `code`). A decoding error ends the
    /// listing with a line naming it, at offset -1.
    public static func lines(_ code: [UInt8], byteOrder: ByteOrder = .host, options: Options = Options(), baseOffset: Int = 0) -> [(offset: Int, text: String)] {
        var visitor = Disassembler()
        var decoder = Decoder(code, byteOrder: byteOrder)
        var out: [(offset: Int, text: String)] = []
        while !decoder.reader.isAtEnd {
            let start = decoder.reader.offset
            visitor.instructionStart = start + baseOffset
            visitor.pendingTargets = []
            let text: String
            do {
                text = try decoder.decodeOne(&visitor)
            } catch {
                out.append((-1, "        ; \(error)"))
                break
            }
            var line = ""
            if options.addresses {
                let hex = String(start + baseOffset, radix: 16)
                line += String(repeating: " ", count: max(0, 8 - hex.count)) + hex + ": "
            }
            if options.bytes {
                let raw = code[start..<decoder.reader.offset].map { b in b < 16 ? "0" + String(b, radix: 16) : String(b, radix: 16) }
                    .joined(separator: " ")
                line += raw + String(repeating: " ", count: max(2, 30 - raw.count))
            }
            line += text
            if !visitor.pendingTargets.isEmpty {
                let targets = visitor.pendingTargets.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")
                line += visitor.pendingTargets.count == 1 ? "    // target = \(targets)" : "    // targets = \(targets)"
            }
            if options.fusions, let stands = Self.info(at: start, in: code, byteOrder: byteOrder)?.stands.first {
                line += "    // = \(stands)"
            }
            out.append((start + baseOffset, line))
        }
        return out
    }

    /// The facts about the op at `offset` (decoded already, so its opcode is valid).
    static func info(at offset: Int, in code: [UInt8], byteOrder: ByteOrder) -> OpInfo? {
        if code[offset] == 0xFF {
            guard offset + 2 < code.count else { return nil }
            let little = UInt16(code[offset + 1]) | UInt16(code[offset + 2]) << 8
            return ExtendedOpcode(rawValue: byteOrder == .littleEndian ? little : little.byteSwapped)?.info
        }
        return Opcode(rawValue: code[offset])?.info
    }

    // MARK: Operand formatting used by the generated op methods

    func f32(_ bits: UInt32) -> String {
        let value = Float(bitPattern: bits)
        return value.isNaN ? "nan:0x\(String(bits, radix: 16))" : "\(value)"
    }

    func f64(_ bits: UInt64) -> String {
        let value = Double(bitPattern: bits)
        return value.isNaN ? "nan:0x\(String(bits, radix: 16))" : "\(value)"
    }

    mutating func target(_ offset: PcRelOffset) -> String {
        pendingTargets.append(instructionStart + Int(offset.value))
        return offset.description
    }

    mutating func targetList(_ table: BranchTable) -> String {
        "[" + table.targets.map { target($0) }.joined(separator: ", ") + "]"
    }
}
