import WasmParser
import WasmTypes

/// A decoded module: its sections, with imports merged into each index space.
public struct ModuleInfo {
    /// The function type of each type of the type section, by type index (an empty
    /// one for a struct or array type: `definedTypes` says which is which; every use
    /// of a type index as a function type checks it, `functionType(at:)`).
    public var types: [FunctionType] = []
    /// The types of the type section as GC defines them: composite type, supertype,
    /// finality and recursion group (`types` holds their function types).
    public var definedTypes: [DefinedType] = []
    /// For each type, the first type of the module equivalent to it (the same
    /// position in recursion groups of the same shape): two types are the same
    /// type exactly when their entries are equal.
    public var canonicalTypes: [Int] = []
    /// The imports, in order.
    public var imports: [Import] = []
    /// Type index of every function, imported ones first.
    public var functionTypes: [UInt32] = []
    /// How many functions are imported (they come first in the index space).
    public var importedFunctionCount = 0
    /// Every table's type, imported ones first.
    public var tables: [TableType] = []
    /// How many tables are imported.
    public var importedTableCount = 0
    /// Every memory's type, imported ones first.
    public var memories: [MemoryType] = []
    /// How many memories are imported.
    public var importedMemoryCount = 0
    /// Every global's type, imported ones first; `globalInitializers` holds the defined ones'.
    public var globals: [GlobalType] = []
    /// How many globals are imported.
    public var importedGlobalCount = 0
    /// Every exception tag's type index, imported ones first (the type's parameters
    /// are the exception's payload; it has no results).
    public var tags: [UInt32] = []
    /// How many tags are imported.
    public var importedTagCount = 0
    /// The initializer of each defined global.
    public var globalInitializers: [ConstExpression] = []
    /// The value each defined table's entries start with (typed function
    /// references' table initializers); nil: null.
    public var tableInitializers: [ConstExpression?] = []
    /// The exports, in order.
    public var exports: [Export] = []
    /// The start function, if any.
    public var start: UInt32?
    /// The element segments.
    public var elements: [ElementSegment] = []
    /// The data segments.
    public var data: [Data] = []
    /// The data count section, if present.
    public var dataCount: UInt32?
    /// The bodies of the defined functions (empty after compilation).
    public var codes: [Code] = []
    /// Function names from the name section, by function index.
    public var functionNames: [UInt32: String] = [:]

    /// The features Sheave decodes: Wasm 2.0, typed function references, tail
    /// calls, multi-memory, memory64 and exception handling (`Features` decides
    /// what a module may use; validation refuses the rest). SIMD is decoded even
    /// in a build without SIMD handlers, so that compiling refuses it clearly.
    public static let features: WasmFeatureSet = [.referenceTypes, .functionReferences, .simd, .tailCall, .multiMemory, .memory64, .exceptionHandling, .gc]

    /// A data segment: its bytes, and where they go if it is active.
    public struct Data: Equatable, Sendable {
        /// Where an active segment's bytes are copied at instantiation.
        public enum Mode: Equatable, Sendable {
            /// Copied by `memory.init` only.
            case passive
            /// Copied into memory `memory` at the address `offset` evaluates to.
            case active(memory: UInt32, offset: ConstExpression)
        }

        /// Passive or active.
        public var mode: Mode
        /// The segment's bytes.
        public var bytes: [UInt8]

        /// A segment; see the properties.
        public init(mode: Mode, bytes: [UInt8]) {
            self.mode = mode
            self.bytes = bytes
        }

        init(_ segment: DataSegment) {
            switch segment {
            case .passive(let bytes): self.init(mode: .passive, bytes: Array(bytes))
            case .active(let active): self.init(mode: .active(memory: active.index, offset: active.offset), bytes: Array(active.initializer))
            }
        }
    }

    /// An empty module (the artifact loader fills one in).
    init() {}

    /// Decodes `bytes`, checking the module's structure but not its functions' bodies.
    public init(bytes: [UInt8]) throws(CompileError) {
        var parser = Parser(bytes: bytes, features: Self.features)
        do {
            while let payload = try parser.parseNext() {
                switch payload {
                case .header: break
                case .customSection(let section):
                    if section.name == "name" { readNames(section) }
                case .typeSection(let groups):
                    for group in groups {
                        let members = types.count..<(types.count + group.types.count)
                        for sub in group.types {
                            guard sub.supertypes.count <= 1 else {
                                throw CompileError(.invalid, "type with multiple supertypes", offset: parser.offset)
                            }
                            append(DefinedType(body: sub.body, supertype: sub.supertypes.first, isFinal: sub.isFinal, group: members))
                        }
                    }
                case .importSection(let section):
                    imports = section
                    for entry in section {
                        switch entry.descriptor {
                        case .function(let type): functionTypes.append(type); importedFunctionCount += 1
                        case .table(let type): tables.append(type); importedTableCount += 1
                        case .memory(let type): memories.append(type); importedMemoryCount += 1
                        case .global(let type): globals.append(type); importedGlobalCount += 1
                        case .tag(let type): tags.append(type); importedTagCount += 1
                        }
                    }
                case .functionSection(let indices): functionTypes += indices
                case .tableSection(let section):
                    tables += section.map(\.type)
                    tableInitializers = section.map(\.initializer)
                case .memorySection(let section): memories += section.map(\.type)
                case .globalSection(let section):
                    globals += section.map(\.type)
                    globalInitializers = section.map(\.initializer)
                case .tagSection(let section): tags += section.map(\.type)
                case .exportSection(let section): exports = section
                case .startSection(let index): start = index
                case .elementSection(let section): elements = section
                case .codeSection(let section): codes = section
                case .dataSection(let section): data = section.map(Data.init)
                case .dataCount(let count): dataCount = count
                }
            }
        } catch let error as CompileError {
            throw error
        } catch {
            throw CompileError(parsing: error, fallbackOffset: parser.offset)
        }
        canonicalizeTypes()
        guard functionTypes.count - importedFunctionCount == codes.count else {
            throw CompileError(.malformed, "function and code section have inconsistent lengths")
        }
        if let dataCount, Int(dataCount) != data.count {
            throw CompileError(.malformed, "data count and data section have inconsistent lengths")
        }
        collectDeclaredFunctionReferences()
    }

    private mutating func readNames(_ section: CustomSection) {
        var names = NameSectionParser(stream: StaticByteStreamSource(bytes: section.bytes))
        // A damaged name section is ignored, as the spec allows for custom sections.
        guard let parsed = try? names.parseAll() else { return }
        for case .functions(let map) in parsed { functionNames = map }
    }

    /// Functions `ref.func` may name in function bodies: those named in element
    /// segments, exports and global initializers (the spec's C.refs).
    public private(set) var declaredFunctionReferences: Set<UInt32> = []

    mutating func collectDeclaredFunctionReferences() {
        var refs = Set<UInt32>()
        func scan(_ expression: ConstExpression) {
            for case .refFunc(let index) in expression { refs.insert(index) }
        }
        for segment in elements { segment.initializer.forEach(scan) }
        globalInitializers.forEach(scan)
        tableInitializers.compactMap { $0 }.forEach(scan)
        for export in exports { if case .function(let index) = export.descriptor { refs.insert(index) } }
        declaredFunctionReferences = refs
    }

    /// The type of function `index` (imported functions first).
    public func functionType(_ index: Int) -> FunctionType { types[Int(functionTypes[index])] }
}
