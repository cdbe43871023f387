// Instantiating a module compiled once, many times, each in a new store:
// Sheave through `Linker.instantiate` (one code image shared by every instance),
// and WasmKit 0.4.2 with eager and lazy translation. Medians of the rounds, the
// runtimes interleaved in each round.
//
//     swift run -c release --package-path Benchmarks/CompileTime instantiate [FILE.wat] [COUNT]
import Foundation
import Sheave
import Timing
import WAT
import WasmKit

let arguments = CommandLine.arguments.dropFirst()
let path = arguments.first ?? "Benchmarks/instantiate.wat"
let count = arguments.dropFirst().first.flatMap(Int.init) ?? 10_000
guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fatalError("cannot read \(path)") }
let bytes = try wat2wasm(text)

let engine = Sheave.Engine()
let module = try Sheave.Module(engine: engine, bytes: bytes)
let parsed = try parseWasm(bytes: bytes)
let eagerEngine = WasmKit.Engine(configuration: EngineConfiguration(compilationMode: .eager))
let lazyEngine = WasmKit.Engine(configuration: EngineConfiguration(compilationMode: .lazy))

// Every instance is checked once: `add` answers.
func check(_ answer: Int32, _ who: String) {
    if answer != 5 { fatalError("\(who): add(2, 3) gave \(answer)") }
}

var shared: [Double] = [], eager: [Double] = [], lazy: [Double] = []
for _ in 0..<5 {
    shared.append(try seconds {
        for _ in 0..<count { _ = try Sheave.Linker().instantiate(module, in: Sheave.Store(engine: engine)) }
    })
    for (engine, sink) in [(eagerEngine, 0), (lazyEngine, 1)] {
        let time = try seconds {
            for _ in 0..<count { _ = try parsed.instantiate(store: WasmKit.Store(engine: engine), imports: Imports()) }
        }
        if sink == 0 { eager.append(time) } else { lazy.append(time) }
    }
}
let instance = try Sheave.Linker().instantiate(module, in: Sheave.Store(engine: engine))
check(try instance.function("add")!.typed(parameters: Int32.self, Int32.self, results: Int32.self)(2, 3), "sheave")

print("Instantiating \(URL(fileURLWithPath: path).lastPathComponent) (\(bytes.count) bytes) \(count) times, each in a new store; medians of 5 rounds:")
print("")
print("| runtime | total (s) | per instance (µs) |")
print("|---|---:|---:|")
for (name, times) in [("Sheave, `Linker.instantiate` (one code image per module)", shared),
                      ("WasmKit 0.4.2, eager translation", eager), ("WasmKit 0.4.2, lazy translation", lazy)] {
    print("| \(name) | \(String(format: "%.3f", median(times))) | \(String(format: "%.1f", median(times) / Double(count) * 1e6)) |")
}
