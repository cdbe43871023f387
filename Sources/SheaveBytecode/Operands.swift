/// An integer register: a slot of the current frame, read as an integer.
///
/// Registers are frame-relative (see docs/design.md): `x5`, `f5` and `v5`
/// name the same slot; the op decides how its bits are read.
@frozen
public struct XReg: Hashable, Sendable, CustomStringConvertible {
    /// The slot number, counted in 8-byte slots from the frame pointer.
    public var index: UInt16
    /// The interpreter's mark on the operand an accumulator form reads from the
    /// integer accumulator (docs/design.md, "Accumulators"): a constant where the
    /// operand is decoded, so that every other operand reads its slot without
    /// comparing its index with the form's. Not part of the register's identity.
    public var inAccumulator: Bool
    /// The register naming slot `index`.
    @inlinable public init(_ index: UInt16) { self.index = index; inAccumulator = false }
    /// The register naming slot `index`, marked as the operand an accumulator form reads from the accumulator.
    @inlinable public init(_ index: UInt16, inAccumulator: Bool) { self.index = index; self.inAccumulator = inAccumulator }
    public var description: String { "x\(index)" }
    @inlinable public static func == (a: XReg, b: XReg) -> Bool { a.index == b.index }
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(index) }
}

/// A float register: a slot of the current frame holding an f32 (low 32 bits) or an f64.
@frozen
public struct FReg: Hashable, Sendable, CustomStringConvertible {
    /// The slot number, counted in 8-byte slots from the frame pointer.
    public var index: UInt16
    /// The operand a float accumulator form reads from the accumulator (as `XReg.inAccumulator`).
    public var inAccumulator: Bool
    /// The register naming slot `index`.
    @inlinable public init(_ index: UInt16) { self.index = index; inAccumulator = false }
    /// The register naming slot `index`, marked as the operand a float accumulator form reads from the accumulator.
    @inlinable public init(_ index: UInt16, inAccumulator: Bool) { self.index = index; self.inAccumulator = inAccumulator }
    public var description: String { "f\(index)" }
    @inlinable public static func == (a: FReg, b: FReg) -> Bool { a.index == b.index }
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(index) }
}

/// A vector register: two consecutive slots of the current frame, 128 bits.
@frozen
public struct VReg: Hashable, Sendable, CustomStringConvertible {
    /// The first of the two slots, counted in 8-byte slots from the frame pointer.
    public var index: UInt16
    /// The register naming slot `index`.
    @inlinable public init(_ index: UInt16) { self.index = index }
    public var description: String { "v\(index)" }
}

/// A branch offset in bytes, relative to the first byte of the branching instruction.
@frozen
public struct PcRelOffset: Hashable, Sendable, CustomStringConvertible {
    /// The offset in bytes.
    public var value: Int32
    /// An offset of `value` bytes.
    @inlinable public init(_ value: Int32) { self.value = value }
    public var description: String { value < 0 ? "-0x\(String(-Int64(value), radix: 16))" : "0x\(String(value, radix: 16))" }
}

/// The targets of `br_table32`: the last one is the default.
public struct BranchTable: Hashable, Sendable {
    /// The targets, one per index, then the default.
    public var targets: [PcRelOffset]
    /// A table of `targets`; the last is the default, so there is at least one.
    public init(_ targets: [PcRelOffset]) {
        precondition(!targets.isEmpty, "a branch table needs at least its default target")
        self.targets = targets
    }
}

/// Why execution stopped with a trap. The raw values are part of the bytecode
/// format (the `trap` op's operand) and never change.
public enum TrapCode: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    /// An `unreachable` instruction ran.
    case unreachable = 0
    /// Signed division overflowed, or a float was too large for a conversion to integer.
    case integerOverflow = 1
    /// Integer division or remainder by zero.
    case integerDivisionByZero = 2
    /// A NaN converted to an integer.
    case badConversionToInteger = 3
    /// A memory access past the end of linear memory.
    case memoryOutOfBounds = 4
    /// The VM's stack is full: recursion too deep.
    case stackOverflow = 5
    /// An indirect call to a null table entry.
    case indirectCallToNull = 6
    /// An indirect call to a function of another signature.
    case badSignature = 7
    /// An indirect call through an index past the end of its table.
    case tableOutOfBounds = 8
    /// Bytecode the interpreter has no handler for.
    case invalidOpcode = 9
    /// A table access past its end.
    case tableAccessOutOfBounds = 10
    /// A null reference where a non-null one was needed (`ref.as_non_null`).
    case nullReference = 11
    /// Fuel metering is on and the fuel ran out.
    case outOfFuel = 12
    /// The store was interrupted from another thread.
    case interrupted = 13
    /// A SIMD op in an interpreter built without SIMD (the `InterpreterSIMD` trait off).
    case disabledOpcode = 14
    /// A call through a null function reference (`call_ref`, `return_call_ref`).
    case nullFunctionReference = 15
    /// A `throw_ref` of a null `exnref`.
    case nullExceptionReference = 16

    /// The message a user sees, worded as the spec's test suite words it.
    public var description: String {
        switch self {
        case .unreachable: return "unreachable"
        case .integerOverflow: return "integer overflow"
        case .integerDivisionByZero: return "integer divide by zero"
        case .badConversionToInteger: return "invalid conversion to integer"
        case .memoryOutOfBounds: return "out of bounds memory access"
        case .stackOverflow: return "call stack exhausted"
        case .indirectCallToNull: return "uninitialized element"
        case .badSignature: return "indirect call type mismatch"
        case .tableOutOfBounds: return "undefined element"
        case .invalidOpcode: return "invalid opcode"
        case .tableAccessOutOfBounds: return "out of bounds table access"
        case .nullReference: return "null reference"
        case .outOfFuel: return "all fuel consumed by WebAssembly"
        case .interrupted: return "interrupted"
        case .disabledOpcode: return "disabled opcode"
        case .nullFunctionReference: return "null function reference"
        case .nullExceptionReference: return "null exception reference"
        }
    }
}

/// Typed facts about an op, from the op table.
public struct OpFlags: OptionSet, Sendable {
    /// The flags as bits.
    public let rawValue: Int
    /// Flags from their bits.
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// The handler can stop the run loop: a trap, a return to the host, a host call.
    public static let mayStop = OpFlags(rawValue: 1 << 0)
    /// Reads or writes linear memory.
    public static let memory = OpFlags(rawValue: 1 << 1)
    /// Has pc-relative branch targets.
    public static let branch = OpFlags(rawValue: 1 << 2)
    /// Control never falls through to the next instruction.
    public static let terminator = OpFlags(rawValue: 1 << 3)
    /// Transfers control to another function.
    public static let call = OpFlags(rawValue: 1 << 4)
    /// Encoded as 0xFF followed by a u16 extended opcode.
    public static let extended = OpFlags(rawValue: 1 << 5)
    /// Touches only registers: safe for random execution tests.
    public static let pure = OpFlags(rawValue: 1 << 6)
    /// A 128-bit SIMD op: the interpreter has no handler for it when built without
    /// the `InterpreterSIMD` trait (it traps "disabled opcode").
    public static let simd = OpFlags(rawValue: 1 << 7)
    /// A tail call: the callee replaces this frame (so this frame's catch clauses
    /// do not see an exception the callee throws, even where the host makes the
    /// call as an ordinary one).
    public static let tailCall = OpFlags(rawValue: 1 << 8)
}

/// A module index space an operand indexes.
public enum IndexSpace: Sendable, Equatable, CustomStringConvertible {
    /// Globals, functions, tables, memories, function types, element and data segments (imports first where they can be imported).
    case global, function, table, memory, type, elementSegment, dataSegment
    /// Exception tags (imports first).
    case tag
    /// An imported function (`call_host`'s id).
    case importedFunction

    /// A readable form, for messages.
    public var description: String {
        switch self {
        case .global: return "global"
        case .function: return "function"
        case .table: return "table"
        case .memory: return "memory"
        case .tag: return "tag"
        case .type: return "type"
        case .elementSegment: return "element segment"
        case .dataSegment: return "data segment"
        case .importedFunction: return "imported function"
        }
    }
}

/// How an operand is encoded and what the interpreter trusts about it: the
/// artifact verifier checks each shape (generated per op from the op table).
public enum OperandShape: Sendable, Equatable {
    /// A register: a u16 slot number that must lie inside the frame.
    case x, f, v
    /// A plain immediate of this many bytes: any value is safe.
    case immediate(bytes: Int)
    /// An i32 branch offset: must land on an op of the same function.
    case pcrel
    /// A `br_table32` table: every offset must land on an op of the same function.
    case branchTable
    /// A u8 `TrapCode`.
    case trapCode
    /// A u32 index into one of the module's index spaces.
    case index(IndexSpace)
    /// A u16 slot where a callee's frame starts: at most the frame size.
    case calleeFrame
    /// A u16 count of slots a host call reads and writes from its frame.
    case hostSlots
    /// A u32 frame size in slots (`push_frame`).
    case frameSize
}

/// An op's flags and operand shapes: a row of `opRows`, generated from the op
/// table (what the artifact verifier reads; cheaper than building `OpInfo`).
public struct OpRow: Sendable {
    /// The op's flags (`OpInfo.flags`).
    public let flags: OpFlags
    /// Where the op's operand shapes start in `opShapes`.
    public let firstShape: Int
    /// How many operands the op has.
    public let shapeCount: Int
    /// Two register operands (by position) that must differ (`OpInfo.distinctOperands`;
    /// no op declares more than one pair), or nil.
    public let distinct: (Int, Int)?
}
