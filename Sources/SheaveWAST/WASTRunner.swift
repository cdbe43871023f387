#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Sheave
import WAT

/// The outcome of running one `.wast` file.
public struct WASTReport: Sendable {
    /// One failed assertion or directive.
    public struct Failure: Sendable, CustomStringConvertible {
        /// The script, as the report names it.
        public let file: String
        /// The line of the directive.
        public let line: Int
        /// What went wrong.
        public let reason: String
        /// A readable form, for messages and logs.
        public var description: String { "\(file):\(line): \(reason)" }
    }

    /// The script, as the report names it.
    public let file: String
    /// Assertions that held.
    public var passed = 0
    /// Assertions and directives that failed.
    public var failed = 0
    /// Each failure with its line and reason.
    public var failures: [Failure] = []
}

/// Runs spec test scripts: every directive kind, against Sheave.
public struct WASTRunner {
    /// The features the text parser accepts (what Sheave compiles).
    static let textFeatures = Module.textFeatures

    /// The dispatch loop the scripts run on.
    public let dispatch: Config.Dispatch

    /// Whether each compiled module is written as an artifact and loaded back
    /// (verified) before it runs: the suite then tests the artifact format and
    /// that the verifier accepts everything the compiler emits.
    public let throughArtifacts: Bool

    /// The proposals the scripts' modules may use (a module using another is invalid).
    public let features: Features

    /// When the scripts' modules are compiled. A module an `assert_invalid` or
    /// `assert_malformed` gives is compiled eagerly whatever it says: the assertion
    /// is about the whole module, which lazy compilation validates a function at a time.
    public let compilation: Config.Compilation

    /// A runner using `dispatch`, optionally running every module from an artifact.
    public init(dispatch: Config.Dispatch = .default, throughArtifacts: Bool = false, features: Features = .all,
                compilation: Config.Compilation = .automatic) {
        self.dispatch = dispatch
        self.throughArtifacts = throughArtifacts
        self.features = features
        self.compilation = compilation
    }

    /// Runs the script at `path`; `name` is how failures name the file.
    public func run(path: String, name: String? = nil) -> WASTReport {
        let name = name ?? path
        var report = WASTReport(file: name)
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            report.failed += 1
            report.failures.append(.init(file: name, line: 0, reason: "cannot read the file"))
            return report
        }
        var script: WAST
        do {
            script = try parseWAST(text, features: Self.textFeatures)
        } catch {
            report.failed += 1
            report.failures.append(.init(file: name, line: 0, reason: "cannot parse: \(error)"))
            return report
        }
        var session = Session(engine: Engine(Config(dispatch: dispatch, features: features, compilation: compilation)), throughArtifacts: throughArtifacts)
        while let (parsed, location) = script.nextDirectiveResult() {
            // The line is computed only for a failure: WAT finds it by splitting the
            // whole text, which for every directive of a large file was most of a run.
            let outcome: Outcome
            switch parsed {
            case .success(let directive):
                outcome = session.run(directive)
            case .failure(let failure):
                if failure.module != nil { session.current = nil }
                outcome = .failed("cannot parse directive: \(failure.error)")
            }
            switch outcome {
            case .passed: report.passed += 1
            case .failed(let reason):
                report.failed += 1
                report.failures.append(.init(file: name, line: location.computeLineAndColumn().line, reason: reason))
            case .notAnAssertion: break
            }
        }
        return report
    }
}

enum Outcome {
    case passed
    case failed(String)
    /// A directive that asserts nothing and went well (a module, a register).
    case notAnAssertion
}

/// The state of one script: instances by name, registered modules.
struct Session {
    let engine: Engine
    let store: Store
    let throughArtifacts: Bool
    var current: Instance?
    var named: [String: Instance] = [:]
    /// Modules defined with `(module definition …)`, by name, and the last one.
    var definitions: [String: Module] = [:]
    var lastDefinition: Module?
    /// The `spectest` host module and the registered instances' exports.
    var linker = Linker()

    init(engine: Engine, throughArtifacts: Bool) {
        self.engine = engine
        store = Store(engine: engine)
        self.throughArtifacts = throughArtifacts
        for (name, extern) in SpecTestHost.exports() { linker.define("spectest", name, extern) }
    }

    /// Instantiates `module` against the spectest module and the registered instances.
    func instantiate(_ module: Module) throws -> Instance {
        try linker.instantiate(module, in: store)
    }

    mutating func run(_ directive: WASTDirective) -> Outcome {
        switch directive {
        case .module(let module):
            current = nil
            do {
                let compiled = try compile(module.source)
                if module.isDefinition {
                    // `(module definition $M …)`: compiled now, instantiated by `(module instance …)`.
                    lastDefinition = compiled
                    if let id = module.id { definitions[id] = compiled }
                    return .notAnAssertion
                }
                let instance = try instantiate(compiled)
                current = instance
                if let id = module.id { named[id] = instance }
                return .notAnAssertion
            } catch {
                return .failed("module failed: \(error)")
            }
        case .moduleInstance(let instanceID, let moduleID):
            // A fresh instance of a definition each time: instantiation is generative.
            current = nil
            guard let definition = moduleID.map({ definitions[$0] }) ?? lastDefinition else {
                return .failed("module instance: no module definition \(moduleID ?? "")")
            }
            do {
                let instance = try instantiate(definition)
                current = instance
                if let instanceID { named[instanceID] = instance }
                return .notAnAssertion
            } catch {
                return .failed("module instance failed: \(error)")
            }
        case .register(let name, let moduleID):
            guard let instance = moduleID.flatMap({ named[$0] }) ?? current else { return .failed("register: no module") }
            linker.define(name, instance: instance)
            return .notAnAssertion
        case .invoke(let invoke):
            do {
                _ = try self.invoke(invoke)
                return .notAnAssertion
            } catch {
                return .failed("invoke \(invoke.name) failed: \(error)")
            }
        case .assertReturn(let execute, let expected):
            do {
                let actual = try self.execute(execute)
                guard actual.count == expected.count else {
                    return .failed("\(describe(execute)): expected \(expected.count) results, got \(actual.count)")
                }
                for (value, expectation) in zip(actual, expected) where !matches(value, expectation) {
                    return .failed("\(describe(execute)): expected \(expected), got \(actual)")
                }
                return .passed
            } catch {
                return .failed("\(describe(execute)): \(error)")
            }
        case .assertTrap(.wat(let wat), let message):
            // assert_uninstantiable: instantiation must trap.
            do {
                let compiled = try compile(.text(wat))
                _ = try instantiate(compiled)
                return .failed("module instantiated, expected trap \"\(message)\"")
            } catch let trap as Trap {
                return trap.message.contains(message) || message.contains(trap.message) ? .passed : .failed("trapped \"\(trap)\", expected \"\(message)\"")
            } catch {
                return .failed("expected trap \"\(message)\", got \(error)")
            }
        case .assertTrap(let execute, let message):
            return expectTrap(describe(execute), message) { () throws in _ = try self.execute(execute) }
        case .assertExhaustion(let call, let message):
            return expectTrap("invoke \(call.name)", message) { () throws in _ = try self.invoke(call) }
        case .assertInvalid(let module, let message), .assertMalformed(let module, let message):
            do {
                _ = try compile(module.source, wholly: true)
                return .failed("module compiled, expected it to be rejected: \"\(message)\"")
            } catch let error as ModuleError where error.kind == .unsupported {
                return .failed("unsupported: \(error) (expected rejection: \"\(message)\")")
            } catch {
                return .passed
            }
        case .assertUnlinkable(let wat, let message):
            do {
                let compiled = try compile(.text(wat))
                _ = try instantiate(compiled)
                return .failed("module linked, expected \"\(message)\"")
            } catch let error as LinkError where !error.message.hasPrefix("unsupported") {
                return .passed
            } catch {
                return .failed("expected link failure \"\(message)\", got \(error)")
            }
        case .assertException(let execute):
            do {
                _ = try self.execute(execute)
                return .failed("\(describe(execute)): returned, expected an uncaught exception")
            } catch is WasmException {
                return .passed
            } catch {
                return .failed("\(describe(execute)): expected an uncaught exception, got \(error)")
            }
        case .assertFuel, .assertOutOfFuel:
            return .failed("unsupported directive")
        }
    }

    func expectTrap(_ what: String, _ message: String, _ body: () throws -> Void) -> Outcome {
        do {
            try body()
            return .failed("\(what): returned, expected trap \"\(message)\"")
        } catch let trap as Trap {
            return message.hasPrefix(trap.message) || trap.message.hasPrefix(message)
                ? .passed : .failed("\(what): trapped \"\(trap)\", expected \"\(message)\"")
        } catch {
            return .failed("\(what): expected trap \"\(message)\", got \(error)")
        }
    }

    /// `wholly`: compiled eagerly, whatever the engine's `Config.compilation`.
    func compile(_ source: ModuleSource, wholly: Bool = false) throws -> Module {
        let bytes: [UInt8]
        switch source {
        case .text(let wat): bytes = try wat.encode()
        case .quote(let text): bytes = try wat2wasm(String(decoding: text, as: UTF8.self), features: WASTRunner.textFeatures)
        case .binary(let binary): bytes = binary
        }
        var engine = engine
        if wholly, engine.config.compilation != .eager {
            var config = engine.config
            config.compilation = .eager
            engine = Engine(config)
        }
        let compiled = try Module(engine: engine, bytes: bytes)
        return throughArtifacts ? try Module(engine: engine, deserializing: compiled.serialize()) : compiled
    }

    func instance(_ name: String?) throws -> Instance {
        if let name {
            guard let instance = named[name] else { throw LinkError(message: "unknown module \(name)") }
            return instance
        }
        guard let current else { throw LinkError(message: "no current module") }
        return current
    }

    func invoke(_ invoke: WASTInvoke) throws -> [Sheave.Value] {
        let arguments = try invoke.args.map { (arg: WASTConstValue) throws -> Sheave.Value in
            switch arg {
            case .i32(let v): return .i32(v)
            case .i64(let v): return .i64(v)
            case .f32(let v): return .f32(v)
            case .f64(let v): return .f64(v)
            case .v128(let v):
                guard let value = Sheave.Value.v128(bytes: v.bytes) else { throw LinkError(message: "a v128 argument of \(v.bytes.count) bytes") }
                return value
            case .refNull: return .ref(0)
            case .refExtern(let v): return .ref(UInt64(v) + 1)
            default: throw LinkError(message: "unsupported argument \(arg)")
            }
        }
        return try instance(invoke.module).invoke(invoke.name, arguments)
    }

    func execute(_ execute: WASTExecute) throws -> [Sheave.Value] {
        switch execute {
        case .invoke(let invoke): return try self.invoke(invoke)
        case .get(let module, let name):
            guard case .global(let global)? = try instance(module).export(name) else { throw LinkError(message: "unknown global \(name)") }
            return [global.value]
        case .wat(let wat):
            let compiled = try compile(.text(wat))
            _ = try instantiate(compiled)
            return []
        }
    }

    func describe(_ execute: WASTExecute) -> String {
        switch execute {
        case .invoke(let invoke): return "invoke \(invoke.name)"
        case .get(_, let name): return "get \(name)"
        case .wat: return "module"
        }
    }

    /// A v128 against lane patterns: float lanes flagged in `nanLaneMask` need only
    /// be NaN (any NaN: WASTParser keeps no canonical/arithmetic distinction per lane
    /// in the mask); every other byte must match exactly.
    func matches(low: UInt64, high: UInt64, _ pattern: V128Expectation) -> Bool {
        var bytes: [UInt8] = []
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: low >> (8 * UInt64(i)))) }
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: high >> (8 * UInt64(i)))) }
        let laneSize: Int
        switch pattern.shape {
        case .f32x4: laneSize = 4
        case .f64x2: laneSize = 8
        case nil: return bytes == pattern.bytes
        }
        for lane in 0..<(16 / laneSize) {
            let range = lane * laneSize..<(lane + 1) * laneSize
            if pattern.nanLaneMask & (1 << lane) != 0 {
                var bits: UInt64 = 0
                for (k, byte) in bytes[range].enumerated() { bits |= UInt64(byte) << (8 * UInt64(k)) }
                let isNaN = laneSize == 4 ? Float(bitPattern: UInt32(truncatingIfNeeded: bits)).isNaN : Double(bitPattern: bits).isNaN
                if !isNaN { return false }
            } else if Array(bytes[range]) != Array(pattern.bytes[range]) {
                return false
            }
        }
        return true
    }

    /// Compares exactly, bit for bit, but for NaN patterns.
    func matches(_ value: Sheave.Value, _ expected: WASTExpectValue) -> Bool {
        switch (value, expected) {
        case (.i32(let a), .i32(let b)): return a == b
        case (.i64(let a), .i64(let b)): return a == b
        case (.f32(let a), .f32(let b)): return a == b
        case (.f64(let a), .f64(let b)): return a == b
        case (.f32(let a), .f32CanonicalNaN): return a & 0x7FFF_FFFF == 0x7FC0_0000
        case (.f32(let a), .f32ArithmeticNaN): return a & 0x7FC0_0000 == 0x7FC0_0000
        case (.f64(let a), .f64CanonicalNaN): return a & 0x7FFF_FFFF_FFFF_FFFF == 0x7FF8_0000_0000_0000
        case (.f64(let a), .f64ArithmeticNaN): return a & 0x7FF8_0000_0000_0000 == 0x7FF8_0000_0000_0000
        case (.ref(let a), .refNull): return a == 0
        case (.ref(let a), .refExtern(let v)): return a != 0 && (v.map { UInt64($0) + 1 == a } ?? true)
        case (.ref(let a), .refFunc): return a != 0
        case (.v128, .v128(let expected)):
            return value == Sheave.Value.v128(bytes: expected.bytes)
        case (.v128(let low, let high), .v128Pattern(let pattern)):
            return matches(low: low, high: high, pattern)
        case (_, .either(let options)): return options.contains { matches(value, $0) }
        default: return false
        }
    }
}
