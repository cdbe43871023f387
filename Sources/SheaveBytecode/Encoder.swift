/// The byte order of a bytecode image's immediates. It follows the target:
/// `pulley64` and `pulley32` are little-endian, the `be` targets big-endian.
public enum ByteOrder: Sendable {
    /// Least significant byte first: `pulley32`, `pulley64`.
    case littleEndian
    /// Most significant byte first: `pulley32be`, `pulley64be`.
    case bigEndian

    /// The byte order of the machine running this code.
    public static var host: ByteOrder {
        1.littleEndian == 1 ? .littleEndian : .bigEndian
    }
}

/// A branch target inside an `Encoder`'s output, bound to a position later.
public struct Label: Hashable, Sendable {
    let id: Int
}

/// Writes Sheave bytecode. One method per op (generated from the op table),
/// plus forms that take `Label`s for branch targets.
///
///     var e = Encoder()
///     let loop = e.makeLabel()
///     e.bind(loop)
///     e.xadd32I32(XReg(0), XReg(0), 1)
///     e.brIfXult32(XReg(0), XReg(1), loop)
///     e.ret()
///     let code = try e.finish()
public struct Encoder {
    /// Why `finish()` failed.
    public enum Error: Swift.Error, CustomStringConvertible {
        /// A branch names a label that was never bound.
        case unboundLabel
        /// A branch offset does not fit in 32 bits.
        case branchTooFar
        /// A readable form, for messages and logs.
        public var description: String {
            switch self {
            case .unboundLabel: return "a branch refers to a label that was never bound"
            case .branchTooFar: return "a branch offset does not fit in 32 bits"
            }
        }
    }

    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []
    /// The byte order of immediates, from the target.
    public let byteOrder: ByteOrder
    /// Offset of the first byte of the op being written; branch offsets are relative to it.
    private var instructionStart = 0
    private var labelPositions: [Int?] = []
    private var fixups: [(field: Int, instructionStart: Int, label: Int)] = []
    private var failure: Error?
    /// Ops not encoded yet, oldest first (`Encoder+Staging.swift`).
    var staged: [StagedOp] = []
    /// Whether ops are staged and fused (the compiler's encoder) or encoded at once.
    package var fusing = false
    /// Registers from this number up are free once the op being compiled has run:
    /// the slots of the operand stack entries it consumes and above. A fusion rule's
    /// temporary must be one of them. The compiler sets it per instruction.
    package var reusableFrom = Int.max

    /// An empty encoder writing immediates in `byteOrder` (the target's).
    public init(byteOrder: ByteOrder = .host) {
        self.byteOrder = byteOrder
    }

    /// The offset at which the next op will be written (staged ops are written first).
    public var position: Int {
        mutating get {
            flush()
            return bytes.count
        }
    }

    /// A new label, not yet bound.
    public mutating func makeLabel() -> Label {
        labelPositions.append(nil)
        return Label(id: labelPositions.count - 1)
    }

    /// Binds `label` to the current position and patches branches already written to it.
    public mutating func bind(_ label: Label) {
        flush()
        precondition(labelPositions[label.id] == nil, "label bound twice")
        labelPositions[label.id] = bytes.count
        let position = bytes.count
        for fixup in fixups where fixup.label == label.id {
            patch(at: fixup.field, offset: position - fixup.instructionStart)
        }
        fixups.removeAll { $0.label == label.id }
    }

    /// Whether a label is bound at `position` (a branch may arrive there).
    public func isLabelBound(at position: Int) -> Bool {
        labelPositions.contains(position)
    }

    /// The finished bytecode. Throws if a label was used but never bound.
    public func finish() throws(Error) -> [UInt8] {
        precondition(staged.isEmpty, "staged ops not flushed before finish")
        if let failure { throw failure }
        guard fixups.isEmpty else { throw .unboundLabel }
        return bytes
    }

    // MARK: Patching, for compilers

    /// Rewrites the register operand whose two bytes start at `offset`
    /// (a late slot's register, known once the frame size is).
    public mutating func patchRegister(at offset: Int, _ register: UInt16) {
        let ordered = byteOrder == .littleEndian ? register.littleEndian : register.bigEndian
        withUnsafeBytes(of: ordered) { raw in
            bytes[offset] = raw[0]
            bytes[offset + 1] = raw[1]
        }
    }

    /// Appends raw, already encoded bytecode (for example another function's).
    public mutating func append(contentsOf other: [UInt8]) {
        flush()
        bytes.append(contentsOf: other)
    }

    /// Rewrites the pc-relative offset field at `field` (a call whose target was not known yet).
    public mutating func patchPcRel(at field: Int, _ offset: Int) {
        patch(at: field, offset: offset)
    }

    // MARK: Primitives used by the generated op methods

    mutating func beginInstruction() {
        if fusing, !staged.isEmpty { flush() }
        instructionStart = bytes.count
    }

    mutating func emitOpcode(_ opcode: Int) { bytes.append(UInt8(opcode)) }

    mutating func emitExtended(_ opcode: Int) {
        bytes.append(0xFF)
        emit(UInt16(opcode))
    }

    private mutating func emitInteger<T: FixedWidthInteger>(_ value: T) {
        let ordered = byteOrder == .littleEndian ? value.littleEndian : value.bigEndian
        withUnsafeBytes(of: ordered) { bytes.append(contentsOf: $0) }
    }

    mutating func emit(_ value: UInt8) { bytes.append(value) }
    mutating func emit(_ value: UInt16) { emitInteger(value) }
    mutating func emit(_ value: UInt32) { emitInteger(value) }
    mutating func emit(_ value: Int32) { emitInteger(value) }
    mutating func emit(_ value: UInt64) { emitInteger(value) }
    mutating func emit(_ value: Int64) { emitInteger(value) }
    mutating func emit(_ value: XReg) { emitInteger(value.index) }
    mutating func emit(_ value: FReg) { emitInteger(value.index) }
    mutating func emit(_ value: VReg) { emitInteger(value.index) }
    mutating func emit(_ value: PcRelOffset) { emitInteger(value.value) }
    mutating func emit(_ value: TrapCode) { bytes.append(value.rawValue) }

    mutating func emit(_ table: BranchTable) {
        emitInteger(UInt32(table.targets.count - 1))
        for target in table.targets { emitInteger(target.value) }
    }

    mutating func emitLabel(_ label: Label) {
        if let position = labelPositions[label.id] {
            emitOffset(position - instructionStart)
        } else {
            fixups.append((field: bytes.count, instructionStart: instructionStart, label: label.id))
            emitInteger(Int32(0))
        }
    }

    mutating func emitLabelTable(_ labels: [Label]) {
        precondition(!labels.isEmpty, "a branch table needs at least its default target")
        emitInteger(UInt32(labels.count - 1))
        for label in labels { emitLabel(label) }
    }

    private mutating func emitOffset(_ offset: Int) {
        guard let value = Int32(exactly: offset) else {
            failure = .branchTooFar
            emitInteger(Int32(0))
            return
        }
        emitInteger(value)
    }

    private mutating func patch(at field: Int, offset: Int) {
        guard let value = Int32(exactly: offset) else {
            failure = .branchTooFar
            return
        }
        let ordered = byteOrder == .littleEndian ? value.littleEndian : value.bigEndian
        withUnsafeBytes(of: ordered) { raw in
            for i in 0..<4 { bytes[field + i] = raw[i] }
        }
    }
}
