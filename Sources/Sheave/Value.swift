import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter
import WasmParser
import WasmTypes

/// A WebAssembly value as the host sees it.
public enum Value: Equatable, Sendable, CustomStringConvertible {
    /// A 32-bit integer, its bits.
    case i32(UInt32)
    /// A 64-bit integer, its bits.
    case i64(UInt64)
    /// A 32-bit float, its bit pattern (NaN payloads kept).
    case f32(UInt32)
    /// A 64-bit float, its bit pattern (NaN payloads kept).
    case f64(UInt64)
    /// A null reference, or a non-null one (its bits: 1 + the function's index in the store's registry, or an extern value + 1).
    case ref(UInt64)
    /// A 128-bit vector: bytes 0-7 in `low`, 8-15 in `high`, little-endian (lane 0 in the lowest bits of `low`).
    case v128(low: UInt64, high: UInt64)

    /// A 128-bit vector from its 16 bytes in memory order (lane 0 first); nil
    /// unless there are 16.
    public static func v128(bytes: [UInt8]) -> Value? {
        guard bytes.count == 16 else { return nil }
        let (low, high) = CompiledModule.halves(bytes)
        return .v128(low: low, high: high)
    }

    /// The 8-byte slot form: i32 zero-extended, f32 in the low 32 bits; a v128's low half.
    var bits: UInt64 {
        switch self {
        case .i32(let v): return UInt64(v)
        case .i64(let v): return v
        case .f32(let v): return UInt64(v)
        case .f64(let v): return v
        case .ref(let v): return v
        case .v128(let low, _): return low
        }
    }

    /// The slots the value takes in a frame: one, or two for a v128.
    var slots: [UInt64] {
        if case .v128(let low, let high) = self { return [low, high] }
        return [bits]
    }

    /// The value of `type` whose slot bits are `bits` (a reference: 0 is null; a v128's high half 0).
    public init(bits: UInt64, type: ValueType) {
        switch type {
        case .i32: self = .i32(UInt32(truncatingIfNeeded: bits))
        case .i64: self = .i64(bits)
        case .f32: self = .f32(UInt32(truncatingIfNeeded: bits))
        case .f64: self = .f64(bits)
        case .v128: self = .v128(low: bits, high: 0)
        default: self = .ref(bits)
        }
    }

    /// Values of `types` from the slots they occupy in order (a v128 takes two).
    /// The caller has checked that there are enough slots.
    static func decode<C: Collection<UInt64>>(_ slots: C, as types: [ValueType]) -> [Value] where C.Index == Int {
        var values: [Value] = []
        var at = slots.startIndex
        for type in types {
            if type == .v128 {
                values.append(.v128(low: slots[at], high: slots[at + 1]))
                at += 2
            } else {
                values.append(Value(bits: slots[at], type: type))
                at += 1
            }
        }
        return values
    }

    /// How many slots values of `types` take.
    static func slotCount(_ types: [ValueType]) -> Int {
        types.reduce(0) { $0 + ($1 == .v128 ? 2 : 1) }
    }

    /// Whether this value may be passed where `type` is expected.
    public func matches(_ type: ValueType) -> Bool {
        switch (self, type) {
        case (.i32, .i32), (.i64, .i64), (.f32, .f32), (.f64, .f64), (.ref, .ref), (.v128, .v128): return true
        default: return false
        }
    }

    /// A readable form, for messages and logs: the type, then the value (`i32:-1`).
    public var description: String { formatted(withType: true) }

    /// The value as text: signed integers, floats as Swift prints them, a v128 in
    /// hexadecimal (high half first), a reference as `null` or its number; with
    /// `withType`, behind its type (`i32:-1`, `ref.null`, `ref:3`), else alone
    /// (`-1`, `null`, `ref`), as `sheave run --invoke` prints results.
    public func formatted(withType: Bool) -> String {
        let text: String
        switch self {
        case .i32(let v): text = "\(Int32(bitPattern: v))"
        case .i64(let v): text = "\(Int64(bitPattern: v))"
        case .f32(let v): text = "\(Float(bitPattern: v))"
        case .f64(let v): text = "\(Double(bitPattern: v))"
        case .ref(let v): return v == 0 ? (withType ? "ref.null" : "null") : (withType ? "ref:\(v - 1)" : "ref")
        case .v128(let low, let high):
            func hex(_ v: UInt64) -> String { let s = String(v, radix: 16); return String(repeating: "0", count: 16 - s.count) + s }
            return "v128:0x\(hex(high))\(hex(low))"
        }
        guard withType else { return text }
        switch self {
        case .i32: return "i32:" + text
        case .i64: return "i64:" + text
        case .f32: return "f32:" + text
        default: return "f64:" + text
        }
    }
}

/// A Swift type that stands for a WebAssembly value type.
public protocol WasmValue {
    /// The WebAssembly value type this Swift type stands for.
    static var valueType: ValueType { get }
    /// The value, from a `Value` of `valueType` (the runtime checks types first).
    init(_ value: Value)
    /// The WebAssembly value of this Swift value.
    var value: Value { get }
}

/// The value types `types` stand for, in order: one list serves typed calls
/// (`Function.typed`) and typed host functions (`Linker.defineFunction`).
func valueTypes<each T: WasmValue>(_ types: repeat (each T).Type) -> [ValueType] {
    var result: [ValueType] = []
    for type in repeat each types { result.append(type.valueType) }
    return result
}

extension Int32: WasmValue {
    /// The WebAssembly type this Swift type stands for.
    public static var valueType: ValueType { .i32 }
    /// The Swift value of a WebAssembly value of this type.
    public init(_ value: Value) { self = Int32(bitPattern: UInt32(truncatingIfNeeded: value.bits)) }
    /// This value as a WebAssembly value.
    public var value: Value { .i32(UInt32(bitPattern: self)) }
}

extension UInt32: WasmValue {
    /// The WebAssembly type this Swift type stands for.
    public static var valueType: ValueType { .i32 }
    /// The Swift value of a WebAssembly value of this type.
    public init(_ value: Value) { self = UInt32(truncatingIfNeeded: value.bits) }
    /// This value as a WebAssembly value.
    public var value: Value { .i32(self) }
}

extension Int64: WasmValue {
    /// The WebAssembly type this Swift type stands for.
    public static var valueType: ValueType { .i64 }
    /// The Swift value of a WebAssembly value of this type.
    public init(_ value: Value) { self = Int64(bitPattern: value.bits) }
    /// This value as a WebAssembly value.
    public var value: Value { .i64(UInt64(bitPattern: self)) }
}

extension UInt64: WasmValue {
    /// The WebAssembly type this Swift type stands for.
    public static var valueType: ValueType { .i64 }
    /// The Swift value of a WebAssembly value of this type.
    public init(_ value: Value) { self = value.bits }
    /// This value as a WebAssembly value.
    public var value: Value { .i64(self) }
}

extension Float: WasmValue {
    /// The WebAssembly type this Swift type stands for.
    public static var valueType: ValueType { .f32 }
    /// The Swift value of a WebAssembly value of this type.
    public init(_ value: Value) { self = Float(bitPattern: UInt32(truncatingIfNeeded: value.bits)) }
    /// This value as a WebAssembly value.
    public var value: Value { .f32(bitPattern) }
}

extension Double: WasmValue {
    /// The WebAssembly type this Swift type stands for.
    public static var valueType: ValueType { .f64 }
    /// The Swift value of a WebAssembly value of this type.
    public init(_ value: Value) { self = Double(bitPattern: value.bits) }
    /// This value as a WebAssembly value.
    public var value: Value { .f64(bitPattern) }
}
