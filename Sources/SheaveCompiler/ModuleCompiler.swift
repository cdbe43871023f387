import SheaveBytecode
import WasmParser
import WasmTypes

/// A module compiled to Sheave bytecode: one image holding every defined
/// function, and everything needed to instantiate it.
/// WebAssembly proposals a module may use; a module using a disabled one is invalid.
public struct Features: OptionSet, Hashable, Sendable {
    /// The features as bits.
    public let rawValue: Int
    /// Features from their bits.
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Sign-extension operators (`i32.extend8_s` and the like).
    public static let signExtension = Features(rawValue: 1 << 0)
    /// Non-trapping float-to-int conversions (`i32.trunc_sat_f32_s` and the like).
    public static let nonTrappingFloatToInt = Features(rawValue: 1 << 1)
    /// Blocks with parameters or several results, functions with several results.
    public static let multiValue = Features(rawValue: 1 << 2)
    /// `memory.fill`, `memory.copy`, `memory.init`, `data.drop`, `table.copy`, `table.init`, `elem.drop`, passive segments.
    public static let bulkMemory = Features(rawValue: 1 << 3)
    /// `funcref` and `externref` values, the table instructions, several tables, typed `select`.
    public static let referenceTypes = Features(rawValue: 1 << 4)
    /// Typed function references: `(ref $t)`, `call_ref`, `ref.as_non_null`, `br_on_null`, `br_on_non_null`.
    public static let functionReferences = Features(rawValue: 1 << 5)
    /// 128-bit SIMD: `v128` values and their instructions. Only in a build with the
    /// `InterpreterSIMD` trait (the default); elsewhere a module using it is refused.
    public static let simd = Features(rawValue: 1 << 6)
    /// Everything Sheave implements: WebAssembly 2.0, and typed function references.
    public static let all: Features = [.signExtension, .nonTrappingFloatToInt, .multiValue, .bulkMemory, .referenceTypes, .functionReferences, .simd]
    /// WebAssembly 1.0 (the MVP).
    public static let mvp: Features = []
}

/// How a module is compiled.
public struct CompileOptions: Equatable, Sendable {
    /// Emit a `checkpoint` op at every function entry and loop header, where fuel
    /// is consumed and interruption is noticed. Without them code runs at full
    /// speed but can be neither metered nor interrupted.
    public var checkpoints: Bool
    /// The proposals a module may use.
    public var features: Features
    /// The target the bytecode is for: its immediates are in the target's byte order.
    public var target: Target

    /// Options; no checkpoints, every feature and the host's target by default.
    public init(checkpoints: Bool = false, features: Features = .all, target: Target = .host) {
        self.checkpoints = checkpoints
        self.features = features
        self.target = target
    }
}

/// A module compiled to Sheave bytecode: one image holding every defined function, and everything needed to instantiate it.
public struct CompiledModule {
    /// The module's sections (the function bodies are dropped once compiled).
    public let info: ModuleInfo
    /// How it was compiled.
    public let options: CompileOptions
    /// The bytecode of every defined function, in order.
    public let code: [UInt8]
    /// The offset in `code` of each defined function (index minus the imported count).
    public let functionOffsets: [Int]

    /// A compiled module from its parts, trusted as they are: the artifact loader's
    /// (after verification), and tests that forge bytecode for the verifier.
    package init(info: ModuleInfo, options: CompileOptions, code: [UInt8], functionOffsets: [Int]) {
        self.info = info
        self.options = options
        self.code = code
        self.functionOffsets = functionOffsets
    }

    /// Decodes, validates and compiles `bytes`.
    public init(bytes: [UInt8], options: CompileOptions = CompileOptions()) throws(CompileError) {
        var bytes = bytes
        // WasmParser 0.4.2 reads the sub-opcode after a 0xFC prefix as one byte, not
        // as the LEB128 u32 the spec says, so it rejects a redundant encoding such as
        // FC 80 00. Such an op is rewritten in place to NOPs then its minimal form
        // (01 FC 00: same length, same meaning) and the module decoded again.
        for _ in 0..<1024 {
            do {
                try self.init(decoding: bytes, options: options)
                return
            } catch let failure as RedundantPrefixEncoding {
                bytes = failure.normalized
            } catch let error as CompileError {
                throw error
            } catch {
                throw CompileError(.malformed, "\(error)")
            }
        }
        throw CompileError(.unsupported, "too many redundant 0xFC sub-opcode encodings")
    }

    /// A 0xFC op whose sub-opcode has a redundant LEB128 encoding, and the bytes with it normalized.
    struct RedundantPrefixEncoding: Error {
        let normalized: [UInt8]

        /// The failure at `offset` (just past the byte WasmParser could not read) when it is this case.
        init?(_ bytes: [UInt8], failingAt offset: Int) {
            let prefix = offset - 2
            guard prefix >= 0, prefix + 1 < bytes.count, bytes[prefix] == 0xFC, bytes[prefix + 1] & 0x80 != 0 else { return nil }
            var value = 0, shift = 0, end = prefix + 1
            while end < bytes.count, shift <= 28 {
                value |= Int(bytes[end] & 0x7F) << shift
                shift += 7
                end += 1
                if bytes[end - 1] & 0x80 == 0 { break }
            }
            guard bytes[end - 1] & 0x80 == 0, value < 0x80 else { return nil }
            var normalized = bytes
            for i in prefix..<(end - 2) { normalized[i] = 0x01 }  // nop
            normalized[end - 2] = 0xFC
            normalized[end - 1] = UInt8(value)
            self.normalized = normalized
        }
    }

    private init(decoding bytes: [UInt8], options: CompileOptions) throws {
        var info = try ModuleInfo(bytes: bytes)
        try Self.validateModule(info)
        try Self.checkFeatures(info, options.features)
        var image = Encoder(byteOrder: options.target.byteOrder)
        var offsets: [Int] = []
        var calls: [(field: Int, callee: Int, instructionStart: Int)] = []
        for (i, body) in info.codes.enumerated() {
            let index = info.importedFunctionCount + i
            var compiler = try FunctionCompiler(module: info, index: index, code: body, options: options)
            var parser = ExpressionParser(code: body)
            do {
                while let visit = try parser.parse() {
                    guard !compiler.controls.isEmpty else {
                        throw CompileError(.malformed, "instructions after the function's end", function: index, offset: parser.offset)
                    }
                    try visit(visitor: &compiler)
                }
            } catch let error as CompileError {
                throw error
            } catch {
                if let redundant = RedundantPrefixEncoding(bytes, failingAt: parser.offset) { throw redundant }
                throw CompileError(.malformed, "\(error)", function: index, offset: parser.offset)
            }
            let (code, sites) = try compiler.finish()
            let start = image.position
            offsets.append(start)
            image.append(contentsOf: code)
            for site in sites {
                calls.append((field: start + site.instructionStart + 1, callee: site.callee, instructionStart: start + site.instructionStart))
            }
        }
        for call in calls {
            let target = offsets[call.callee - info.importedFunctionCount]
            image.patchPcRel(at: call.field, target - call.instructionStart)
        }
        info.codes = []  // the bodies are compiled; do not keep the source alive
        self.info = info
        self.options = options
        self.code = image.bytes
        self.functionOffsets = offsets
    }

    /// Module-level uses of features: several results, reference types in signatures, several tables, passive segments.
    static func checkFeatures(_ info: ModuleInfo, _ features: Features) throws(CompileError) {
        func require(_ feature: Features, _ what: String) throws(CompileError) {
            guard features.contains(feature) else { throw CompileError(.invalid, "\(what) needs a feature that is not enabled") }
        }
        for type in info.types {
            if type.results.count > 1 { try require(.multiValue, "a function type with several results") }
            for t in type.parameters + type.results { try requireFeatures(of: t, features) }
        }
        for global in info.globals { try requireFeatures(of: global.valueType, features) }
        if info.tables.count > 1 { try require(.referenceTypes, "several tables") }
        for table in info.tables where table.elementType != .funcRef { try requireFeatures(of: .ref(table.elementType), features) }
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
        if case .concrete = ref.heapType, !features.contains(.functionReferences) {
            throw CompileError(.invalid, "typed function references need a feature that is not enabled")
        }
        if !ref.isNullable, !features.contains(.functionReferences) {
            throw CompileError(.invalid, "non-nullable references need a feature that is not enabled")
        }
    }

    /// A constant expression: only constant instructions, `global.get` of an
    /// imported immutable global, and one value of `type` at the end.
    static func validateConstant(_ expression: ConstExpression, type: ValueType, _ info: ModuleInfo, globalLimit: Int) throws(CompileError) {
        var stack: [ValueType] = []
        for instruction in expression {
            switch instruction {
            case .i32Const: stack.append(.i32)
            case .i64Const: stack.append(.i64)
            case .f32Const: stack.append(.f32)
            case .f64Const: stack.append(.f64)
            case .v128Const: stack.append(.v128)
            case .refNull(let heap):
                let type = ValueType.ref(ReferenceType(isNullable: true, heapType: heap))
                guard info.isSupported(type) else { throw CompileError(.unsupported, "reference type \(heap) is not supported") }
                stack.append(type)
            case .refFunc(let index):
                guard Int(index) < info.functionTypes.count else { throw CompileError(.invalid, "unknown function \(index)") }
                stack.append(.ref(ReferenceType(isNullable: false, heapType: .concrete(typeIndex: info.functionTypes[Int(index)]))))
            case .globalGet(let index):
                guard Int(index) < info.globals.count else { throw CompileError(.invalid, "unknown global \(index)") }
                guard Int(index) < globalLimit else { throw CompileError(.invalid, "unknown global \(index): initializers may read imported globals only") }
                guard info.globals[Int(index)].mutability == .constant else { throw CompileError(.invalid, "constant expression required") }
                stack.append(info.globals[Int(index)].valueType)
            case .binary(let op):
                let t: ValueType
                switch op {
                case .i32Add, .i32Sub, .i32Mul: t = .i32
                case .i64Add, .i64Sub, .i64Mul: t = .i64
                default: throw CompileError(.invalid, "constant expression required")
                }
                guard stack.count >= 2, stack.removeLast() == t, stack.removeLast() == t else {
                    throw CompileError(.invalid, "type mismatch in constant expression")
                }
                stack.append(t)
            case .end: break
            default: throw CompileError(.invalid, "constant expression required")
            }
        }
        guard stack.count == 1, info.isSubtype(stack[0], of: type) else { throw CompileError(.invalid, "type mismatch in constant expression") }
    }

    /// Module-level rules: indices in range, at most one memory, limits, exports unique.
    static func validateModule(_ info: ModuleInfo) throws(CompileError) {
        for type in info.functionTypes where Int(type) >= info.types.count {
            throw CompileError(.invalid, "unknown type \(type)")
        }
        if info.memories.count > 1 { throw CompileError(.invalid, "multiple memories") }
        for table in info.tables {
            guard info.isSupported(.ref(table.elementType)) else { throw CompileError(.unsupported, "table element type \(table.elementType) is not supported") }
            guard table.elementType.isNullable else { throw CompileError(.invalid, "type mismatch: a table of non-nullable references needs an initializer") }
            if let max = table.limits.max, max < table.limits.min {
                throw CompileError(.invalid, "size minimum must not be greater than maximum")
            }
        }
        for memory in info.memories {
            if memory.min > 65536 || (memory.max ?? 0) > 65536 {
                throw CompileError(.invalid, "memory size must be at most 65536 pages (4GiB)")
            }
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
            default: break
            }
        }
        for (i, initializer) in info.globalInitializers.enumerated() {
            let type = info.globals[info.importedGlobalCount + i].valueType
            try validateConstant(initializer, type: type, info, globalLimit: info.importedGlobalCount)
        }
        for segment in info.elements {
            if case .active(let table, let offset) = segment.mode {
                guard Int(table) < info.tables.count else { throw CompileError(.invalid, "unknown table \(table)") }
                guard info.isSubtype(.ref(segment.type), of: .ref(info.tables[Int(table)].elementType)) else { throw CompileError(.invalid, "type mismatch: element segment and table types differ") }
                try validateConstant(offset, type: .i32, info, globalLimit: info.importedGlobalCount)
            }
            for item in segment.initializer {
                try validateConstant(item, type: .ref(segment.type), info, globalLimit: info.importedGlobalCount)
            }
        }
        for segment in info.data {
            if case .active(let memory, let offset) = segment.mode {
                guard Int(memory) < info.memories.count else { throw CompileError(.invalid, "unknown memory \(memory)") }
                try validateConstant(offset, type: .i32, info, globalLimit: info.importedGlobalCount)
            }
        }
        for global in info.globals where !info.isSupported(global.valueType) {
            throw CompileError(.unsupported, "value type \(global.valueType) is not supported")
        }
        if let start = info.start {
            guard Int(start) < info.functionTypes.count else { throw CompileError(.invalid, "unknown function \(start)") }
            let type = info.functionType(Int(start))
            guard type.parameters.isEmpty && type.results.isEmpty else { throw CompileError(.invalid, "start function must have type [] -> []") }
        }
    }
}
