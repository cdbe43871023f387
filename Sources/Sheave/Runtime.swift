@_exported import enum SheaveBytecode.Target
@_exported import struct SheaveCompiler.ArtifactError
@_exported import class SheaveInterpreter.Profiler
@_exported import struct SheaveInterpreter.ProfileSamples
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
    /// A null reference, or a non-null one (its bits: a function address + 1, or an extern value + 1).
    case ref(UInt64)
    /// A 128-bit vector: bytes 0-7 in `low`, 8-15 in `high`, little-endian (lane 0 in the lowest bits of `low`).
    case v128(low: UInt64, high: UInt64)

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

    /// A readable form, for messages and logs.
    public var description: String {
        switch self {
        case .i32(let v): return "i32:\(Int32(bitPattern: v))"
        case .i64(let v): return "i64:\(Int64(bitPattern: v))"
        case .f32(let v): return "f32:\(Float(bitPattern: v))"
        case .f64(let v): return "f64:\(Double(bitPattern: v))"
        case .ref(let v): return v == 0 ? "ref.null" : "ref:\(v - 1)"
        case .v128(let low, let high):
            func hex(_ v: UInt64) -> String { let s = String(v, radix: 16); return String(repeating: "0", count: 16 - s.count) + s }
            return "v128:0x\(hex(high))\(hex(low))"
        }
    }
}

/// Execution stopped with a trap.
public struct Trap: Error, CustomStringConvertible {
    /// One wasm frame of a trap's backtrace.
    public struct Frame: Equatable, Sendable, CustomStringConvertible {
        /// The function's index in its module's function index space.
        public let function: Int
        /// Its name from the module's name section, if it has one.
        public let name: String?
        /// The offset of the op in the function's bytecode.
        public let offset: Int

        /// A readable form, for messages and logs.
        public var description: String {
            (name ?? "<wasm function \(function)>") + " (bytecode offset 0x\(String(offset, radix: 16)))"
        }
    }

    /// What went wrong.
    public let code: TrapCode
    /// The wasm frames at the trap, innermost first (empty for traps outside wasm code).
    public let backtrace: [Frame]

    /// A trap of kind `code` with the wasm frames at the point it happened.
    public init(code: TrapCode, backtrace: [Frame] = []) {
        self.code = code
        self.backtrace = backtrace
    }

    /// The kind, worded as the spec test suite words it.
    public var message: String { code.description }

    /// A readable form, for messages and logs.
    public var description: String {
        guard !backtrace.isEmpty else { return message }
        return message + "\nwasm backtrace:\n" + backtrace.enumerated().map { "  \($0.offset): \($0.element)" }.joined(separator: "\n")
    }
}

/// Instantiation failed before the module ran: an import is missing or has the wrong type.
public struct LinkError: Error, CustomStringConvertible {
    /// What is wrong, in words.
    public let message: String
    /// A link error saying `message`.
    public init(message: String) { self.message = message }
    /// A readable form, for messages and logs.
    public var description: String { message }
}

/// A host function: receives its arguments, returns its results.
public struct HostFunction {
    /// Its parameter and result types, checked at each call.
    public let type: FunctionType
    /// The Swift code that runs when wasm calls the function.
    public let body: (Caller, [Value]) throws -> [Value]

    /// A host function that reads what it needs from its caller (its memory, for WASI).
    public init(type: FunctionType, body: @escaping (Caller, [Value]) throws -> [Value]) {
        self.type = type
        self.body = body
    }

    /// A host function that needs nothing from its caller.
    public init(type: FunctionType, body: @escaping ([Value]) throws -> [Value]) {
        self.init(type: type) { _, arguments in try body(arguments) }
    }
}

/// What a host function may reach of the code that called it.
public struct Caller {
    /// The calling instance's memory; nil when it has none, or when the host itself called.
    public let memory: LinearMemory?

    /// A caller whose memory is `memory`.
    public init(memory: LinearMemory?) {
        self.memory = memory
    }
}

/// Something an instance exports and another imports.
public enum Extern {
    /// A function.
    case function(FunctionHandle)
    /// A memory and its type.
    case memory(LinearMemory, MemoryType)
    /// A global.
    case global(GlobalCell)
    /// A table and its type.
    case table(FunctionTable, TableType)
}

/// A function: exported by an instance, or defined by the host.
public enum FunctionHandle {
    /// Function `index` of an instance.
    case wasm(Instance, index: Int)
    /// A function the host defines in Swift.
    case host(HostFunction)

    /// The function's parameter and result types.
    public var type: FunctionType {
        switch self {
        case .wasm(let instance, let index): return instance.module.info.functionType(index)
        case .host(let host): return host.type
        }
    }
}

/// A global's storage: one cell, shared by exporter and importers. Every cell
/// is 16 bytes, room for a v128, so that no global op the interpreter runs can
/// reach past a cell, whatever the bytecode says.
public final class GlobalCell {
    /// The global's value type and mutability.
    public let type: GlobalType
    let cell: UnsafeMutablePointer<UInt64>

    /// A global of `type` holding `value`.
    public init(type: GlobalType, value: Value) {
        self.type = type
        cell = .allocate(capacity: 2)
        cell.initialize(repeating: 0, count: 2)
        self.value = value
    }

    deinit { cell.deallocate() }

    /// The global's current value.
    public var value: Value {
        get { Value.decode(UnsafeBufferPointer(start: cell, count: 2), as: [type.valueType])[0] }
        set {
            let slots = newValue.slots
            for (i, slot) in slots.enumerated() { cell[i] = slot }
        }
    }
}

/// Runs instances' code: one VM, shared by every instance of the store. It
/// also owns what references point at: each function's `FunctionRef`, and the
/// canonical signature ids that make `call_indirect` work across modules.
public final class Store {
    /// How a store runs code.
    public struct Configuration: Sendable {
        /// Code consumes fuel at function entries and loop headers and traps
        /// ("all fuel consumed by WebAssembly") when it runs out; see `Store.fuel`.
        public var fuelMetering: Bool
        /// Another thread may stop running code through `Store.interruptHandle`.
        public var interruptible: Bool
        /// The VM's stack in bytes: recursion deeper than it fits traps ("call stack exhausted").
        public var stackSize: Int
        /// The dispatch loop the VM runs (the tail loop in optimized builds by default).
        public var dispatchMode: DispatchMode
        /// The most 64 KiB pages any memory may have: larger memories fail to
        /// instantiate and `memory.grow` past it returns -1.
        public var maximumMemoryPages: Int
        /// The bytecode target. Only the host's (`Target.host`) runs here; compiling
        /// for the others comes with artifacts.
        public var target: Target
        /// The WebAssembly proposals modules may use; others are invalid.
        public var features: Features

        /// A configuration; everything off and a 1 MiB stack by default.
        public init(fuelMetering: Bool = false, interruptible: Bool = false, stackSize: Int = 1 << 20,
                    dispatchMode: DispatchMode = .default, maximumMemoryPages: Int = 65536, target: Target = .host,
                    features: Features = .all) {
            self.fuelMetering = fuelMetering
            self.interruptible = interruptible
            self.stackSize = stackSize
            self.dispatchMode = dispatchMode
            self.maximumMemoryPages = maximumMemoryPages
            self.target = target
            self.features = features
        }

        /// How modules must be compiled to run in such a store.
        public var compileOptions: CompileOptions {
            CompileOptions(checkpoints: fuelMetering || interruptible, features: features, target: target)
        }
    }

    /// How this store runs code.
    public let configuration: Configuration
    let vm: VM
    private var signatureIDs: [FunctionType: UInt32] = [:]
    /// Functions reachable through references, by the id a foreign call hands the host.
    private(set) var referencedFunctions: [FunctionHandle] = []

    /// The bit that marks a host-call id as "a function reached through a reference"
    /// (other ids are the calling module's import index).
    static let referenceCallBit: UInt32 = 0x8000_0000

    /// A store without fuel metering or interruption.
    public convenience init(stackSize: Int = 1 << 20, dispatchMode: DispatchMode = .default) {
        self.init(configuration: Configuration(stackSize: stackSize, dispatchMode: dispatchMode))
    }

    /// A store running code as `configuration` says; with fuel metering it starts with no fuel.
    public init(configuration: Configuration) {
        self.configuration = configuration
        vm = VM(stackSize: configuration.stackSize, dispatchMode: configuration.dispatchMode)
        vm.fuelMetering = configuration.fuelMetering
        if configuration.fuelMetering { vm.fuel = 0 }
    }

    /// The fuel left (with fuel metering). Set it to refuel.
    public var fuel: Int64 {
        get { vm.fuel }
        set { vm.fuel = max(newValue, 0) }
    }

    /// Stops the store's running code at its next checkpoint, from any thread
    /// (with `Configuration.interruptible`).
    public var interruptHandle: InterruptHandle { vm.interruptHandle }

    /// A profiler sampling this store's running code every `interval` seconds
    /// (see `Instance.codeOffset(of:)` to place its samples).
    public func profiler(interval: Double = 0.000_1) -> Profiler {
        Profiler(vm: vm, interval: interval)
    }

    /// The canonical id of a signature: equal types, equal ids, across modules.
    func signatureID(_ type: FunctionType) -> UInt32 {
        if let id = signatureIDs[type] { return id }
        let id = UInt32(signatureIDs.count)
        signatureIDs[type] = id
        return id
    }

    /// Registers `handle` with the VM; returns its reference value.
    func makeFunctionRef(_ handle: FunctionHandle, code: UnsafeRawPointer?) -> UInt64 {
        let type = handle.type
        let id = UInt32(referencedFunctions.count) | Self.referenceCallBit
        referencedFunctions.append(handle)
        return vm.register(FunctionRef(code: code, signature: signatureID(type), context: nil, hostID: id,
                                       slots: UInt16(max(Value.slotCount(type.parameters), Value.slotCount(type.results)))))
    }
}
