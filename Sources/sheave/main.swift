import ArgumentParser
import Foundation
import Sheave
import SheaveBytecode
import SheaveCompiler
import SheaveDemos
import SheaveInterpreter
import SheaveProfile
import SheaveWASI
import SheaveWAST
import WAT
import WasmTypes

@main
struct SheaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sheave",
        abstract: "Sheave: a WebAssembly runtime whose engine is a portable, optimizing interpreter.",
        subcommands: [Run.self, Compile.self, Objdump.self, Profile.self, Wast.self, Demo.self, BenchDispatch.self])
}

extension DispatchMode: ExpressibleByArgument {}
extension Target: ExpressibleByArgument {}

/// Prints `sheave: message` on standard error.
func complain(_ message: String) {
    FileHandle.standardError.write(Data("sheave: \(message)\n".utf8))
}

/// Writes `bytes` to `path`; says so and exits with status 1 when it cannot.
func write(_ bytes: [UInt8], to path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        complain("cannot write \(path)")
        throw ExitCode(1)
    }
}

/// Reads a module: an artifact (loaded and verified, for `target` when given),
/// or a `.wasm` / `.wat` file (compiled with `options`).
func loadModule(_ file: String, options: CompileOptions, target: Target?) throws -> CompiledModule {
    guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read the file") }
    let bytes = [UInt8](data)
    if Artifact.isArtifact(bytes) {
        return try CompiledModule(deserializing: bytes, target: target)
    }
    let binary = file.hasSuffix(".wat") ? try wat2wasm(String(decoding: bytes, as: UTF8.self), options: EncodeOptions(nameSection: true)) : bytes
    return try CompiledModule(bytes: binary, options: options)
}

/// Compiles a module to an artifact.
struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a .wasm or .wat module to a Sheave artifact (.cwasm) that runs without recompiling.")

    @Option(help: "The target: pulley64, pulley64be, pulley32 or pulley32be (default: this machine's).")
    var target: Target = .host

    @Flag(help: "Compile in fuel and interruption checkpoints (needed to run the artifact with --fuel).")
    var checkpoints = false

    @Option(name: .shortAndLong, help: "The artifact to write (default: the input with .cwasm).")
    var output: String?

    @Argument(help: "The module, .wasm or .wat.")
    var file: String

    func run() throws {
        let module: CompiledModule
        do {
            module = try loadModule(file, options: CompileOptions(checkpoints: checkpoints, target: target), target: nil)
            guard module.options.target == target else { throw ValidationError("already an artifact, for \(module.options.target.rawValue)") }
        } catch {
            complain("\(file): \(error)")
            throw ExitCode(1)
        }
        let path = output ?? (URL(fileURLWithPath: file).deletingPathExtension().path + "." + Artifact.fileExtension)
        let artifact = module.serialized()
        try write(artifact, to: path)
        print("\(path): \(artifact.count) bytes, \(target.rawValue), \(module.functionOffsets.count) functions, \(module.code.count) bytes of bytecode")
    }
}

/// Runs one of the hand-assembled programs.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a hand-assembled program: fib N, count N, sum N.")

    @Argument(help: "The program: fib, count or sum.")
    var program: String

    @Argument(help: "Its argument.")
    var argument: UInt32

    @Option(help: "The dispatch loop: match or tail.")
    var dispatch: DispatchMode = .default

    func run() throws {
        var memory: LinearMemory?
        let chosen: Programs.Program
        switch program {
        case "fib": chosen = Programs.fib()
        case "count": chosen = Programs.countLoop()
        case "sum":
            chosen = Programs.sumMemory()
            guard let filled = LinearMemory(pages: (Int(argument) * 4 + 65535) / 65536) else {
                throw ValidationError("cannot allocate memory for \(argument) values")
            }
            for i in 0..<Int(argument) {
                filled.base.storeBytes(of: UInt32(i).littleEndian, toByteOffset: i * 4, as: UInt32.self)
            }
            memory = filled
        default:
            throw ValidationError("unknown program '\(program)': choose fib, count or sum")
        }
        let code = CodeImage(chosen.code)
        let vm = VM(dispatchMode: dispatch, context: ExecutionContext(memory: memory))
        do {
            let results = try vm.invoke(code.address(at: 0), arguments: [UInt64(argument)], resultCount: 1)
            print(results[0])
        } catch let trap as VMTrap {
            FileHandle.standardError.write("\(trap)\n".data(using: .utf8)!)
            throw ExitCode(1)
        }
    }
}

/// Measures the dispatch loops side by side on the same programs.
struct BenchDispatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-dispatch",
        abstract: "Time the match loop and the tail loop side by side (build with -c release).")

    @Option(help: "Loop iterations (two ops each).")
    var iterations: UInt32 = 100_000_000

    @Option(help: "fib argument.")
    var fib: UInt32 = 30

    @Option(help: "Rounds; the median is reported.")
    var rounds: Int = 5

    func run() throws {
        if !DispatchMode.tailLoopIsSafe {
            print("note: a debug build runs the tail loop as the match loop; build with -c release")
        }
        let cases: [(String, Programs.Program, UInt64, Double)] = [
            // name, program, argument, executed ops (for ns per op)
            ("count loop", Programs.countLoop(), UInt64(iterations), Double(iterations) * 2 + 4),
            ("fib, windows", Programs.fib(), UInt64(fib), fibOps(Int(fib), perCall: 9, perLeaf: 3)),
            ("fib, fixed-file moves", Programs.fibFixedRegisterStyle(), UInt64(fib), fibOps(Int(fib), perCall: 15, perLeaf: 6)),
        ]
        print("| program | ops executed | match loop ns/op | tail loop ns/op | match / tail |")
        print("|---|---:|---:|---:|---:|")
        for (name, program, argument, ops) in cases {
            let code = CodeImage(program.code)
            var times: [DispatchMode: [Double]] = [:]
            for _ in 0..<rounds {
                for mode in DispatchMode.allCases {  // interleaved
                    let vm = VM(dispatchMode: mode)
                    let start = ContinuousClock.now
                    _ = try vm.invoke(code.address(at: 0), arguments: [argument], resultCount: 1)
                    let elapsed = ContinuousClock.now - start
                    times[mode, default: []].append(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
                }
            }
            let match = median(times[.match]!) / ops * 1e9, tail = median(times[.tail]!) / ops * 1e9
            print("| \(name) | \(Int(ops)) | \(format(match)) | \(format(tail)) | \(format(match / tail)) |")
        }
    }

    /// Ops executed by the recursive fib programs: `perCall` in a call with n >= 2, `perLeaf` otherwise.
    func fibOps(_ n: Int, perCall: Double, perLeaf: Double) -> Double {
        var calls = [Double](repeating: 0, count: max(n + 1, 2)), leaves = calls
        leaves[0] = 1; leaves[1] = 1
        if n >= 2 { for i in 2...n { calls[i] = 1 + calls[i - 1] + calls[i - 2]; leaves[i] = leaves[i - 1] + leaves[i - 2] } }
        return calls[n] * perCall + leaves[n] * perLeaf
    }

    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    func format(_ value: Double) -> String { String(format: "%.2f", value) }
}

/// Runs spec test scripts.
struct Wast: ParsableCommand {
    static let configuration = CommandConfiguration(
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

    @Option(help: "Comma-separated manifest groups for --suite (default: Wasm 2.0; without SIMD in a build without it).")
    var groups: String = SpecSuite.wasm2GroupsOfThisBuild.joined(separator: ",")

    @Option(help: "The dispatch loop: match or tail.")
    var dispatch: DispatchMode = .default

    @Flag(help: "Print only the failures and the totals.")
    var quiet = false

    func run() throws {
        let runner = WASTRunner(dispatchMode: dispatch)
        var reports: [WASTReport] = []
        if suite {
            guard let spec = SpecSuite.locate() else {
                throw ValidationError("spec test suite not found: set SHEAVE_TESTSUITE to the folder holding manifest.json")
            }
            let selected = spec.files(in: groups.split(separator: ",").map(String.init))
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
        abstract: "Run a .wasm or .wat module: its WASI _start, or the function given with --invoke.")

    @Option(help: "Call this exported function instead of _start; the arguments after FILE are its arguments.")
    var invoke: String?

    @Option(name: .customLong("dir"), help: "Preopen a host directory: HOST or HOST::GUEST (repeatable).")
    var directories: [String] = []

    @Option(name: .customLong("env"), help: "Set an environment variable for the program: K=V (repeatable).")
    var environment: [String] = []

    @Option(help: "The dispatch loop: match or tail.")
    var dispatch: DispatchMode = .default

    @Option(help: "Run with this much fuel: one unit per function entry and loop iteration; running out traps.")
    var fuel: Int64?

    @Option(help: "The VM stack in bytes; deeper recursion traps with \"call stack exhausted\".")
    var stackSize: Int = 1 << 20

    @Option(name: .customLong("profile"), help: "Sample the running op and write a profile to this file (read it with `sheave profile`).")
    var profilePath: String?

    @Option(help: "With --profile: microseconds between samples.")
    var profileInterval: Int = 100

    @Argument(help: "The module: .wasm, .wat or an artifact (.cwasm).")
    var file: String

    @Argument(parsing: .captureForPassthrough, help: "The program's arguments (or, with --invoke, the function's).")
    var arguments: [String] = []

    func run() throws {
        guard stackSize >= 4096 else { fail("--stack-size must be at least 4096 bytes") }
        let configuration = Store.Configuration(fuelMetering: fuel != nil, stackSize: stackSize, dispatchMode: dispatch)
        let module: CompiledModule
        do {
            module = try loadModule(file, options: configuration.compileOptions, target: .host)
        } catch {
            fail("\(error)")
        }
        var env: [String: String] = [:]
        for pair in environment {
            guard let eq = pair.firstIndex(of: "=") else { fail("--env expects K=V, got \(pair)") }
            env[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
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
                writeProfile(profiler.stop(), instance: instance, to: profilePath)
            }
        }
        do {
            let wasi = try WASIHost(args: [file] + (invoke == nil ? arguments : []), environment: env, preopens: preopens)
            let store = Store(configuration: configuration)
            if let fuel { store.fuel = fuel }
            if profilePath != nil {
                profiler = store.profiler(interval: Double(profileInterval) / 1_000_000)
                profiler?.start()
            }
            instance = try Instance(module: module, store: store, imports: wasi.imports())
            guard let instance else { return }
            if let invoke {
                guard case .function(let function)? = instance.export(invoke) else { fail("no exported function named \(invoke)") }
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
            complain("\(file): trap: \(trap)")
            throw ExitCode(1)
        } catch {
            fail("\(error)")
        }
    }

    func fail(_ reason: String) -> Never {
        complain("\(file): \(reason)")
        Foundation.exit(1)
    }

    func writeProfile(_ run: ProfileSamples, instance: Instance, to path: String) {
        var samples: [Int: Int] = [:]
        var outside = run.outside
        for (address, count) in run.samples {
            if let offset = instance.codeOffset(of: address) { samples[offset, default: 0] += count } else { outside += count }
        }
        let profile = SheaveProfile.Profile(module: instance.module, program: URL(fileURLWithPath: file).lastPathComponent, samples: samples,
                                            outside: outside, pairs: run.pairs, interval: run.interval, duration: run.duration)
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

/// Reports a profile written by `sheave run --profile`.
struct Profile: ParsableCommand {
    static let configuration = CommandConfiguration(
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
        let profile: SheaveProfile.Profile
        do {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read the file") }
            profile = try SheaveProfile.Profile(deserializing: [UInt8](data))
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
        let module: CompiledModule
        do {
            module = try loadModule(file, options: CompileOptions(), target: nil)
        } catch {
            complain("\(file): \(error)")
            throw ExitCode(1)
        }
        guard let listing = module.disassembly(options: .init(addresses: addresses, bytes: bytes, fusions: fusions), function: function) else {
            complain("\(file): no function \(function ?? "")")
            throw ExitCode(1)
        }
        print(listing, terminator: "")
    }
}
