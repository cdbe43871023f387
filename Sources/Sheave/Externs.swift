import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter
import WasmParser
import WasmTypes

/// Something an instance exports and another imports.
public enum Extern {
    /// A function.
    case function(Function)
    /// A memory.
    case memory(Memory)
    /// A global.
    case global(Global)
    /// A table.
    case table(Table)
    /// An exception tag.
    case tag(Tag)
}

/// An exception tag: what a thrown exception is matched by. Tags are compared
/// by identity: each module's definition, and each one the host makes, is a new
/// tag; an import is the tag it names. Its type's parameters are the payload.
public final class Tag: Sendable {
    /// The payload's types, as the parameters of a function type with no results.
    public let type: FunctionType

    /// A module's tag: its module's types and its type's index among them (GC's
    /// recursion groups make types with equal parameters differ). Nil for a tag the
    /// host made: its type is a plain function type.
    let typeOrigin: (space: TypeSpace, index: UInt32)?

    /// A new tag, for a module to import; nil when `type` has results.
    public init?(type: FunctionType) {
        guard type.results.isEmpty else { return nil }
        self.type = type
        typeOrigin = nil
    }

    /// A module's tag, of a type validation checked (no results), type `typeOrigin.index` of its module.
    init(validated type: FunctionType, typeOrigin: (space: TypeSpace, index: UInt32)) {
        self.type = type
        self.typeOrigin = typeOrigin
    }
}

/// A function: exported by an instance, or defined by the host in Swift.
public struct Function {
    let handle: FunctionHandle

    init(handle: FunctionHandle) {
        self.handle = handle
    }

    /// A host function of `type`: `body` receives the caller (its memory, for
    /// WASI) and the arguments, and returns the results. The types of both are
    /// checked at each call from wasm.
    public init(type: FunctionType, _ body: @escaping (Caller, [Value]) throws -> [Value]) {
        handle = .host(HostFunction(type: type, body: body))
    }

    /// Its parameter and result types.
    public var type: FunctionType { handle.type }

    /// Calls it with untyped values; throws on a type mismatch, a trap or a host error.
    public func call(_ arguments: [Value]) throws -> [Value] {
        try InstanceEntity.call(callee, arguments, caller: Caller())
    }

    /// A typed wrapper of a function of any number of parameters and results,
    /// checked against its type once, here:
    ///
    ///     let add = try function.typed(parameters: Int32.self, Int32.self, results: Int32.self)
    ///     let five = try add(2, 3)                                   // Int32
    ///     let split = try other.typed(parameters: Int64.self, results: Int32.self, Double.self)
    ///     let (count, mean) = try split(1 << 40)                     // (Int32, Double)
    public func typed<each P: WasmValue, each R: WasmValue>(
        parameters: repeat (each P).Type, results: repeat (each R).Type
    ) throws -> (repeat each P) throws -> (repeat each R) {
        try check(valueTypes(repeat each parameters), valueTypes(repeat each results))
        let function = self
        return { (arguments: repeat each P) in
            var values: [Value] = []
            for argument in repeat each arguments { values.append(argument.value) }
            // As many results as the type checked above names, each of its type.
            var results = try function.call(values).makeIterator()
            return (repeat (each R)(results.next()!))
        }
    }

    private func check(_ parameters: [ValueType], _ results: [ValueType]) throws {
        guard type.parameters == parameters, type.results == results else {
            throw LinkError(message: "function type is \(type.parameters) -> \(type.results), not \(parameters) -> \(results)")
        }
    }
}

/// An exported (or imported) linear memory.
public struct Memory {
    /// The memory itself.
    package let storage: LinearMemory
    /// Its limits, as declared by the module that defined it or by the host.
    public let type: MemoryType

    package init(storage: LinearMemory, type: MemoryType) {
        self.storage = storage
        self.type = type
    }

    /// A new memory of `type`'s minimum size, for a module to import; nil when
    /// it cannot be allocated or its minimum exceeds its maximum or 65,536 pages
    /// (2^48 for a 64-bit memory).
    public init?(type: MemoryType) {
        let limit: UInt64 = type.isMemory64 ? 1 << 48 : 65536
        let maximum = min(type.max ?? limit, limit)
        guard type.min <= maximum,
              let storage = LinearMemory(pages: Int(type.min), maximumPages: Int(maximum), is64: type.isMemory64) else { return nil }
        self.init(storage: storage, type: type)
    }

    /// Its size in 64 KiB pages.
    public var pages: Int { storage.pages }

    /// Copies `count` bytes from `offset`; throws when the range is outside the memory.
    public func read(at offset: Int, count: Int) throws -> [UInt8] {
        try checkRange(offset, count)
        return Array(UnsafeRawBufferPointer(start: storage.base + offset, count: count))
    }

    /// Copies `bytes` to `offset`; throws when the range is outside the memory.
    public func write(_ bytes: [UInt8], at offset: Int) throws {
        try checkRange(offset, bytes.count)
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress, raw.count > 0 { (storage.base + offset).copyMemory(from: base, byteCount: raw.count) }
        }
    }

    /// Grows by `pages`; returns the old size in pages, or nil past the maximum.
    public func grow(by pages: Int) -> Int? { storage.grow(by: pages) }

    /// Runs `body` with the memory's bytes. The buffer is valid only inside `body`,
    /// and only until the memory grows.
    public func withUnsafeMutableBytes<T>(_ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeMutableRawBufferPointer(start: storage.base, count: storage.byteCount))
    }

    private func checkRange(_ offset: Int, _ count: Int) throws {
        guard offset >= 0, count >= 0, offset <= storage.byteCount - count else { throw Trap(code: .memoryOutOfBounds) }
    }
}

/// A global: exported by an instance, or made by the host for modules to import.
public struct Global {
    /// The global's storage, shared with every instance that imports it.
    let cell: GlobalCell

    init(cell: GlobalCell) {
        self.cell = cell
    }

    /// A new global of `type` holding `value`, for a module to import; throws
    /// when the value is not of the global's type.
    public init(type: GlobalType, value: Value) throws {
        guard value.matches(type.valueType) else { throw LinkError(message: "a global of \(type.valueType) cannot hold \(value)") }
        cell = GlobalCell(type: type, value: value)
    }

    /// Its value type and mutability.
    public var type: GlobalType { cell.type }

    /// Its current value.
    public var value: Value { cell.value }

    /// Sets a mutable global; throws for an immutable one or a value of the wrong type.
    public func set(_ value: Value) throws {
        guard cell.type.mutability == .variable else { throw LinkError(message: "global is immutable") }
        guard value.matches(cell.type.valueType) else { throw LinkError(message: "global holds \(cell.type.valueType), not \(value)") }
        cell.value = value
    }
}

/// An exported (or imported) table of references.
public struct Table {
    /// The table itself.
    package let storage: FunctionTable
    /// The table's element type and limits.
    public let type: TableType
    /// What the type indices in `type` name (nil: the host made it; see `GlobalCell.typeSpace`).
    let typeSpace: TypeSpace?

    /// The most entries any table may have: a module declaring more is refused
    /// at instantiation, and `table.grow` past it returns -1 (as Wasmtime's under
    /// a `StoreLimits` of `table_elements` this size).
    public static var elementLimit: Int { FunctionTable.elementLimit }

    package init(storage: FunctionTable, type: TableType) {
        self.init(storage: storage, type: type, typeSpace: nil)
    }

    init(storage: FunctionTable, type: TableType, typeSpace: TypeSpace?) {
        self.storage = storage
        self.type = type
        self.typeSpace = typeSpace
    }

    /// A new table of `type`'s minimum size, every entry null, for a module to
    /// import; nil when the minimum exceeds the maximum or
    /// ``elementLimit`` entries.
    public init?(type: TableType) {
        let limit = type.limits.isMemory64 ? UInt64(Int.max) : UInt64(UInt32.max)
        let maximum = min(type.limits.max ?? limit, limit)
        guard type.limits.min <= maximum, type.limits.min <= FunctionTable.elementLimit else { return nil }
        self.init(storage: FunctionTable(count: Int(type.limits.min), maximum: Int(maximum), is64: type.limits.isMemory64), type: type)
    }

    /// How many entries it has.
    public var count: Int { storage.count }

    /// Whether entry `index` is null; throws past the end.
    public func isNull(at index: Int) throws -> Bool {
        guard index >= 0, index < storage.count else { throw Trap(code: .tableAccessOutOfBounds) }
        return storage[index] == 0
    }

    /// Grows by `count` null entries; returns the old size, or nil past the maximum.
    public func grow(by count: Int) -> Int? { storage.grow(by: count, value: 0) }
}

extension Instance {
    /// The exported function `name`.
    public func function(_ name: String) -> Function? {
        guard case .function(let function)? = export(name) else { return nil }
        return function
    }

    /// The exported exception tag `name`.
    public func tag(_ name: String) -> Tag? {
        guard case .tag(let tag)? = export(name) else { return nil }
        return tag
    }

    /// The exported memory `name`.
    public func memory(_ name: String) -> Memory? {
        guard case .memory(let memory)? = export(name) else { return nil }
        return memory
    }

    /// The exported global `name`.
    public func global(_ name: String) -> Global? {
        guard case .global(let global)? = export(name) else { return nil }
        return global
    }

    /// The exported table `name`.
    public func table(_ name: String) -> Table? {
        guard case .table(let table)? = export(name) else { return nil }
        return table
    }
}

/// A function: exported by an instance, or defined by the host.
enum FunctionHandle {
    /// Function `index` of an instance.
    case wasm(Instance, index: Int)
    /// A function the host defines in Swift.
    case host(HostFunction)

    /// The function's parameter and result types.
    var type: FunctionType {
        switch self {
        case .wasm(let instance, let index): return instance.module.info.functionType(index)
        case .host(let host): return host.type
        }
    }
}

/// A global's storage: one cell, shared by exporter and importers. Every cell
/// is 16 bytes, room for a v128, so that no global op the interpreter runs can
/// reach past a cell, whatever the bytecode says.
final class GlobalCell {
    /// The global's value type and mutability.
    let type: GlobalType
    /// What the type indices in `type` name: the types of the module that defined
    /// the global (nil: the host made it, and its indices are compared as they are).
    let typeSpace: TypeSpace?
    let cell: UnsafeMutablePointer<UInt64>

    /// A global of `type` holding `value`, whose type indices are `typeSpace`'s.
    init(type: GlobalType, value: Value, typeSpace: TypeSpace? = nil) {
        self.type = type
        self.typeSpace = typeSpace
        cell = .allocate(capacity: 2)
        cell.initialize(repeating: 0, count: 2)
        self.value = value
    }

    deinit { cell.deallocate() }

    /// The global's current value.
    var value: Value {
        get { Value.decode(UnsafeBufferPointer(start: cell, count: 2), as: [type.valueType])[0] }
        set {
            let slots = newValue.slots
            for (i, slot) in slots.enumerated() { cell[i] = slot }
        }
    }
}

/// A module's types as a store knows them (an instance's): the canonical id and
/// the kind of each type index. An exported global's or table's type names its
/// module's types; an importer compares them with its own through this.
final class TypeSpace: @unchecked Sendable {  // immutable: every property is set once, at init
    /// The store the ids are of.
    weak let store: Store?
    let ids: [UInt32]
    let kinds: [HeapKind]

    init(store: Store, ids: [UInt32], kinds: [HeapKind]) {
        self.store = store
        self.ids = ids
        self.kinds = kinds
    }

    /// Whether `a`, a type in this space, lies below `b`, a type in `other`'s, in
    /// `store`; two spaces of other stores, or a host's (nil), compare type indices as they are.
    static func isSubtype(_ a: ValueType, in space: TypeSpace?, of b: ValueType, in other: TypeSpace?, store: Store) -> Bool {
        guard let space, let other, space.store === store, other.store === store else {
            return a.isSubtype(of: b, concrete: ==)
        }
        return a.isSubtype(of: b, concrete: { i, j in
            Int(i) < space.ids.count && Int(j) < other.ids.count && store.vm.types.isSubtype(space.ids[Int(i)], of: other.ids[Int(j)])
        }, kind: { Int($0) < space.kinds.count ? space.kinds[Int($0)] : .function },
           otherKind: { Int($0) < other.kinds.count ? other.kinds[Int($0)] : .function })
    }
}
