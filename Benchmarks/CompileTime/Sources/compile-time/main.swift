// For each module: Sheave's decode + validate + compile, and its instantiation
// on top; WasmKit's parse + instantiation with eager translation (every
// function translated), and with lazy translation (none). Medians of the rounds,
// the runtimes interleaved in each round.
import Foundation
import Sheave
import SheaveCompiler
import SheaveWASI
import Timing
import WasmKit
import WasmKitWASI

func ms(_ value: Double) -> String { String(format: "%.1f", value * 1000) }

let rounds = 7
let engine = Sheave.Engine()

/// Instantiates `module` with WASI, as `sheave run` does.
func instantiate(_ module: Sheave.Module) throws {
    var linker = Sheave.Linker()
    linker.defineWASI(try WASIHost())
    _ = try linker.instantiate(module, in: Sheave.Store(engine: engine))
}
print("| module | size (KiB) | Sheave compile (ms) | Sheave compile + instantiate (ms) | WasmKit parse + eager instantiate (ms) | WasmKit parse + lazy instantiate (ms) | Sheave / WasmKit eager |")
print("|---|---:|---:|---:|---:|---:|---:|")
for path in CommandLine.arguments.dropFirst() {
    guard let data = FileManager.default.contents(atPath: path) else { fatalError("cannot read \(path)") }
    let bytes = [UInt8](data)
    var compile: [Double] = [], compileInstantiate: [Double] = [], eager: [Double] = [], lazy: [Double] = []
    for _ in 0..<rounds {
        compile.append(try seconds { _ = try CompiledModule(bytes: bytes) })
        compileInstantiate.append(try seconds { try instantiate(try Sheave.Module(engine: engine, bytes: bytes)) })
        for (mode, sink) in [(EngineConfiguration.CompilationMode.eager, 0), (.lazy, 1)] {
            let time = try seconds {
                let module = try parseWasm(bytes: bytes)
                let engine = Engine(configuration: EngineConfiguration(compilationMode: mode))
                let store = WasmKit.Store(engine: engine)
                var imports = Imports()
                let wasi = try WasmKitWASI.WASIBridgeToHost()
                wasi.link(to: &imports, store: store)
                _ = try module.instantiate(store: store, imports: imports)
                try wasi.close()
            }
            if sink == 0 { eager.append(time) } else { lazy.append(time) }
        }
    }
    let name = URL(fileURLWithPath: path).lastPathComponent
    print("| \(name) | \(bytes.count / 1024) | \(ms(median(compile))) | \(ms(median(compileInstantiate))) | \(ms(median(eager))) | \(ms(median(lazy))) | \(String(format: "%.2f", median(compileInstantiate) / median(eager))) |")
}

// Start-up from an artifact against start-up from the .wasm: the artifact is
// loaded (checks, decoding, bytecode verification) instead of compiled.
print("")
print("| module | .wasm (KiB) | artifact (KiB) | compile + instantiate (ms) | load artifact (ms) | of which verify (ms) | load artifact + instantiate (ms) | artifact / .wasm start-up |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for path in CommandLine.arguments.dropFirst() {
    guard let data = FileManager.default.contents(atPath: path) else { fatalError("cannot read \(path)") }
    let bytes = [UInt8](data)
    let compiled = try CompiledModule(bytes: bytes)
    let artifact = compiled.serialized()
    var fromWasm: [Double] = [], load: [Double] = [], verify: [Double] = [], fromArtifact: [Double] = []
    for _ in 0..<rounds {
        fromWasm.append(try seconds { try instantiate(try Sheave.Module(engine: engine, bytes: bytes)) })
        load.append(try seconds { _ = try CompiledModule(deserializing: artifact) })
        verify.append(try seconds {
            try BytecodeVerifier(info: compiled.info, options: compiled.options).verify(code: compiled.code, functionOffsets: compiled.functionOffsets)
        })
        fromArtifact.append(try seconds { try instantiate(try Sheave.Module(engine: engine, deserializing: artifact)) })
    }
    let name = URL(fileURLWithPath: path).lastPathComponent
    print("| \(name) | \(bytes.count / 1024) | \(artifact.count / 1024) | \(ms(median(fromWasm))) | \(ms(median(load))) | \(ms(median(verify))) | \(ms(median(fromArtifact))) | \(String(format: "%.2f", median(fromArtifact) / median(fromWasm))) |")
}
