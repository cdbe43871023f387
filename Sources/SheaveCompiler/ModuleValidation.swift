import SheaveBytecode
import WasmParser
import WasmTypes

// Module-level validation: the features a module uses, constant expressions, and
// the rules on indices, limits and exports. Function bodies are validated as
// they are compiled (`FunctionCompiler`).
extension CompiledModule {
    /// Module-level uses of features: several results, reference types in signatures, several tables, passive segments.
    static func checkFeatures(_ info: ModuleInfo, _ features: Features) throws(CompileError) {
        func require(_ feature: Features, _ what: String) throws(CompileError) {
            guard features.contains(feature) else { throw CompileError(.invalid, "\(what) needs a feature that is not enabled") }
        }
        for (type, defined) in zip(info.types, info.definedTypes) {
            if type.results.count > 1 { try require(.multiValue, "a function type with several results") }
            for t in type.parameters + type.results { try requireFeatures(of: t, features) }
            if defined.kind != .function || defined.supertype != nil || !defined.isFinal || defined.group.count > 1 {
                try require(.gc, "a struct, array, recursive or sub type")
            }
            for field in defined.fields { if case .value(let t) = field.storage { try requireFeatures(of: t, features) } }
        }
        for global in info.globals { try requireFeatures(of: global.valueType, features) }
        if info.tables.count > 1 { try require(.referenceTypes, "several tables") }
        if info.memories.count > 1 { try require(.multiMemory, "several memories") }
        if info.memories.contains(where: \.isMemory64) { try require(.memory64, "a 64-bit memory") }
        if info.tables.contains(where: \.limits.isMemory64) { try require(.memory64, "a 64-bit table") }
        if !info.tags.isEmpty { try require(.exceptions, "an exception tag") }
        for table in info.tables where table.elementType != .funcRef { try requireFeatures(of: .ref(table.elementType), features) }
        if info.tableInitializers.contains(where: { $0 != nil }) { try require(.functionReferences, "a table initializer") }
        for segment in info.elements {
            if case .active = segment.mode {} else { try require([.bulkMemory], "a passive or declarative element segment") }
        }
        for segment in info.data where segment.mode == .passive { try require(.bulkMemory, "a passive data segment") }
    }

    static func requireFeatures(of type: ValueType, _ features: Features) throws(CompileError) {
        if type == .v128 {
            guard FunctionCompiler.interpreterHasSIMD else {
                throw CompileError(.unsupported, "SIMD is not available: this Sheave was built without the InterpreterSIMD trait")
            }
            guard features.contains(.simd) else { throw CompileError(.invalid, "v128 values need a feature that is not enabled") }
        }
        guard case .ref(let ref) = type else { return }
        guard features.contains(.referenceTypes) else { throw CompileError(.invalid, "reference types need a feature that is not enabled") }
        if ref.heapType == .abstract(.exnRef) || ref.heapType == .abstract(.noExn), !features.contains(.exceptions) {
            throw CompileError(.invalid, "exception references need a feature that is not enabled")
        }
        if case .abstract(let heap) = ref.heapType, ![.funcRef, .externRef, .exnRef, .noExn].contains(heap), !features.contains(.gc) {
            throw CompileError(.invalid, "the heap type \(heap) needs a feature that is not enabled")
        }
        if case .concrete = ref.heapType, !features.contains(.functionReferences) {
            throw CompileError(.invalid, "typed function references need a feature that is not enabled")
        }
        if !ref.isNullable, !features.contains(.functionReferences) {
            throw CompileError(.invalid, "non-nullable references need a feature that is not enabled")
        }
    }

    /// A constant expression: only constant instructions, `global.get` of an
    /// immutable global below `globalLimit`, and one value of `type` at the end.
    static func validateConstant(_ expression: ConstExpression, type: ValueType, _ info: ModuleInfo, globalLimit: Int) throws(CompileError) {
        // GC's constant instructions are constant: a module using them is valid, only not compiled yet.
        for instruction in expression {
            switch instruction {
            case .structNew, .structNewDefault, .arrayNew, .arrayNewDefault, .arrayNewFixed, .refI31, .anyConvertExtern, .externConvertAny:
                throw CompileError(.unsupported, "instruction \(instruction) is not supported yet in a constant expression")
            default: break
            }
        }
        let result: ValueType
        do {
            result = try expression.foldConstant(operand: { operand throws(CompileError) -> ValueType in
                switch operand {
                case .i32: return .i32
                case .i64: return .i64
                case .f32: return .f32
                case .f64: return .f64
                case .v128: return .v128
                case .refNull(let heap):
                    let type = ValueType.ref(ReferenceType(isNullable: true, heapType: heap))
                    if let refusal = info.refusal(of: type, "reference type") { throw refusal }
                    return type
                case .refFunc(let index):
                    guard Int(index) < info.functionTypes.count else { throw CompileError(.invalid, "unknown function \(index)") }
                    return .ref(ReferenceType(isNullable: false, heapType: .concrete(typeIndex: info.functionTypes[Int(index)])))
                case .globalGet(let index):
                    guard Int(index) < info.globals.count else { throw CompileError(.invalid, "unknown global \(index)") }
                    guard Int(index) < globalLimit else { throw CompileError(.invalid, "unknown global \(index): an initializer may read only the globals before it") }
                    guard info.globals[Int(index)].mutability == .constant else { throw CompileError(.invalid, "constant expression required") }
                    return info.globals[Int(index)].valueType
                }
            }, operation: { operation, a, b throws(CompileError) -> ValueType in
                guard a == operation.type, b == operation.type else { throw CompileError(.invalid, "type mismatch in constant expression") }
                return operation.type
            })
        } catch let error as CompileError {
            throw error
        } catch ConstantExpressionError.notConstant {
            throw CompileError(.invalid, "constant expression required")
        } catch {
            throw CompileError(.invalid, "type mismatch in constant expression")
        }
        guard info.isSubtype(result, of: type) else { throw CompileError(.invalid, "type mismatch in constant expression") }
    }

    /// How many supertypes a type may have above it (Wasmtime's and V8's limit).
    static let maximumSubtypingDepth = 63

    /// The type section: every type a type names lies in its own recursion group
    /// or before it; a declared supertype comes earlier, is not final, is of the same
    /// kind, and the type matches it (a function's parameters may widen and its
    /// results narrow; a struct keeps its supertype's fields as a prefix, and an
    /// array its element, immutable ones narrowed at most, mutable ones unchanged).
    static func validateTypes(_ info: ModuleInfo) throws(CompileError) {
        // Each type's number of supertypes above it, at most `maximumSubtypingDepth`: a store
        // keeps every type's chain of supertypes, so a deeper one would cost its square.
        var depths: [Int] = []
        for (i, defined) in info.definedTypes.enumerated() {
            depths.append(defined.supertype.map { Int($0) < i ? depths[Int($0)] + 1 : 0 } ?? 0)
            guard depths[i] <= maximumSubtypingDepth else {
                throw CompileError(.invalid, "sub type \(i) lies \(depths[i]) supertypes deep, more than \(maximumSubtypingDepth)")
            }
            func requireKnown(_ type: ValueType) throws(CompileError) {
                if let index = info.unknownTypeIndex(in: type, below: defined.group.upperBound) {
                    throw CompileError(.invalid, "unknown type \(index)")
                }
            }
            switch defined.body {
            case .function(let type): for value in type.parameters + type.results { try requireKnown(value) }
            default: for case .value(let value) in defined.fields.map(\.storage) { try requireKnown(value) }
            }
            guard let s = defined.supertype else { continue }
            guard Int(s) < i else { throw CompileError(.invalid, "unknown type \(s)") }
            let supertype = info.definedTypes[Int(s)]
            let failure = CompileError(.invalid, "sub type \(i) does not match its supertype \(s)")
            guard !supertype.isFinal, supertype.kind == defined.kind else { throw failure }
            switch (defined.body, supertype.body) {
            case (.function(let sub), .function(let sup)):
                guard sub.parameters.count == sup.parameters.count, sub.results.count == sup.results.count,
                      zip(sup.parameters, sub.parameters).allSatisfy({ info.isSubtype($0, of: $1) }),
                      zip(sub.results, sup.results).allSatisfy({ info.isSubtype($0, of: $1) }) else { throw failure }
            default:
                let (sub, sup) = (defined.fields, supertype.fields)
                guard sub.count >= sup.count else { throw failure }
                for (a, b) in zip(sub, sup) {
                    guard a.isMutable == b.isMutable else { throw failure }
                    switch (a.storage, b.storage) {
                    case (.packed(let x), .packed(let y)): guard x == y else { throw failure }
                    case (.value(let x), .value(let y)):
                        // Mutable: both ways (the same type); immutable: narrowed.
                        guard info.isSubtype(x, of: y), !a.isMutable || info.isSubtype(y, of: x) else { throw failure }
                    default: throw failure
                    }
                }
            }
        }
    }

    /// Module-level rules: indices in range, limits, exports unique.
    static func validateModule(_ info: ModuleInfo) throws(CompileError) {
        try validateTypes(info)
        for type in info.functionTypes where info.functionType(at: type) == nil {
            throw CompileError(.invalid, Int(type) >= info.types.count ? "unknown type \(type)" : "type mismatch: type \(type) is not a function type")
        }
        // A type index inside a segment's type must name a type of the module.
        func requireKnown(_ type: ValueType) throws(CompileError) {
            if let index = info.unknownTypeIndex(in: type) { throw CompileError(.invalid, "unknown type \(index)") }
        }
        for segment in info.elements { try requireKnown(.ref(segment.type)) }
        for tag in info.tags {
            guard Int(tag) < info.types.count else { throw CompileError(.invalid, "unknown type \(tag)") }
            guard info.functionType(at: tag) != nil else { throw CompileError(.invalid, "type mismatch: tag type \(tag) is not a function type") }
            guard info.types[Int(tag)].results.isEmpty else { throw CompileError(.invalid, "non-empty tag result type") }
        }
        guard info.tableInitializers.count == info.tables.count - info.importedTableCount else {
            throw CompileError(.invalid, "\(info.tableInitializers.count) table initializers for \(info.tables.count - info.importedTableCount) tables")
        }
        for (i, table) in info.tables.enumerated() {
            if let refusal = info.refusal(of: .ref(table.elementType), "table element type") { throw refusal }
            if i >= info.importedTableCount {
                // Entries start as the initializer's value or null. Tables come before
                // globals: an initializer may read imported globals only.
                if let initializer = info.tableInitializers[i - info.importedTableCount] {
                    try validateConstant(initializer, type: .ref(table.elementType), info, globalLimit: info.importedGlobalCount)
                } else {
                    guard table.elementType.isNullable else { throw CompileError(.invalid, "type mismatch: a table of non-nullable references needs an initializer") }
                }
            }
            if let max = table.limits.max, max < table.limits.min {
                throw CompileError(.invalid, "size minimum must not be greater than maximum")
            }
            // A 32-bit table: what the binary format's u32 limits can say. An artifact's
            // limits are u64 on disk, so this is where a forged one stops.
            guard table.limits.isMemory64 || (table.limits.min <= UInt64(UInt32.max) && (table.limits.max ?? 0) <= UInt64(UInt32.max)) else {
                throw CompileError(.invalid, "table size must be at most 2^32-1 entries")
            }
        }
        for memory in info.memories {
            if memory.isMemory64 {
                if memory.min > 1 << 48 || (memory.max ?? 0) > 1 << 48 {
                    throw CompileError(.invalid, "memory size must be at most 2^48 pages")
                }
            } else if memory.min > 65536 || (memory.max ?? 0) > 65536 {
                throw CompileError(.invalid, "memory size must be at most 65536 pages (4GiB)")
            }
            if memory.shared { throw CompileError(.unsupported, "shared memories (threads) are not supported") }
            if let max = memory.max, max < memory.min {
                throw CompileError(.invalid, "size minimum must not be greater than maximum")
            }
        }
        var names = Set<[UInt8]>()  // bytes: Swift's String equality equates canonically equivalent Unicode
        for export in info.exports {
            guard names.insert(Array(export.name.utf8)).inserted else { throw CompileError(.invalid, "duplicate export name \(export.name)") }
            switch export.descriptor {
            case .function(let i) where Int(i) >= info.functionTypes.count: throw CompileError(.invalid, "unknown function \(i)")
            case .table(let i) where Int(i) >= info.tables.count: throw CompileError(.invalid, "unknown table \(i)")
            case .memory(let i) where Int(i) >= info.memories.count: throw CompileError(.invalid, "unknown memory \(i)")
            case .global(let i) where Int(i) >= info.globals.count: throw CompileError(.invalid, "unknown global \(i)")
            case .tag(let i) where Int(i) >= info.tags.count: throw CompileError(.invalid, "unknown tag \(i)")
            default: break
            }
        }
        // A global's initializer may read the globals before it (Wasm 3.0), a segment's any.
        for (i, initializer) in info.globalInitializers.enumerated() {
            let type = info.globals[info.importedGlobalCount + i].valueType
            try validateConstant(initializer, type: type, info, globalLimit: info.importedGlobalCount + i)
        }
        for segment in info.elements {
            if case .active(let table, let offset) = segment.mode {
                guard Int(table) < info.tables.count else { throw CompileError(.invalid, "unknown table \(table)") }
                guard info.isSubtype(.ref(segment.type), of: .ref(info.tables[Int(table)].elementType)) else { throw CompileError(.invalid, "type mismatch: element segment and table types differ") }
                try validateConstant(offset, type: info.tables[Int(table)].limits.isMemory64 ? .i64 : .i32, info, globalLimit: info.globals.count)
            }
            for item in segment.initializer {
                try validateConstant(item, type: .ref(segment.type), info, globalLimit: info.globals.count)
            }
        }
        for segment in info.data {
            if case .active(let memory, let offset) = segment.mode {
                guard Int(memory) < info.memories.count else { throw CompileError(.invalid, "unknown memory \(memory)") }
                try validateConstant(offset, type: info.memories[Int(memory)].isMemory64 ? .i64 : .i32, info, globalLimit: info.globals.count)
            }
        }
        for global in info.globals {
            if let refusal = info.refusal(of: global.valueType) { throw refusal }
        }
        if let start = info.start {
            guard Int(start) < info.functionTypes.count else { throw CompileError(.invalid, "unknown function \(start)") }
            let type = info.functionType(Int(start))
            guard type.parameters.isEmpty && type.results.isEmpty else { throw CompileError(.invalid, "start function must have type [] -> []") }
        }
    }
}
