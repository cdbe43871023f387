import ArgumentParser
// FoundationEssentials, not Foundation, where there is one: Foundation and its
// ICU data add about 3 ms to every start (docs/benchmarks.md).
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Sheave
import SheaveWASI
import SheaveWAST

@main
struct SheaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sheave",
        abstract: "Sheave: a WebAssembly runtime whose engine is a portable, optimizing interpreter.",
        version: "sheave \(Engine.version)",
        subcommands: [Run.self, Compile.self, Objdump.self, Profile.self, Wast.self])

    /// A plain `sheave run FILE ARGS…` runs without ArgumentParser, whose
    /// reflection over the commands' options was 1.8 of an empty program's 5 ms
    /// (docs/benchmarks.md); every other command line is parsed as usual.
    static func main() {
        guard let request = RunRequest(plain: Array(CommandLine.arguments.dropFirst())) else { return main(nil) }
        do {
            try request.run()
        } catch let exit as ExitCode {
            terminate(exit.rawValue)
        } catch {
            Run.exit(withError: error)
        }
    }
}

extension Config.Dispatch: ExpressibleByArgument {}
extension Config.Compilation: ExpressibleByArgument {}
extension Target: ExpressibleByArgument {}

/// `Features.all` with the proposals `specs` turn on or off: `NAME`, `NAME=y`
/// or `NAME=n` each (Wasmtime's `-W NAME=y|n`), names as `Features.named` gives them.
func enabledFeatures(_ specs: [String]) -> Features {
    var result = Features.all
    for spec in specs {
        let (name, value) = spec.contains("=") ? splitAssignment(spec, flag: "--wasm", form: "NAME=y|n") : (spec, "y")
        guard let feature = Features.named.first(where: { $0.name == name })?.feature else {
            usageError("--wasm: unknown proposal \(name) (known: \(Features.named.map(\.name).joined(separator: ", ")))")
        }
        switch value {
        case "y", "yes", "true": result.insert(feature)
        case "n", "no", "false": result.remove(feature)
        default: usageError("--wasm \(name)= expects y or n, got \(value)")
        }
    }
    return result
}

/// `spec` split at its first "=" into a non-empty name and the rest; a clear
/// error for `flag` (which expects `form`) when there is no name.
func splitAssignment(_ spec: String, flag: String, form: String) -> (String, String) {
    guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex else { usageError("\(flag) expects \(form), got \(spec)") }
    return (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
}

/// A wrong option: `sheave: message` on standard error, exit status 1.
func usageError(_ message: String) -> Never {
    complain(message)
    terminate(1)
}

/// Ends the process with `status`.
func terminate(_ status: Int32) -> Never { exit(status) }

/// Prints `sheave: message` on standard error.
func complain(_ message: String) {
    var bytes = Array("sheave: \(message)\n".utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        guard written > 0 || (written < 0 && errno == EINTR) else { return }
        bytes = bytes.dropFirst(max(written, 0))
    }
}

/// Writes `bytes` to `path`; says so and exits with status 1 when it cannot.
func write(_ bytes: [UInt8], to path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        complain("cannot write \(path)")
        throw ExitCode(1)
    }
}

/// Reads a module: an artifact (loaded and verified; with `anyTarget`, for the
/// target it names, else for the engine's), or a `.wasm` / `.wat` file compiled by `engine`.
func loadModule(_ file: String, engine: Engine, anyTarget: Bool = false) throws -> Module {
    guard let data = FileManager.default.contents(atPath: file) else {
        if !FileManager.default.fileExists(atPath: file) { throw ValidationError("no such file") }
        let isDirectory = (try? FileManager.default.contentsOfDirectory(atPath: file)) != nil
        throw ValidationError(isDirectory ? "a directory, not a module" : "cannot read the file (permission denied?)")
    }
    let bytes = [UInt8](data)
    if Module.isArtifact(bytes) {
        var config = engine.config
        if anyTarget, let target = Module.artifactTarget(bytes) { config.target = target }
        return try Module(engine: Engine(config), deserializing: bytes)
    }
    if file.hasSuffix(".wat") { return try Module(engine: engine, wat: String(decoding: bytes, as: UTF8.self)) }
    return try Module(engine: engine, bytes: bytes)
}

/// Compiles a module to an artifact.
struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Compile a .wasm or .wat module to a Sheave artifact (.cwasm) that runs without recompiling.")

    @Option(help: "The target: pulley64, pulley64be, pulley32 or pulley32be (default: this machine's).")
    var target: Target = .host

    @Flag(help: "Compile in fuel and interruption checkpoints (needed to run the artifact with --fuel).")
    var checkpoints = false

    @Option(name: .customLong("wasm"), help: "Turn a proposal on or off: NAME=y|n (repeatable; all are on by default).")
    var wasm: [String] = []

    // Named in full: a derived or inverted name costs ArgumentParser string conversions at every start.
    @Flag(name: .customLong("no-parallel-compilation"), help: "Compile a large module's functions (and make its code image) on one thread, not on every core as by default; the code is the same.")
    var oneThread = false

    @Option(name: .shortAndLong, help: "The artifact to write (default: the input with .cwasm).")
    var output: String?

    @Argument(help: "The module, .wasm or .wat.")
    var file: String

    func run() throws {
        let module: Module
        do {
            // Checkpoints are what fuel metering and interruption need.
            // An artifact holds every function compiled.
            let engine = Engine(Config(fuelMetering: checkpoints, interruptible: checkpoints, target: target, features: enabledFeatures(wasm),
                                       parallelCompilation: !oneThread, compilation: .eager))
            module = try loadModule(file, engine: engine, anyTarget: true)
            guard module.target == target else { throw ValidationError("already an artifact, for \(module.target.rawValue)") }
        } catch {
            complain("\(file): \(error)")
            throw ExitCode(1)
        }
        let path = output ?? (URL(fileURLWithPath: file).deletingPathExtension().path + "." + Module.artifactExtension)
        let artifact = try module.serialize()
        try write(artifact, to: path)
        print("\(path): \(artifact.count) bytes, \(target.rawValue), \(module.definedFunctionCount) functions, \(try module.bytecodeSize) bytes of bytecode")
    }
}

/// Runs spec test scripts.
struct Wast: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wast",
        abstract: "Run .wast spec test scripts; exits non-zero when any assertion fails.",
        discussion: """
            With --suite, runs the groups of the official spec test suite (its manifest.json \
            selects the files) and prints a table per group. The suite is found through \
            SHEAVE_TESTSUITE, else ../shared/wasm-testsuite.
            """)

    @Argument(help: "The .wast files.")
    var files: [String] = []

    @Flag(help: "Run the spec test suite's files of --groups.")
    var suite = false

    @Option(help: "Comma-separated manifest groups for --suite (default: Wasm 2.0, without SIMD in a build without it, and the later groups that pass completely).")
    var groups: String = SpecSuite.groupsOfThisBuild.joined(separator: ",")

    @Option(help: "The dispatch loop: match or tail.")
    var dispatch: Config.Dispatch = .default

    @Flag(help: "Print only the failures and the totals.")
    var quiet = false

    @Option(help: "When the modules' functions are compiled: automatic, eager or lazy (an assert_invalid's or assert_malformed's module is compiled eagerly).")
    var compilation: Config.Compilation = .automatic

    @Option(name: .customLong("wasm"), help: "Turn a proposal on or off: NAME=y|n (repeatable; all are on by default).")
    var wasm: [String] = []

    func run() throws {
        let runner = WASTRunner(dispatch: dispatch, features: enabledFeatures(wasm), compilation: compilation)
        var reports: [WASTReport] = []
        if suite {
            guard let spec = SpecSuite.locate() else {
                throw ValidationError("spec test suite not found: set SHEAVE_TESTSUITE to the folder holding manifest.json")
            }
            let selected = spec.filesOfThisBuild(in: groups.split(separator: ",").map(String.init))
            reports = spec.run(selected, with: runner)
            for report in reports { report.failures.forEach { print($0) } }
            print(SpecSuite.summary(selected, reports))
        } else {
            for file in files {
                let report = runner.run(path: file)
                report.failures.forEach { print($0) }
                if !quiet { print("\(file): \(report.passed) passed, \(report.failed) failed") }
                reports.append(report)
            }
        }
        let passed = reports.reduce(0) { $0 + $1.passed }, failed = reports.reduce(0) { $0 + $1.failed }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}

/// Runs a WebAssembly program.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a .wasm or .wat module: its WASI _start, or the function given with --invoke.")

    @Option(help: "Call this exported function instead of _start; the arguments after FILE are its arguments.")
    var invoke: String?

    @Option(name: .customLong("dir"), help: "Preopen a host directory: HOST or HOST::GUEST (repeatable).")
    var directories: [String] = []

    @Option(help: "Instantiate another module first and link its exports under NAME: NAME=PATH (repeatable).")
    var preload: [String] = []

    @Option(name: .customLong("env"), help: "Set an environment variable for the program: NAME=VALUE, or NAME to pass on the host's value (repeatable).")
    var environment: [String] = []

    @Option(help: "The dispatch loop: match or tail.")
    var dispatch: Config.Dispatch = RunRequest.defaults.dispatch

    @Option(name: .customLong("wasm"), help: "Turn a proposal on or off: NAME=y|n, e.g. tail-call=n (repeatable; all are on by default).")
    var wasm: [String] = []

    @Option(help: "Run with this much fuel: one unit per function entry and loop iteration; running out traps.")
    var fuel: Int64?

    @Option(help: "The VM stack in bytes; deeper recursion traps with \"call stack exhausted\".")
    var stackSize: Int = RunRequest.defaults.stackSize

    @Option(name: .customLong("profile"), help: "Sample the running op and write a profile to this file (read it with `sheave profile`).")
    var profilePath: String?

    @Option(help: "With --profile: microseconds between samples.")
    var profileInterval: Int = RunRequest.defaults.profileInterval

    // Named in full: a derived or inverted name costs ArgumentParser string conversions at every start.
    @Flag(name: .customLong("no-parallel-compilation"), help: "Compile a large module's functions (and make its code image) on one thread, not on every core as by default; the code is the same.")
    var oneThread = false

    @Option(help: "When functions are compiled: automatic (each on its first call in a module with at least 256 KiB of code, all before running in a smaller one), eager or lazy. With --profile, eager.")
    var compilation: Config.Compilation = RunRequest.defaults.compilation

    @Argument(help: "The module: .wasm, .wat or an artifact (.cwasm).")
    var file: String

    @Argument(parsing: .captureForPassthrough, help: "The program's arguments (or, with --invoke, the function's).")
    var arguments: [String] = []

    func run() throws {
        try RunRequest(invoke: invoke, directories: directories, preload: preload, environment: environment,
                       dispatch: dispatch, wasm: wasm, fuel: fuel, stackSize: stackSize, profilePath: profilePath,
                       profileInterval: profileInterval, oneThread: oneThread, compilation: compilation,
                       file: file, arguments: arguments).run()
    }
}

/// What `sheave run` does, apart from reading its command line: `Run` fills it from
/// ArgumentParser, `SheaveCommand.main` from a plain `sheave run FILE ARGS…` alone.
struct RunRequest {
    var invoke: String? = nil
    var directories: [String] = []
    var preload: [String] = []
    var environment: [String] = []
    var dispatch = RunRequest.engineDefaults.dispatch
    var wasm: [String] = []
    var fuel: Int64? = nil
    var stackSize = RunRequest.engineDefaults.stackSize
    var profilePath: String? = nil
    var profileInterval: Int = 100
    var oneThread = false
    var compilation = RunRequest.engineDefaults.compilation
    var file: String
    var arguments: [String] = []

    /// The defaults `Run`'s options show and start from: the engine's own where
    /// an option sets one of its `Config`'s.
    static let defaults = RunRequest(file: "")
    private static let engineDefaults = Config()

    func run() throws {
        guard stackSize >= 4096, stackSize <= Config.maximumStackSize else {
            fail("--stack-size must be between 4096 and \(Config.maximumStackSize) bytes, got \(stackSize)")
        }
        // The profiler reads samples against the module's whole bytecode.
        let engine = Engine(Config(fuelMetering: fuel != nil, stackSize: stackSize, dispatch: dispatch, features: enabledFeatures(wasm),
                                   parallelCompilation: !oneThread, compilation: profilePath != nil ? .eager : compilation))
        let module: Module
        do {
            module = try loadModule(file, engine: engine)
        } catch {
            fail("\(error)")
        }
        var env: [String: String] = [:]
        for spec in environment {
            // `--env NAME` alone passes on the host's value, as Wasmtime's does.
            if !spec.contains("=") {
                guard !spec.isEmpty else { fail("--env expects NAME=VALUE or NAME, got an empty name") }
                if let value = ProcessInfo.processInfo.environment[spec] { env[spec] = value }
                continue
            }
            let (name, value) = splitAssignment(spec, flag: "--env", form: "NAME=VALUE")
            env[name] = value
        }
        let preloads = preload.map { spec -> (name: String, path: String) in splitAssignment(spec, flag: "--preload", form: "NAME=PATH") }
        let preopens = directories.map { spec -> (guest: String, host: String) in
            let parts = spec.components(separatedBy: "::")
            return (guest: parts.count > 1 ? parts[1] : parts[0], host: parts[0])
        }
        guard profileInterval > 0 else { fail("--profile-interval must be positive") }
        var profiler: Profiler?
        var instance: Instance?
        // Written however the run ends: a return, an exit, a trap.
        defer {
            if let profiler, let instance, let profilePath {
                do {
                    writeProfile(try profiler.stop(attributingTo: instance, program: URL(fileURLWithPath: file).lastPathComponent), to: profilePath)
                } catch {
                    complain("no profile: \(error)")
                }
            }
        }
        do {
            let wasi = try WASIHost(args: [file] + (invoke == nil ? arguments : []), environment: env, preopens: preopens)
            let store = Store(engine: engine)
            if let fuel { store.fuel = fuel }
            if profilePath != nil {
                profiler = store.profiler(interval: Double(profileInterval) / 1_000_000)
                profiler?.start()
            }
            var linker = Linker()
            linker.defineWASI(wasi)
            for (name, path) in preloads {
                let preloaded: Module
                do { preloaded = try loadModule(path, engine: engine) } catch { fail("--preload \(name)=\(path): \(error)") }
                linker.define(name, instance: try linker.instantiate(preloaded, in: store))
            }
            instance = try linker.instantiate(module, in: store)
            guard let instance else { return }
            if let invoke {
                guard case .function(let function)? = instance.export(invoke) else {
                    let functions = module.exports.filter { if case .function? = instance.export($0) { true } else { false } }
                    fail("no exported function named \(invoke) (the module exports \(functions.isEmpty ? "no functions" : "functions " + functions.joined(separator: ", ")))")
                }
                let params = function.type.parameters
                guard params.count == arguments.count else { fail("\(invoke) takes \(params.count) argument(s), got \(arguments.count)") }
                let values = try zip(params, arguments).map { try parseArgument($1, as: $0) }
                for result in try instance.invoke(invoke, values) { print(result.formatted(withType: false)) }
            } else {
                guard instance.export("_start") != nil else { fail("the module exports no _start function; choose one with --invoke") }
                _ = try instance.invoke("_start", [])
            }
        } catch let exit as WASIExit {
            throw ExitCode(exit.code)
        } catch let trap as Trap {
            // As Wasmtime's CLI on Unix: a trap ends the process as an abort would.
            complain("\(file): trap: \(trap)")
            throw ExitCode(Self.trapStatus)
        } catch let exception as WasmException {
            // An uncaught exception ends the process as a trap does.
            complain("\(file): \(exception)")
            throw ExitCode(Self.trapStatus)
        } catch {
            fail("\(error)")
        }
    }

    /// The exit status of a run that trapped (Wasmtime's: 128 + SIGABRT).
    static let trapStatus: Int32 = 134

    func fail(_ reason: String) -> Never {
        complain("\(file): \(reason)")
        terminate(1)
    }

    func writeProfile(_ profile: Sheave.Profile, to path: String) {
        guard FileManager.default.createFile(atPath: path, contents: Data(profile.serialized())) else {
            return complain("cannot write \(path)")
        }
        complain("profile written to \(path): \(profile.inside + profile.outside) samples; report it with `sheave profile \(path)`")
    }

    func parseArgument(_ text: String, as type: ValueType) throws -> Sheave.Value {
        switch type {
        case .i32:
            if let v = Int32(text) { return .i32(UInt32(bitPattern: v)) }
            if let v = UInt32(text) { return .i32(v) }
        case .i64:
            if let v = Int64(text) { return .i64(UInt64(bitPattern: v)) }
            if let v = UInt64(text) { return .i64(v) }
        case .f32: if let v = Float(text) { return .f32(v.bitPattern) }
        case .f64: if let v = Double(text) { return .f64(v.bitPattern) }
        default: break
        }
        fail("cannot read \(text) as \(type)")
    }
}

extension RunRequest {
    /// The request of `sheave run FILE ARGS…` with no option anywhere (no word
    /// after `run` starts with "-"); nil for any other command line.
    init?(plain commandLine: [String]) {
        guard commandLine.count >= 2, commandLine[0] == "run", !commandLine.dropFirst().contains(where: { $0.hasPrefix("-") }) else {
            return nil
        }
        self.init(file: commandLine[1], arguments: Array(commandLine.dropFirst(2)))
    }
}

/// Reports a profile written by `sheave run --profile`.
struct Profile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Report a profile written by `sheave run --profile`: hottest functions (hottest last), each op's share of samples, the most frequent op pairs.")

    @Argument(help: "The profile file.")
    var file: String

    @Option(help: "Also write the report as one self-contained HTML page.")
    var html: String?

    @Option(help: "How many of the hottest functions to print op by op.")
    var functions: Int = 3

    @Option(help: "How many op pairs to print.")
    var pairs: Int = 20

    func run() throws {
        let profile: Sheave.Profile
        do {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read the file") }
            profile = try Sheave.Profile(deserializing: [UInt8](data))
        } catch {
            complain("\(file): \(error)")
            throw ExitCode(1)
        }
        print(profile.report(functions: functions, pairs: pairs), terminator: "")
        if let html { try write(Array(profile.html().utf8), to: html) }
    }
}

/// Prints the bytecode a module compiles to.
struct Objdump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "objdump",
        abstract: "Disassemble the Sheave bytecode of a .wasm or .wat module or an artifact (any target), function by function.")

    @Argument(help: "The module: .wasm, .wat or an artifact (.cwasm).")
    var file: String

    @Flag(help: "Print each op's offset in the code image.")
    var addresses = false

    @Flag(help: "Print each op's raw bytes.")
    var bytes = false

    @Flag(help: "After each super-instruction, print the ops it stands for (as the op table declares them).")
    var fusions = false

    @Option(help: "Only the function with this name (name section or export), or this index.")
    var function: String?

    func run() throws {
        let module: Module
        do {
            module = try loadModule(file, engine: Engine(Config(compilation: .eager)), anyTarget: true)
        } catch {
            complain("\(file): \(error)")
            throw ExitCode(1)
        }
        guard let listing = try module.disassembly(addresses: addresses, bytes: bytes, fusions: fusions, function: function) else {
            complain("\(file): no function \(function ?? "")")
            throw ExitCode(1)
        }
        print(listing, terminator: "")
    }
}
