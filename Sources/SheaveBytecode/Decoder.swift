/// Why bytecode could not be decoded.
public enum DecodeError: Error, Equatable, CustomStringConvertible {
    /// The bytecode ends in the middle of the op that starts at `at`.
    case truncated(at: Int)
    /// No op has this primary opcode.
    case invalidOpcode(UInt8, at: Int)
    /// No op has this extended opcode.
    case invalidExtendedOpcode(UInt16, at: Int)
    /// An operand holds a value its kind does not allow (a trap code, a table size).
    case invalidOperand(at: Int)

    /// A readable form, for messages and logs.
    public var description: String {
        switch self {
        case .truncated(let at): return "bytecode truncated at offset \(at)"
        case .invalidOpcode(let op, let at): return "invalid opcode 0x\(String(op, radix: 16)) at offset \(at)"
        case .invalidExtendedOpcode(let op, let at): return "invalid extended opcode 0x\(String(op, radix: 16)) at offset \(at)"
        case .invalidOperand(let at): return "invalid operand at offset \(at)"
        }
    }
}

/// A bounds-checked reader over bytecode, for the decoder, the disassembler
/// and the artifact loader. (The interpreter reads trusted bytecode unchecked.)
public struct ByteReader {
    /// The bytecode being read.
    public let bytes: [UInt8]
    /// The byte order of its immediates (the target's).
    public let byteOrder: ByteOrder
    /// The offset of the next byte to read.
    public private(set) var offset: Int

    /// A reader of `bytes` starting at `offset`.
    public init(_ bytes: [UInt8], byteOrder: ByteOrder = .host, offset: Int = 0) {
        self.bytes = bytes
        self.byteOrder = byteOrder
        self.offset = offset
    }

    /// True when every byte has been read.
    public var isAtEnd: Bool { offset >= bytes.count }

    private mutating func readInteger<T: FixedWidthInteger>(_: T.Type) throws(DecodeError) -> T {
        let size = MemoryLayout<T>.size
        guard offset >= 0, bytes.count - offset >= size else { throw .truncated(at: offset) }
        var value: T = 0
        for i in 0..<size {
            let byte = T(truncatingIfNeeded: bytes[offset + i])
            value |= byteOrder == .littleEndian ? byte << (8 * i) : byte << (8 * (size - 1 - i))
        }
        offset += size
        return value
    }

    /// Reads the next U8; throws `.truncated` past the end.
    public mutating func readU8() throws(DecodeError) -> UInt8 { try readInteger(UInt8.self) }
    /// Reads the next U16; throws `.truncated` past the end.
    public mutating func readU16() throws(DecodeError) -> UInt16 { try readInteger(UInt16.self) }
    /// Reads the next U32; throws `.truncated` past the end.
    public mutating func readU32() throws(DecodeError) -> UInt32 { try readInteger(UInt32.self) }
    /// Reads the next I32; throws `.truncated` past the end.
    public mutating func readI32() throws(DecodeError) -> Int32 { try readInteger(Int32.self) }
    /// Reads the next U64; throws `.truncated` past the end.
    public mutating func readU64() throws(DecodeError) -> UInt64 { try readInteger(UInt64.self) }
    /// Reads the next I64; throws `.truncated` past the end.
    public mutating func readI64() throws(DecodeError) -> Int64 { try readInteger(Int64.self) }
    /// Reads the next XReg; throws `.truncated` past the end.
    public mutating func readXReg() throws(DecodeError) -> XReg { XReg(try readU16()) }
    /// Reads the next FReg; throws `.truncated` past the end.
    public mutating func readFReg() throws(DecodeError) -> FReg { FReg(try readU16()) }
    /// Reads the next VReg; throws `.truncated` past the end.
    public mutating func readVReg() throws(DecodeError) -> VReg { VReg(try readU16()) }
    /// Reads the next PcRel; throws `.truncated` past the end.
    public mutating func readPcRel() throws(DecodeError) -> PcRelOffset { PcRelOffset(try readI32()) }

    /// Reads the next TrapCode; throws `.truncated` past the end.
    public mutating func readTrapCode() throws(DecodeError) -> TrapCode {
        let at = offset
        guard let code = TrapCode(rawValue: try readU8()) else { throw .invalidOperand(at: at) }
        return code
    }

    /// Reads the next BranchTable; throws `.truncated` past the end.
    public mutating func readBranchTable() throws(DecodeError) -> BranchTable {
        let at = offset
        let count = try readU32()
        // Each target takes 4 bytes: refuse a count the remaining bytes cannot hold
        // before allocating anything for it.
        guard UInt64(count) + 1 <= UInt64(bytes.count - offset) / 4 else { throw .truncated(at: at) }
        var targets: [PcRelOffset] = []
        targets.reserveCapacity(Int(count) + 1)
        for _ in 0...count { targets.append(try readPcRel()) }
        return BranchTable(targets)
    }
}

/// Decodes ops one at a time into an `OpVisitor` (`decodeOne`, generated).
public struct Decoder {
    /// The bounds-checked reader the decoder advances.
    public var reader: ByteReader

    /// A decoder at the start of `bytes`.
    public init(_ bytes: [UInt8], byteOrder: ByteOrder = .host) {
        reader = ByteReader(bytes, byteOrder: byteOrder)
    }

    /// Decodes every op, in order, into `visitor`; returns each op's offset and output.
    public static func decodeAll<V: OpVisitor>(_ bytes: [UInt8], byteOrder: ByteOrder = .host, into visitor: inout V) throws(DecodeError) -> [(offset: Int, output: V.Output)] {
        var decoder = Decoder(bytes, byteOrder: byteOrder)
        var result: [(offset: Int, output: V.Output)] = []
        while !decoder.reader.isAtEnd {
            let offset = decoder.reader.offset
            result.append((offset, try decoder.decodeOne(&visitor)))
        }
        return result
    }
}
