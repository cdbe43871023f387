import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter

/// How an engine compiles modules and how the stores made from it run them, as
/// Wasmtime's `Config` and WasmKit's `EngineConfiguration` say it.
///
///     let engine = Engine(Config(fuelMetering: true, stackSize: 4 << 20))
public struct Config: Sendable {
    /// Which dispatch loop runs the bytecode. Both run the same handlers and give the same results.
    public enum Dispatch: String, Sendable, CaseIterable {
        /// A `switch` on each opcode inside one loop: portable, one dispatch point.
        case match
        /// Each handler ends by calling the next op's handler, whose address
        /// sits in front of the op (direct threading), a call the optimizer
        /// turns into a jump.
        case tail

        /// The tail loop in optimized builds; the match loop in a debug build,
        /// where the tail loop's calls stay calls and each op would take native stack.
        public static var `default`: Dispatch { Dispatch(DispatchMode.default) }

        /// Whether this build turns the tail loop's calls into jumps (an optimized build).
        public static var tailLoopIsSafe: Bool { DispatchMode.tailLoopIsSafe }

        init(_ mode: DispatchMode) {
            switch mode {
            case .match: self = .match
            case .tail: self = .tail
            }
        }

        /// The interpreter's name for the loop.
        var mode: DispatchMode {
            switch self {
            case .match: return .match
            case .tail: return .tail
            }
        }
    }

    /// Code consumes fuel at function entries and loop headers and traps
    /// ("all fuel consumed by WebAssembly") when it runs out; see `Store.fuel`.
    public var fuelMetering: Bool
    /// Another thread may stop running code through `Store.interruptHandle`.
    public var interruptible: Bool
    /// A store's stack in bytes: recursion deeper than it fits traps ("call stack
    /// exhausted"). At most `Config.maximumStackSize`; a larger value gets that
    /// much. Its pages cost nothing until the recursion reaches them.
    public var stackSize: Int
    /// The largest stack a store takes (4 GiB).
    public static var maximumStackSize: Int { VM.maximumStackSize }
    /// The dispatch loop stores run.
    public var dispatch: Dispatch
    /// The most 64 KiB pages any memory may have: larger memories fail to
    /// instantiate and `memory.grow` past it returns -1.
    public var maximumMemoryPages: Int
    /// When a module's functions are compiled (WasmKit's `compilationMode`, wasmi's
    /// `CompilationMode`).
    public enum Compilation: String, Sendable, CaseIterable {
        /// All at once, when the module is made: every function is validated before
        /// anything runs, and calls between functions are pc-relative.
        case eager
        /// Each function when it is first called: the module's sections are
        /// validated when it is made, a function's body when it is compiled, so an
        /// invalid body is an error only when called (`ModuleError` thrown by the call).
        /// Calls between functions go through the callee's reference, a few loads each.
        case lazy
        /// Lazily for a module with at least `Config.lazyThreshold` bytes of function
        /// bodies, where compiling all of it costs most; eagerly below.
        case automatic
    }

    /// From this many bytes of function bodies, `Compilation.automatic` compiles lazily.
    public static let lazyThreshold = 256 << 10

    /// The bytecode target modules are compiled for. Only the host's
    /// (`Target.host`) instantiates here; the others make artifacts for other machines.
    public var target: Target
    /// The WebAssembly proposals modules may use; others are invalid.
    public var features: Features
    /// Compile a large module's functions, and make its code image, on every core
    /// (as Wasmtime's `parallel_compilation`): the same code, ready sooner.
    public var parallelCompilation: Bool
    /// When functions are compiled: `.automatic` (lazily for large modules) by default.
    public var compilation: Compilation

    /// A configuration; no fuel, no interruption, a 1 MiB stack, every feature, this
    /// machine's target, parallel compilation, lazy compilation for large modules by default.
    public init(fuelMetering: Bool = false, interruptible: Bool = false, stackSize: Int = 1 << 20,
                dispatch: Dispatch = .default, maximumMemoryPages: Int = 65536, target: Target = .host,
                features: Features = .all, parallelCompilation: Bool = true, compilation: Compilation = .automatic) {
        self.compilation = compilation
        self.fuelMetering = fuelMetering
        self.interruptible = interruptible
        self.stackSize = stackSize
        self.dispatch = dispatch
        self.maximumMemoryPages = maximumMemoryPages
        self.target = target
        self.features = features
        self.parallelCompilation = parallelCompilation
    }

    /// How modules must be compiled to run in such a store: with checkpoints
    /// where fuel is consumed and interruption noticed, when either is on.
    package var compileOptions: CompileOptions {
        CompileOptions(checkpoints: fuelMetering || interruptible, features: features, target: target, parallel: parallelCompilation)
    }
}

/// Compiles and runs WebAssembly with one configuration.
///
///     let engine = Engine()
///     let module = try Module(engine: engine, wat: "(module (func (export \"answer\") (result i32) (i32.const 42)))")
///     let store = Store(engine: engine)
///     let instance = try Linker().instantiate(module, in: store)
///     let answer = try instance.function("answer")!.typed(results: Int32.self)
///     print(try answer())  // 42
public final class Engine: Sendable {
    /// Sheave's version, as `sheave --version` prints it.
    public static let version = "0.1.0"

    /// How the engine compiles modules and its stores run them.
    public let config: Config

    /// An engine configured by `config`.
    public init(_ config: Config = Config()) {
        self.config = config
    }
}
