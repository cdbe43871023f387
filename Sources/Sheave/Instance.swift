import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter
import WasmParser
import WasmTypes

/// An instantiated module: its code, memory, globals and resolved imports.
public final class Instance {
    public let module: CompiledModule
    let store: Store
    let code: CodeImage
    /// Imported functions, by function index.
    let importedFunctions: [FunctionHandle]
    public let memory: LinearMemory?
    let memoryType: MemoryType?
    /// Every global, imported ones first.
    let globals: [GlobalCell]

    /// Instantiates `module`: resolves `imports` (module name → field name → extern),
    /// initializes globals and data, and runs the start function.
    /// Throws `LinkError` for a bad import, `Trap` for a trap while initializing.
    public init(module: CompiledModule, store: Store, imports: [String: [String: Extern]]) throws {
        self.module = module
        self.store = store
        let info = module.info
        code = CodeImage(module.code)

        var functions: [FunctionHandle] = []
        var memory: LinearMemory?
        var memoryType: MemoryType?
        var globals: [GlobalCell] = []
        for entry in info.imports {
            guard let extern = imports[entry.module]?[entry.name] else {
                throw LinkError(message: "unknown import \(entry.module).\(entry.name)")
            }
            switch (entry.descriptor, extern) {
            case (.function(let typeIndex), .function(let handle)):
                guard handle.type == info.types[Int(typeIndex)] else {
                    throw LinkError(message: "incompatible import type for \(entry.module).\(entry.name)")
                }
                functions.append(handle)
            case (.memory(let wanted), .memory(let given, let givenType)):
                let current = UInt64(given.pages)
                guard current >= wanted.min, Self.maximum(givenType.max, fits: wanted.max) else {
                    throw LinkError(message: "incompatible import type for \(entry.module).\(entry.name)")
                }
                memory = given
                memoryType = givenType
            case (.global(let wanted), .global(let cell)):
                guard cell.type == wanted else {
                    throw LinkError(message: "incompatible import type for \(entry.module).\(entry.name)")
                }
                globals.append(cell)
            case (.table, _):
                throw LinkError(message: "unsupported: tables are not supported yet")
            default:
                throw LinkError(message: "incompatible import type for \(entry.module).\(entry.name)")
            }
        }
        guard info.tables.isEmpty, info.elements.isEmpty else {
            throw LinkError(message: "unsupported: tables are not supported yet")
        }
        if memory == nil, let defined = info.memories.first {
            let maximum = Int(defined.max ?? 65536)
            guard let created = LinearMemory(pages: Int(defined.min), maximumPages: maximum) else {
                throw LinkError(message: "cannot allocate \(defined.min) pages of memory")
            }
            memory = created
            memoryType = defined
        }
        self.importedFunctions = functions
        self.memory = memory
        self.memoryType = memoryType

        // Defined globals, in order: each initializer may read imported globals.
        for (i, initializer) in info.globalInitializers.enumerated() {
            let type = info.globals[info.importedGlobalCount + i]
            let value = try Self.evaluate(initializer, type: type.valueType, globals: globals)
            globals.append(GlobalCell(type: type, value: value))
        }
        self.globals = globals

        // Active data segments, in order; the first out of bounds traps, earlier writes stay.
        for segment in info.data {
            guard case .active(let active) = segment else { continue }
            guard let memory else { throw LinkError(message: "unknown memory") }
            let offset = try Self.evaluate(active.offset, type: .i32, globals: globals)
            let start = Int(UInt32(truncatingIfNeeded: offset.bits))
            let bytes = active.initializer
            guard start + bytes.count <= memory.byteCount else { throw Trap(code: .memoryOutOfBounds) }
            bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress, raw.count > 0 {
                    (memory.base + start).copyMemory(from: base, byteCount: raw.count)
                }
            }
        }

        if let start = info.start {
            _ = try call(function: Int(start), arguments: [])
        }
    }

    static func maximum(_ given: UInt64?, fits wanted: UInt64?) -> Bool {
        guard let wanted else { return true }
        guard let given else { return false }
        return given <= wanted
    }

    /// Evaluates a constant expression.
    static func evaluate(_ expression: ConstExpression, type: ValueType, globals: [GlobalCell]) throws -> Value {
        var stack: [Value] = []
        for instruction in expression {
            switch instruction {
            case .i32Const(let v): stack.append(.i32(UInt32(bitPattern: v)))
            case .i64Const(let v): stack.append(.i64(UInt64(bitPattern: v)))
            case .f32Const(let v): stack.append(.f32(v.bitPattern))
            case .f64Const(let v): stack.append(.f64(v.bitPattern))
            case .globalGet(let index):
                guard Int(index) < globals.count else { throw LinkError(message: "unknown global \(index)") }
                stack.append(globals[Int(index)].value)
            case .refNull: stack.append(.ref(0))
            case .binary(let op):
                guard stack.count >= 2 else { throw LinkError(message: "type mismatch in constant expression") }
                let b = stack.removeLast().bits, a = stack.removeLast().bits
                switch op {
                case .i32Add: stack.append(.i32(UInt32(truncatingIfNeeded: a &+ b)))
                case .i32Sub: stack.append(.i32(UInt32(truncatingIfNeeded: a &- b)))
                case .i32Mul: stack.append(.i32(UInt32(truncatingIfNeeded: a &* b)))
                case .i64Add: stack.append(.i64(a &+ b))
                case .i64Sub: stack.append(.i64(a &- b))
                case .i64Mul: stack.append(.i64(a &* b))
                default: throw LinkError(message: "constant expression required")
                }
            case .end: break
            default: throw LinkError(message: "constant expression required")
            }
        }
        guard stack.count == 1, let value = stack.first else { throw LinkError(message: "type mismatch in constant expression") }
        return value
    }

    // MARK: Exports and calls

    /// The export named `name`.
    public func export(_ name: String) -> Extern? {
        guard let export = module.info.exports.first(where: { $0.name == name }) else { return nil }
        switch export.descriptor {
        case .function(let index): return .function(functionHandle(Int(index)))
        case .memory: return memory.map { .memory($0, memoryType!) }
        case .global(let index): return .global(globals[Int(index)])
        default: return nil
        }
    }

    func functionHandle(_ index: Int) -> FunctionHandle {
        index < importedFunctions.count ? importedFunctions[index] : .wasm(self, index: index)
    }

    /// Calls the exported function `name`.
    public func invoke(_ name: String, _ arguments: [Value]) throws -> [Value] {
        guard case .function(let handle)? = export(name) else { throw LinkError(message: "unknown export \(name)") }
        return try Self.call(handle, arguments)
    }

    static func call(_ handle: FunctionHandle, _ arguments: [Value]) throws -> [Value] {
        switch handle {
        case .host(let host): return try host.body(arguments)
        case .wasm(let instance, let index): return try instance.call(function: index, arguments: arguments)
        }
    }

    /// Runs function `index` of this instance on the store's VM, switching the VM
    /// to this instance's memory and globals for the call and back afterwards.
    func call(function index: Int, arguments: [Value]) throws -> [Value] {
        if index < importedFunctions.count { return try Self.call(importedFunctions[index], arguments) }
        let type = module.info.functionType(index)
        let vm = store.vm
        let savedMemory = vm.memory, savedGlobals = vm.globals
        vm.memory = memory
        vm.globals = globals.map(\.cell)
        defer {
            vm.memory = savedMemory
            vm.globals = savedGlobals
        }
        let entry = code.address(at: module.functionOffsets[index - module.info.importedFunctionCount])
        do {
            let results = try vm.invoke(entry, arguments: arguments.map(\.bits), resultCount: type.results.count) { id, vm in
                try self.callImport(Int(id), vm)
            }
            return zip(results, type.results).map { Value(bits: $0, type: $1) }
        } catch let trap as VMTrap {
            throw Trap(code: trap.code)
        }
    }

    /// Answers a `call_host`: imported function `index`, arguments in the VM's host slots.
    private func callImport(_ index: Int, _ vm: VM) throws {
        let handle = importedFunctions[index]
        let type = handle.type
        let slots = vm.hostSlots
        let arguments = type.parameters.enumerated().map { Value(bits: slots[$0.offset], type: $0.element) }
        let results = try Self.call(handle, arguments)
        guard results.count == type.results.count else { throw LinkError(message: "host function returned \(results.count) values") }
        let out = vm.hostSlots
        for (i, value) in results.enumerated() { out[i] = value.bits }
    }
}
