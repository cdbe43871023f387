import Atomics
import SheaveCompiler
import SheaveInterpreter
import WAT
import WasmParser
import WasmTypes

/// Compiles and runs WebAssembly with one configuration.
///
///     let engine = Engine()
///     let module = try Module(engine: engine, wat: "(module (func (export \"answer\") (result i32) (i32.const 42)))")
///     let store = Store(engine: engine)
///     let instance = try Linker().instantiate(module, in: store)
///     let answer = try instance.function("answer")!.typed(Int32.self)
///     print(try answer())  // 42
public final class Engine: Sendable {
    /// How stores of this engine run code, and so how modules are compiled for them.
    public let configuration: Store.Configuration

    /// An engine whose stores run code as `configuration` says.
    public init(configuration: Store.Configuration = Store.Configuration()) {
        self.configuration = configuration
    }
}

extension Store {
    /// A store running code as `engine` configures it.
    public convenience init(engine: Engine) {
        self.init(configuration: engine.configuration)
    }
}

/// A WebAssembly module, validated and compiled for an engine.
public struct Module {
    /// The compiled form: the bytecode and what instantiation needs.
    package let compiled: CompiledModule
    /// The code image (the bytecode with each op's handler in front of it and the
    /// accumulator forms chosen), built by the first instantiation and shared by
    /// every instance after it: it depends on the module alone. Copies of a
    /// `Module` share it; threads that instantiate at once may each build one,
    /// and all but the first stored are dropped.
    private let image = ManagedAtomicLazyReference<CodeImage>()

    /// The module's code image, built on the first call.
    var codeImage: CodeImage {
        if let image = image.load() { return image }
        return image.storeIfNilThenLoad(CodeImage(compiled.code))
    }

    /// A module of `compiled`, with an image of its own.
    init(compiled: CompiledModule) {
        self.compiled = compiled
    }

    /// Decodes, validates and compiles a binary module for the engine's target
    /// (any target compiles; only the host's instantiates).
    public init(engine: Engine, bytes: [UInt8]) throws {
        compiled = try CompiledModule(bytes: bytes, options: engine.configuration.compileOptions)
    }

    /// Loads a compiled artifact (`serialize()`, `sheave compile`) without recompiling.
    /// It must be for the engine's target, and compiled with checkpoints when the
    /// engine meters fuel or is interruptible.
    ///
    /// - Throws: `ArtifactError` for a file of another target or format version,
    ///   a truncated or damaged file, or bytecode that fails verification.
    public init(engine: Engine, deserializing bytes: [UInt8]) throws {
        compiled = try CompiledModule(deserializing: bytes, target: engine.configuration.target)
        if engine.configuration.compileOptions.checkpoints && !compiled.options.checkpoints {
            throw LinkError(message: "the engine meters fuel or is interruptible, but the artifact was compiled without checkpoints")
        }
    }

    /// The module as an artifact (a `.cwasm` file) for `Module(engine:deserializing:)`.
    public func serialize() -> [UInt8] { compiled.serialized() }

    /// Compiles a module in the text format.
    public init(engine: Engine, wat: String) throws {
        try self.init(engine: engine, bytes: try wat2wasm(wat, options: EncodeOptions(nameSection: true)))
    }

    /// What the module imports: module name, field name, and kind.
    public var imports: [(module: String, name: String)] {
        compiled.info.imports.map { ($0.module, $0.name) }
    }

    /// The names the module exports.
    public var exports: [String] { compiled.info.exports.map(\.name) }
}

/// A module may be shared between threads: it does not change once made, but for
/// its code image, which is stored once, atomically.
extension Module: @unchecked Sendable {}

/// Names host functions, memories, tables, globals and other instances' exports
/// for modules to import, then instantiates modules against them.
public struct Linker {
    /// What has been defined: module name → field name → extern.
    public private(set) var definitions: [String: [String: Extern]] = [:]

    /// A linker with nothing defined.
    public init() {}

    /// Defines `extern` as `module`.`name`.
    public mutating func define(_ module: String, _ name: String, _ extern: Extern) {
        definitions[module, default: [:]][name] = extern
    }

    /// Defines every export of `instance` under the module name `module`.
    public mutating func define(_ module: String, instance: Instance) {
        for name in instance.module.info.exports.map(\.name) {
            if let extern = instance.export(name) { define(module, name, extern) }
        }
    }

    /// Defines a host function with untyped values.
    public mutating func defineFunction(_ module: String, _ name: String, parameters: [ValueType], results: [ValueType],
                                        _ body: @escaping (Caller, [Value]) throws -> [Value]) {
        define(module, name, .function(.host(HostFunction(type: FunctionType(parameters: parameters, results: results), body: body))))
    }

    /// Instantiates `module` in `store`, resolving its imports from the definitions.
    public func instantiate(_ module: Module, in store: Store) throws -> Instance {
        try Instance(module: module, store: store, imports: definitions)
    }
}

// MARK: Typed host functions

extension Linker {
    /// Defines a host function taking no argument.
    public mutating func defineFunction<R: WasmValue>(_ module: String, _ name: String, _ body: @escaping () throws -> R) {
        defineFunction(module, name, parameters: [], results: [R.valueType]) { _, _ in [try body().value] }
    }

    /// Defines a host function taking one argument.
    public mutating func defineFunction<A: WasmValue, R: WasmValue>(_ module: String, _ name: String, _ body: @escaping (A) throws -> R) {
        defineFunction(module, name, parameters: [A.valueType], results: [R.valueType]) { _, args in
            [try body(A(args[0])).value]
        }
    }

    /// Defines a host function taking two arguments.
    public mutating func defineFunction<A: WasmValue, B: WasmValue, R: WasmValue>(_ module: String, _ name: String, _ body: @escaping (A, B) throws -> R) {
        defineFunction(module, name, parameters: [A.valueType, B.valueType], results: [R.valueType]) { _, args in
            [try body(A(args[0]), B(args[1])).value]
        }
    }

    /// Defines a host function taking one argument and returning nothing.
    public mutating func defineFunction<A: WasmValue>(_ module: String, _ name: String, _ body: @escaping (A) throws -> Void) {
        defineFunction(module, name, parameters: [A.valueType], results: []) { _, args in
            try body(A(args[0]))
            return []
        }
    }
}

/// A Swift type that stands for a WebAssembly value type.
public protocol WasmValue {
    static var valueType: ValueType { get }
    /// The value, from a `Value` of `valueType` (the runtime checks types first).
    init(_ value: Value)
    var value: Value { get }
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

// MARK: Exports

/// An exported function.
public struct Function {
    let handle: FunctionHandle

    /// Its parameter and result types.
    public var type: FunctionType { handle.type }

    /// Calls it with untyped values; throws on a type mismatch, a trap or a host error.
    public func call(_ arguments: [Value]) throws -> [Value] {
        try InstanceEntity.call(handle.callee, arguments, caller: Caller(memory: nil))
    }

    /// A typed wrapper of a function of type [] -> [R].
    public func typed<R: WasmValue>(_: R.Type) throws -> () throws -> R {
        try check([], [R.valueType])
        return { R(try call([])[0]) }
    }

    /// A typed wrapper of a function of type [A] -> [R].
    public func typed<A: WasmValue, R: WasmValue>(_: A.Type, _: R.Type) throws -> (A) throws -> R {
        try check([A.valueType], [R.valueType])
        return { a in R(try call([a.value])[0]) }
    }

    /// A typed wrapper of a function of type [A, B] -> [R].
    public func typed<A: WasmValue, B: WasmValue, R: WasmValue>(_: A.Type, _: B.Type, _: R.Type) throws -> (A, B) throws -> R {
        try check([A.valueType, B.valueType], [R.valueType])
        return { a, b in R(try call([a.value, b.value])[0]) }
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
    /// it cannot be allocated or its minimum exceeds its maximum or 65,536 pages.
    public init?(type: MemoryType) {
        let maximum = min(type.max ?? 65536, 65536)
        guard type.min <= maximum, let storage = LinearMemory(pages: Int(type.min), maximumPages: Int(maximum)) else { return nil }
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

/// An exported global.
public struct Global {
    /// The global's storage, shared with every instance that imports it.
    package let cell: GlobalCell

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

    package init(storage: FunctionTable, type: TableType) {
        self.storage = storage
        self.type = type
    }

    /// A new table of `type`'s minimum size, every entry null, for a module to
    /// import; nil when the minimum exceeds the maximum or ten million entries.
    public init?(type: TableType) {
        let maximum = min(type.limits.max ?? UInt64(UInt32.max), UInt64(UInt32.max))
        guard type.limits.min <= maximum, type.limits.min <= 10_000_000 else { return nil }
        self.init(storage: FunctionTable(count: Int(type.limits.min), maximum: Int(maximum)), type: type)
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
        guard case .function(let handle)? = export(name) else { return nil }
        return Function(handle: handle)
    }

    /// The exported memory `name`.
    public func memory(_ name: String) -> Memory? {
        guard case .memory(let memory)? = export(name) else { return nil }
        return memory
    }

    /// The exported global `name`.
    public func global(_ name: String) -> Global? {
        guard case .global(let cell)? = export(name) else { return nil }
        return Global(cell: cell)
    }

    /// The exported table `name`.
    public func table(_ name: String) -> Table? {
        guard case .table(let table)? = export(name) else { return nil }
        return table
    }
}
