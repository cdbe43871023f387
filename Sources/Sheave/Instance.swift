import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter
import WasmParser
import WasmTypes

/// An instantiated module, as the embedder holds it. A handle keeps its store
/// alive; the store owns the instance itself (`InstanceEntity`), which refers
/// back to the store without owning it. So nothing is a cycle: when the last
/// handle and the last reference to the store go, the store, its instances,
/// their memories and the VM's stack are freed (before, every instance and its
/// store kept each other alive for ever).
public final class Instance {
    /// The store, kept alive by every handle to one of its instances.
    let store: Store
    let entity: InstanceEntity

    init(_ entity: InstanceEntity) {
        self.entity = entity
        self.store = entity.store
    }

    /// Instantiates `module` (resolving `imports`: module name → field name →
    /// extern), building a code image for this instance alone: `Linker.instantiate`
    /// shares one `Module`'s image between its instances.
    package convenience init(module: CompiledModule, store: Store, imports: [String: [String: Extern]]) throws {
        try self.init(module: Module(compiled: module), store: store, imports: imports)
    }

    /// Instantiates `module`, with the code image every instance of it shares.
    convenience init(module: Module, store: Store, imports: [String: [String: Extern]]) throws {
        self.init(try InstanceEntity(module: module, store: store, imports: imports))
    }

    /// The module this instance was made from.
    package var module: CompiledModule { entity.module }
    /// The instance's memory (defined or imported), if it has one.
    package var memory: LinearMemory? { entity.memory }

    /// The export named `name`.
    public func export(_ name: String) -> Extern? { entity.export(name) }

    /// Calls the exported function `name`.
    public func invoke(_ name: String, _ arguments: [Value]) throws -> [Value] { try entity.invoke(name, arguments) }

    /// The offset in `module.code` of a bytecode address (a profiler sample), or
    /// nil when it lies outside this instance's code.
    package func codeOffset(of address: UInt) -> Int? { entity.codeOffset(of: address) }

    /// Which code image the instance runs: the same for every instance of one
    /// `Module` (a hook for tests, not part of the API).
    @_spi(Testing) public var codeImageIdentity: ObjectIdentifier { entity.code.identity }
}

/// A function as instances and the store hold it: an instance by its entity,
/// never by a handle, which would keep the store alive from inside it.
enum Callee {
    case wasm(InstanceEntity, index: Int)
    case host(HostFunction)

    /// The function's parameter and result types.
    var type: FunctionType {
        switch self {
        case .wasm(let instance, let index): return instance.module.info.functionType(index)
        case .host(let host): return host.type
        }
    }

    /// The function as the embedder sees it: a new handle keeps the store alive.
    var function: Function {
        switch self {
        case .wasm(let instance, let index): return Function(handle: .wasm(Instance(instance), index: index))
        case .host(let host): return Function(handle: .host(host))
        }
    }
}

extension Function {
    /// The function as instances and the store hold it.
    var callee: Callee {
        switch handle {
        case .wasm(let instance, let index): return .wasm(instance.entity, index: index)
        case .host(let host): return .host(host)
        }
    }
}

/// An instantiated module: its code, memory, tables, globals and resolved
/// imports. Owned by its store (`Store.instances`); it refers to the store
/// without owning it, and is reached from the API through `Instance` handles.
final class InstanceEntity {
    /// The module this instance was made from.
    let module: CompiledModule
    /// The store that owns this instance: alive whenever the instance runs or is
    /// reached (through a handle, or the store itself).
    unowned let store: Store
    /// The module's code image, or its functions compiled lazily, as this instance runs them.
    let code: InstanceCode
    /// Imported functions, by function index.
    let importedFunctions: [Callee]
    /// The instance's memories (imported ones first), and memory 0, if it has one.
    let memories: [LinearMemory]
    let memoryTypes: [MemoryType]
    var memory: LinearMemory? { memories.first }
    /// Memory `index` as the public API hands it out (exports; `Caller.memory` is memory 0).
    func apiMemory(_ index: Int = 0) -> Memory? {
        index < memories.count ? Memory(storage: memories[index], type: memoryTypes[index]) : nil
    }
    let tables: [FunctionTable]
    let tableTypes: [TableType]
    /// The instance's exception tags, imported ones first.
    let tags: [Tag]
    /// Every global, imported ones first.
    private(set) var globals: [GlobalCell] = []
    /// The reference value of every function (`ref.func`), imported ones first.
    private(set) var functionRefs: [UInt64] = []
    /// The store's canonical id and the kind of each of the module's types, by type
    /// index: what this module's exported globals, tables and tags name.
    let typeSpace: TypeSpace
    /// The store's canonical id of each of the module's types, by type index.
    var typeIDs: [UInt32] { typeSpace.ids }
    /// Each table's `TypeSpace`: an imported table's exporter's, this instance's for the others.
    let tableTypeSpaces: [TypeSpace?]
    private(set) var context: ExecutionContext!

    /// Instantiates `shared`: resolves `imports` (module name → field name → extern),
    /// initializes globals, tables and memory, and runs the start function, with
    /// the code image every instance of the module shares. Throws `LinkError` for
    /// a bad import (a function of another store among them), `Trap` for a trap
    /// while initializing.
    init(module shared: Module, store: Store, imports: [String: [String: Extern]]) throws {
        let module = shared.compiled
        self.module = module
        self.store = store
        let info = module.info
        guard module.options.target == .host else {
            throw LinkError(message: "the module was compiled for \(module.options.target.rawValue), but this machine runs \(Target.host.rawValue)")
        }
        if store.config.compileOptions.checkpoints && !module.options.checkpoints {
            throw LinkError(message: "the store meters fuel or can be interrupted, but the module was compiled without checkpoints (CompileOptions(checkpoints: true); for an artifact, `sheave compile --checkpoints`)")
        }
        code = shared.instanceCode()
        let typeIDs = store.typeIDs(info.definedTypes)
        let typeSpace = TypeSpace(store: store, ids: typeIDs, kinds: info.definedTypes.map(\.kind))
        self.typeSpace = typeSpace
        var tableTypeSpaces: [TypeSpace?] = []

        var functions: [Callee] = []
        var memories: [LinearMemory] = []
        var memoryTypes: [MemoryType] = []
        var tables: [FunctionTable] = []
        var tableTypes: [TableType] = []
        var globals: [GlobalCell] = []
        var tags: [Tag] = []
        for entry in info.imports {
            guard let extern = imports[entry.module]?[entry.name] else {
                throw LinkError(message: "unknown import \(entry.module).\(entry.name)")
            }
            let incompatible = LinkError(message: "incompatible import type for \(entry.module).\(entry.name)")
            switch (entry.descriptor, extern) {
            case (.function(let typeIndex), .function(let function)):
                if case .wasm(let exporter, _) = function.handle, exporter.store !== store {
                    throw LinkError(message: "\(entry.module).\(entry.name) is a function of another store")
                }
                // The function's type must be the import's or a subtype of it.
                guard store.vm.types.isSubtype(store.typeID(of: function.callee), of: typeIDs[Int(typeIndex)]) else { throw incompatible }
                functions.append(function.callee)
            case (.memory(let wanted), .memory(let import_)):
                let (given, givenType) = (import_.storage, import_.type)
                guard givenType.isMemory64 == wanted.isMemory64, UInt64(given.pages) >= wanted.min,
                      Self.maximum(givenType.max, fits: wanted.max) else { throw incompatible }
                memories.append(given)
                memoryTypes.append(givenType)
            case (.table(let wanted), .table(let import_)):
                let (given, givenType) = (import_.storage, import_.type)
                // Element types match exactly: each below the other.
                let (element, wantedElement) = (ValueType.ref(givenType.elementType), ValueType.ref(wanted.elementType))
                guard TypeSpace.isSubtype(element, in: import_.typeSpace, of: wantedElement, in: typeSpace, store: store),
                      TypeSpace.isSubtype(wantedElement, in: typeSpace, of: element, in: import_.typeSpace, store: store),
                      givenType.limits.isMemory64 == wanted.limits.isMemory64,
                      UInt64(given.count) >= wanted.limits.min,
                      Self.maximum(givenType.limits.max, fits: wanted.limits.max) else { throw incompatible }
                tables.append(given)
                tableTypes.append(givenType)
                tableTypeSpaces.append(import_.typeSpace)
            case (.global(let wanted), .global(let global)):
                let cell = global.cell
                // An immutable global may be imported at a supertype; a mutable one only at its own type.
                let (given, expected) = (cell.type.valueType, wanted.valueType)
                let matches = cell.type.mutability == wanted.mutability
                    && TypeSpace.isSubtype(given, in: cell.typeSpace, of: expected, in: typeSpace, store: store)
                    && (wanted.mutability == .constant || TypeSpace.isSubtype(expected, in: typeSpace, of: given, in: cell.typeSpace, store: store))
                guard matches else { throw incompatible }
                globals.append(cell)
            case (.tag(let typeIndex), .tag(let tag)):
                // Tag types match exactly: the same canonical type (a host's tag has a plain function type).
                let given = tag.typeOrigin.flatMap { $0.space.store === store ? $0.space.ids[Int($0.index)] : nil } ?? store.signatureID(tag.type)
                guard tag.type == info.types[Int(typeIndex)], given == typeIDs[Int(typeIndex)] else { throw incompatible }
                tags.append(tag)
            default:
                throw incompatible
            }
        }
        for defined in info.memories[info.importedMemoryCount...] {
            let limit = store.config.maximumMemoryPages
            guard defined.min <= UInt64(limit) else {
                throw LinkError(message: "a memory of \(defined.min) pages exceeds the store's limit of \(limit) pages")
            }
            // A 32-bit memory never passes 65,536 pages (4 GiB), whatever the store allows.
            let maximumPages = Int(clamping: min(defined.max ?? (defined.isMemory64 ? UInt64(limit) : 65536), UInt64(limit)))
            // In bytes, saturating: a store may allow 2^48 pages, which no Int holds as bytes.
            func bytes(_ pages: Int) -> Int {
                let (product, overflow) = pages.multipliedReportingOverflow(by: LinearMemory.pageSize)
                return overflow ? .max : product
            }
            guard store.limits.memoryGrowing(0, bytes(Int(defined.min)), maximum: bytes(maximumPages),
                                             declared: defined.max != nil) else {
                throw LinkError(message: "the store's resource limiter refused a memory of \(defined.min) pages")
            }
            guard let created = LinearMemory(pages: Int(defined.min), maximumPages: maximumPages, is64: defined.isMemory64) else {
                throw LinkError(message: "cannot allocate \(defined.min) pages of memory")
            }
            store.limits.watch(created, declared: defined.max != nil)
            memories.append(created)
            memoryTypes.append(defined)
        }
        for type in info.tables[info.importedTableCount...] {
            guard type.limits.min <= FunctionTable.elementLimit else {
                throw LinkError(message: "a table of \(type.limits.min) entries is more than Sheave's limit of \(FunctionTable.elementLimit)")
            }
            // Validated: a 32-bit table's maximum is at most 2^32-1; a 64-bit one's, any.
            let maximum = Int(clamping: type.limits.max ?? (type.limits.isMemory64 ? UInt64(Int.max) : UInt64(UInt32.max)))
            guard store.limits.tableGrowing(0, Int(type.limits.min), maximum: maximum, declared: type.limits.max != nil) else {
                throw LinkError(message: "the store's resource limiter refused a table of \(type.limits.min) entries")
            }
            let table = FunctionTable(count: Int(type.limits.min), maximum: maximum, is64: type.limits.isMemory64)
            store.limits.watch(table, declared: type.limits.max != nil)
            tables.append(table)
            tableTypes.append(type)
            tableTypeSpaces.append(typeSpace)
        }
        self.tableTypeSpaces = tableTypeSpaces
        self.importedFunctions = functions
        self.memories = memories
        self.memoryTypes = memoryTypes
        // Defined tags: each a new identity, per instance (instantiation is generative).
        self.tags = tags + info.tags[info.importedTagCount...].map {
            Tag(validated: info.types[Int($0)], typeOrigin: (typeSpace, $0))
        }
        self.tables = tables
        self.tableTypes = tableTypes

        // Function references: imported functions keep their exporter's.
        var ownRefs: [UInt64] = []
        for handle in functions {
            if case .wasm(let exporter, let j) = handle {
                functionRefs.append(exporter.functionRefs[j])
            } else {
                functionRefs.append(store.makeFunctionRef(handle, code: nil))
            }
        }
        // The store owns the instance from the moment its functions can be referenced.
        store.instances.append(self)
        for i in info.importedFunctionCount..<info.functionTypes.count {
            // A lazily compiled function no instance has called yet starts as a stub,
            // where a call stops for the host to compile it (`compileCallee`).
            let entry = code.referenceEntry(of: i - info.importedFunctionCount)
            let ref = store.makeFunctionRef(.wasm(self, index: i), code: entry, signature: typeIDs[Int(info.functionTypes[i])])
            ownRefs.append(ref)
            functionRefs.append(ref)
        }

        // Defined globals, in order: each initializer may read the globals before it and name functions.
        for (i, initializer) in info.globalInitializers.enumerated() {
            let type = info.globals[info.importedGlobalCount + i]
            let value = try evaluate(initializer, type: type.valueType, globals: globals)
            globals.append(GlobalCell(type: type, value: value, typeSpace: typeSpace))
        }
        self.globals = globals

        // Defined tables' initializers (which read imported globals only).
        for (i, initializer) in info.tableInitializers.enumerated() {
            guard let initializer else { continue }
            let type = info.tables[info.importedTableCount + i]
            tables[info.importedTableCount + i].fill(try evaluate(initializer, type: .ref(type.elementType), globals: globals).bits)
        }

        // Element segments' references, then the context the code runs in.
        var elements: [[UInt64]] = []
        for segment in info.elements {
            elements.append(try segment.initializer.map { try evaluate($0, type: .ref(segment.type), globals: globals).bits })
        }
        // An active segment is copied into memory below and dropped at once: the context
        // keeps copies of the passive ones only (a program's megabytes of data were copied twice).
        let data = info.data.map { segment -> [UInt8] in
            if case .active = segment.mode { return [] }
            return segment.bytes
        }
        let context = ExecutionContext(
            memories: memories, globals: globals.map(\.cell), tables: tables,
            signatures: typeIDs,
            functionRefCount: functionRefs.count, elements: elements, data: data)
        context.code = code
        context.tags = self.tags
        for (i, ref) in functionRefs.enumerated() { context.setFunctionRef(i, ref) }
        for ref in ownRefs { store.vm.setContext(context, of: ref) }
        self.context = context

        // Active element segments, then active data segments, in order; the first
        // out of bounds traps, and what earlier segments wrote stays. Active and
        // declarative segments are dropped once applied.
        for (i, segment) in info.elements.enumerated() {
            switch segment.mode {
            case .active(let tableIndex, let offsetExpression):
                let table = tables[Int(tableIndex)]
                let bits = try evaluate(offsetExpression, type: table.is64 ? .i64 : .i32, globals: globals).bits
                let refs = elements[i]
                guard bits <= UInt64(table.count), refs.count <= table.count - Int(bits) else { throw Trap(code: .tableAccessOutOfBounds) }
                let offset = Int(bits)
                for (k, ref) in refs.enumerated() { table[offset + k] = ref }
                context.dropElementSegment(i)
            case .declarative:
                context.dropElementSegment(i)
            case .passive:
                break
            }
        }
        for (i, segment) in info.data.enumerated() {
            guard case .active(let index, let offset) = segment.mode else { continue }
            guard Int(index) < memories.count else { throw LinkError(message: "unknown memory \(index)") }
            let memory = memories[Int(index)]
            let bits = try evaluate(offset, type: memory.is64 ? .i64 : .i32, globals: globals).bits
            let bytes = segment.bytes
            guard bits <= UInt64(memory.byteCount), bytes.count <= memory.byteCount - Int(bits) else { throw Trap(code: .memoryOutOfBounds) }
            let start = Int(bits)
            bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress, raw.count > 0 {
                    (memory.base + start).copyMemory(from: base, byteCount: raw.count)
                }
            }
            context.dropDataSegment(i)
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

    /// Evaluates a constant expression (validated when the module was compiled, or
    /// verified when its artifact was loaded).
    func evaluate(_ expression: ConstExpression, type: ValueType, globals: [GlobalCell]) throws -> Value {
        do {
            return try expression.foldConstant(operand: { operand in
                switch operand {
                case .i32(let v): return .i32(UInt32(bitPattern: v))
                case .i64(let v): return .i64(UInt64(bitPattern: v))
                case .f32(let bits): return .f32(bits)
                case .f64(let bits): return .f64(bits)
                case .v128(let bytes):
                    let (low, high) = CompiledModule.halves(bytes)
                    return .v128(low: low, high: high)
                case .globalGet(let index):
                    guard Int(index) < globals.count else { throw LinkError(message: "unknown global \(index)") }
                    return globals[Int(index)].value
                case .refNull: return .ref(0)
                case .refFunc(let index):
                    guard Int(index) < functionRefs.count else { throw LinkError(message: "unknown function \(index)") }
                    return .ref(functionRefs[Int(index)])
                }
            }, operation: { operation, a, b in Value(bits: operation.apply(a.bits, b.bits), type: operation.type) })
        } catch ConstantExpressionError.notConstant {
            throw LinkError(message: "constant expression required")
        } catch ConstantExpressionError.typeMismatch {
            throw LinkError(message: "type mismatch in constant expression")
        }
    }

    // MARK: Exports and calls

    /// The export named `name`.
    func export(_ name: String) -> Extern? {
        guard let export = exportEntry(name) else { return nil }
        switch export.descriptor {
        case .function(let index): return .function(callee(Int(index)).function)
        case .memory(let index): return apiMemory(Int(index)).map { .memory($0) }
        case .global(let index): return .global(Global(cell: globals[Int(index)]))
        case .table(let index): return .table(Table(storage: tables[Int(index)], type: tableTypes[Int(index)], typeSpace: tableTypeSpaces[Int(index)]))
        case .tag(let index): return .tag(tags[Int(index)])
        }
    }

    /// The module's export named `name`. Names match byte for byte: Swift's ==
    /// would equate canonically equivalent Unicode.
    private func exportEntry(_ name: String) -> Export? {
        module.info.exports.first { $0.name.utf8.elementsEqual(name.utf8) }
    }

    func callee(_ index: Int) -> Callee {
        index < importedFunctions.count ? importedFunctions[index] : .wasm(self, index: index)
    }

    /// Calls the exported function `name`.
    func invoke(_ name: String, _ arguments: [Value]) throws -> [Value] {
        guard let export = exportEntry(name), case .function(let index) = export.descriptor else { throw LinkError(message: "unknown export \(name)") }
        return try Self.call(callee(Int(index)), arguments, caller: Caller())
    }

    static func call(_ handle: Callee, _ arguments: [Value], caller: Caller) throws -> [Value] {
        switch handle {
        case .host(let host): return try host.body(caller, arguments)
        case .wasm(let instance, let index): return try instance.call(function: index, arguments: arguments)
        }
    }

    /// Runs function `index` of this instance on the store's VM, switching the VM
    /// to this instance's context for the call and back afterwards.
    func call(function index: Int, arguments: [Value]) throws -> [Value] {
        if index < importedFunctions.count { return try Self.call(importedFunctions[index], arguments, caller: Caller()) }
        let type = module.info.functionType(index)
        guard arguments.count == type.parameters.count, zip(arguments, type.parameters).allSatisfy({ $0.matches($1) }) else {
            throw LinkError(message: "function \(index) expects arguments \(type.parameters), got \(arguments)")
        }
        let vm = store.vm
        let saved = vm.context
        defer { vm.context = saved }
        // A tail call from the entry frame to another instance's function (or the
        // host's) ends the run; the loop makes it in its place, in constant stack
        // space. The results are the last callee's (a tail call's callee returns
        // the caller's result types).
        var (instance, function, slots) = (self, index, arguments.flatMap(\.slots))
        while true {
            let current = instance
            vm.context = current.context
            let entry = try current.entry(of: function)
            let outcome: VM.Outcome
            do {
                outcome = try vm.invokeAllowingTailCalls(entry, arguments: slots, resultCount: Value.slotCount(type.results),
                                                         host: { id, vm in try current.answerHostCall(id, vm) },
                                                         checkpoint: { code, _ in try current.store.resumes(after: code) },
                                                         compile: { index, _ in try current.compileCallee(index) })
            } catch let trap as VMTrap {
                throw Trap(code: trap.code, backtrace: trap.backtrace.compactMap(current.frame), omittedFrames: trap.omittedFrames)
            } catch let exception as VMException {
                throw try WasmException(exception.exception, backtrace: exception.backtrace.compactMap(current.frame),
                                        omittedFrames: exception.omittedFrames)
            }
            switch outcome {
            case .returned(let results):
                return Value.decode(results, as: type.results)
            case .tailCall(let id, let arguments):
                let handle = current.hostCallee(id)
                let parameters = handle.type.parameters
                // As `answerHostCall`: the verifier checks the slots; check anyway, they are read by index.
                guard arguments.count >= Value.slotCount(parameters) else { throw Trap(code: .badSignature, backtrace: []) }
                if case .wasm(let next, let j) = handle, j >= next.importedFunctions.count {
                    (instance, function, slots) = (next, j, Array(arguments.prefix(Value.slotCount(parameters))))
                    continue
                }
                let values = Value.decode(arguments, as: parameters)
                let results = try Self.call(handle, values, caller: Caller(interrupt: vm.interruptFlag, entity: current))
                // A host function's results are checked as `answerHostCall` checks them.
                guard results.count == type.results.count, zip(results, type.results).allSatisfy({ $0.matches($1) }) else {
                    throw LinkError(message: "host function returned \(results), expected \(type.results)")
                }
                return results
            }
        }
    }

    /// The offset in `module.code` of a bytecode address (a profiler sample), or
    /// nil when it lies outside this instance's code.
    func codeOffset(of address: UInt) -> Int? {
        code.codeOffset(of: UnsafeRawPointer(bitPattern: address))
    }

    /// The module with every function compiled (a lazily compiled one's compiled now).
    func wholeModule() throws(ModuleError) -> CompiledModule {
        if case .lazy(let functions) = code.source { return try functions.eager() }
        return module
    }

    /// The first op of function `index` (a defined one), compiled now if it is lazy
    /// and uncompiled; its reference then calls it directly.
    private func entry(of index: Int) throws(ModuleError) -> UnsafeRawPointer {
        let entry = try code.entry(of: index - module.info.importedFunctionCount)
        if case .lazy = code.source { store.vm.setCode(entry, of: functionRefs[index]) }
        return entry
    }

    /// The function and offset of a pc in this instance's code; the return
    /// addresses of a backtrace point just past their call, so they are moved back one byte.
    private func frame(_ pc: UnsafeRawPointer) -> Trap.Frame? {
        guard let (i, offset) = code.function(at: pc) else { return nil }
        let function = module.info.importedFunctionCount + i
        return Trap.Frame(function: function, name: module.info.functionNames[UInt32(function)], offset: offset)
    }

    /// Compiles function `index` of this instance, which a call reached through its
    /// stub (`RunResult.compile`), gives its reference its code, and returns its first op.
    private func compileCallee(_ index: UInt32) throws -> UnsafeRawPointer {
        guard Int(index) >= importedFunctions.count, Int(index) < functionRefs.count else {
            throw LinkError(message: "no function \(index) of this instance to compile")
        }
        return try entry(of: Int(index))
    }

    /// The function a host call's id names: a function reference's (a foreign or
    /// host function reached through a table or `call_ref`), or an import.
    func hostCallee(_ id: UInt32) -> Callee {
        id & Store.referenceCallBit != 0 ? store.referencedFunctions[Int(id & ~Store.referenceCallBit)] : importedFunctions[Int(id)]
    }

    /// Answers a host call: an imported function (by import index), or a function
    /// reached through a reference that must run in another context or on the host.
    private func answerHostCall(_ id: UInt32, _ vm: VM) throws {
        let handle = hostCallee(id)
        let type = handle.type
        let slots = vm.hostSlots
        // Compiled (or verified) code always leaves room; check anyway, the slots are read by index.
        guard max(Value.slotCount(type.parameters), Value.slotCount(type.results)) <= slots.count else { throw Trap(code: .badSignature, backtrace: []) }
        let arguments = Value.decode(slots, as: type.parameters)
        let results: [Value]
        do {
            results = try Self.call(handle, arguments, caller: Caller(interrupt: vm.interruptFlag, entity: self))
        } catch let exception as WasmException {
            // A wasm exception out of the host function (thrown by it, or by wasm code
            // it called that caught none) is thrown at the call: wasm may catch it.
            vm.raise(exception.recordNotingFrames())
            return
        }
        guard results.count == type.results.count, zip(results, type.results).allSatisfy({ $0.matches($1) }) else {
            throw LinkError(message: "host function returned \(results), expected \(type.results)")
        }
        let out = vm.hostSlots
        for (i, slot) in results.flatMap(\.slots).enumerated() { out[i] = slot }
    }
}
