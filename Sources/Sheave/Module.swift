import Atomics
import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter
import WAT
import WasmParser

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
    /// Whether a large image is made on every core (`Config.parallelCompilation`).
    private var parallel = true
    /// A lazily compiled module's functions, compiled on first call (`Config.Compilation`);
    /// nil for a module compiled whole (`compiled.code` holds every function).
    private var lazy: LazyFunctions?

    /// The code a new instance runs: the module's code image, built on the first
    /// call and shared, or the lazily compiled functions.
    func instanceCode() -> InstanceCode {
        if let lazy { return InstanceCode(.lazy(lazy)) }
        return InstanceCode(.whole(codeImage, functionOffsets: compiled.functionOffsets))
    }

    private var codeImage: CodeImage {
        if let image = image.load() { return image }
        return image.storeIfNilThenLoad(CodeImage(compiled.code, functionStarts: compiled.functionOffsets, handlers: compiled.handlers,
                                                  parallelFrom: parallel ? CodeImage.parallelThreshold : .max))
    }

    /// A module of `compiled` (compiled whole), with an image of its own.
    package init(compiled: CompiledModule) {
        precondition(!compiled.options.lazy, "a lazily compiled module needs its bytes: Module(engine:bytes:)")
        self.compiled = compiled
    }

    /// Decodes, validates and compiles a binary module for the engine's target
    /// (any target compiles; only the host's instantiates). Compiled lazily
    /// (`Config.compilation`), only the module's sections are validated here; each
    /// function is validated and compiled when first called.
    ///
    /// - Throws: `ModuleError` (malformed, invalid, or unsupported).
    public init(engine: Engine, bytes: [UInt8]) throws(ModuleError) {
        let config = engine.config
        do {
            switch config.compilation {
            case .eager: compiled = try CompiledModule(bytes: bytes, options: config.compileOptions)
            case .lazy: compiled = try CompiledModule(lazy: bytes, options: config.compileOptions)
            case .automatic: compiled = try CompiledModule(bytes: bytes, options: config.compileOptions, lazyFrom: Config.lazyThreshold)
            }
        } catch {
            throw ModuleError(error)
        }
        if compiled.options.lazy { lazy = LazyFunctions(module: compiled, bytes: bytes) }
        parallel = config.parallelCompilation
    }

    /// Whether the module's functions are compiled on first call (`Config.Compilation`).
    public var isCompiledLazily: Bool { lazy != nil }

    /// How many of a lazily compiled module's functions have been compiled (for tests).
    package var lazilyCompiledFunctionCount: Int { lazy?.compiledCount ?? 0 }

    /// The module compiled whole: itself, or a lazily compiled module's functions all compiled now.
    private func whole() throws(ModuleError) -> CompiledModule {
        try lazy?.eager() ?? compiled
    }

    /// Compiles a module in the text format (with its names, for backtraces).
    ///
    /// - Throws: `ModuleError` (malformed text, or as `init(engine:bytes:)`).
    public init(engine: Engine, wat: String) throws(ModuleError) {
        let bytes: [UInt8]
        do {
            bytes = try wat2wasm(wat, options: EncodeOptions(nameSection: true))
        } catch {
            throw ModuleError(kind: .malformed, message: "\(error)")
        }
        try self.init(engine: engine, bytes: bytes)
    }

    /// Loads a compiled artifact (`serialize()`, `sheave compile`) without recompiling.
    /// It must be for the engine's target, and compiled with checkpoints when the
    /// engine meters fuel or is interruptible.
    ///
    /// - Throws: `ModuleError` for a file of another target or format version,
    ///   a truncated or damaged file, bytecode that fails verification, or an
    ///   artifact without the checkpoints the engine needs.
    public init(engine: Engine, deserializing bytes: [UInt8]) throws(ModuleError) {
        do {
            compiled = try CompiledModule(deserializing: bytes, target: engine.config.target)
        } catch {
            throw ModuleError(error)
        }
        parallel = engine.config.parallelCompilation
        if engine.config.compileOptions.checkpoints && !compiled.options.checkpoints {
            throw ModuleError(kind: .missingCheckpoints,
                              message: "the engine meters fuel or is interruptible, but the artifact was compiled without checkpoints (`sheave compile --checkpoints`)")
        }
    }

    /// Whether `bytes` are an artifact (they start with its magic) rather than a module.
    public static func isArtifact(_ bytes: [UInt8]) -> Bool { Artifact.isArtifact(bytes) }

    /// The target an artifact's header names, or nil when it names none this Sheave
    /// knows: an engine configured for that target loads it (to inspect it, say).
    public static func artifactTarget(_ bytes: [UInt8]) -> Target? { Artifact.target(of: bytes) }

    /// The file extension of artifacts: `cwasm`, as Wasmtime's.
    public static var artifactExtension: String { Artifact.fileExtension }

    /// The module as an artifact (a `.cwasm` file) for `Module(engine:deserializing:)`.
    /// An artifact holds every function compiled: a lazily compiled module's are
    /// compiled for it (throwing `ModuleError` for an invalid one).
    public func serialize() throws(ModuleError) -> [UInt8] { try whole().serialized() }

    /// What the module imports: module name and field name.
    public var imports: [(module: String, name: String)] {
        compiled.info.imports.map { ($0.module, $0.name) }
    }

    /// The names the module exports.
    public var exports: [String] { compiled.info.exports.map(\.name) }

    /// The target its bytecode is for.
    public var target: Target { compiled.options.target }

    /// How many functions the module defines (imports not counted).
    public var definedFunctionCount: Int { compiled.info.functionTypes.count - compiled.info.importedFunctionCount }

    /// The size of its bytecode in bytes (all of it: a lazily compiled module is compiled whole for it).
    public var bytecodeSize: Int { get throws(ModuleError) { try whole().code.count } }

    /// The module's bytecode as text, function by function (what `sheave objdump`
    /// prints): with each op's offset, its raw bytes, and after each
    /// super-instruction the ops it stands for, as asked. With `function` (a name
    /// from the name section or an export, or an index), that function alone;
    /// nil when there is no such function.
    ///
    /// A lazily compiled module is compiled whole for it (throwing `ModuleError` for an invalid function).
    public func disassembly(addresses: Bool = false, bytes: Bool = false, fusions: Bool = false, function: String? = nil) throws(ModuleError) -> String? {
        try whole().disassembly(options: .init(addresses: addresses, bytes: bytes, fusions: fusions), function: function)
    }

    /// The features the text format parser needs to read what Sheave compiles
    /// (for the spec test runner's quoted modules).
    package static var textFeatures: WasmFeatureSet { ModuleInfo.features }
}

/// A module may be shared between threads: it does not change once made, but for
/// its code image, which is stored once, atomically.
extension Module: @unchecked Sendable {}
