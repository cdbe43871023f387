// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Sheave",
    products: [
        .library(name: "SheaveBytecode", targets: ["SheaveBytecode"]),
        .library(name: "SheaveInterpreter", targets: ["SheaveInterpreter"]),
        .library(name: "SheaveCompiler", targets: ["SheaveCompiler"]),
        .library(name: "Sheave", targets: ["Sheave"]),
        .library(name: "SheaveWASI", targets: ["SheaveWASI"]),
        .executable(name: "sheave", targets: ["sheave"]),
        .executable(name: "sheave-lab", targets: ["sheave-lab"]),
        .executable(name: "sheave-differential", targets: ["sheave-differential"]),
        .executable(name: "sheave-fuzz", targets: ["sheave-fuzz"]),
    ],
    // `InterpreterSIMD` (on by default) builds the interpreter's SIMD handlers, as
    // Pulley's `pulley_disable_interp_simd` does the other way round. Without it
    // (`swift build --disable-default-traits`) every SIMD handler is compiled out:
    // modules that use SIMD are refused when compiled, and a SIMD op that reaches
    // the interpreter anyway traps "disabled opcode".
    traits: [
        .trait(name: "InterpreterSIMD", description: "The interpreter's 128-bit SIMD handlers (Wasm 2.0 fixed-width SIMD)."),
        .default(enabledTraits: ["InterpreterSIMD"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/swiftwasm/WasmKit", exact: "0.4.2", traits: ["MultiThread"]),
    ],
    targets: [
        // The instruction set: op table (generated), encoder, decoder, disassembler.
        .target(name: "SheaveBytecode"),
        // The machine: registers, stack, frames, and the two dispatch loops.
        // Without frame pointers in optimized builds: SwiftPM asks for them on Linux, and
        // they cost every tail-loop handler a push, a move and a pop (docs/design.md).
        // Every function on a 64-byte line: otherwise where a change elsewhere moves the
        // handlers swings the same instructions by up to a third (docs/design.md).
        .target(
            name: "SheaveInterpreter",
            dependencies: ["SheaveBytecode", "CSheaveSystem", .product(name: "Atomics", package: "swift-atomics")],
            swiftSettings: [.unsafeFlags(["-Xcc", "-momit-leaf-frame-pointer", "-Xcc", "-fno-math-errno", "-Xllvm", "-align-all-functions=6"], .when(configuration: .release))]),
        // WebAssembly to Sheave bytecode: module decoding (WasmKit's WasmParser),
        // validation and compilation, in one pass per function.
        .target(
            name: "SheaveCompiler",
            dependencies: [
                "SheaveBytecode",
                .product(name: "WasmParser", package: "WasmKit"),
            ]),
        // The runtime and the embedding API: Engine, Config, Module, Linker, Store,
        // Instance, Function, Memory, Table, Global, Value, Trap, the profiler. The
        // only target that sees the compiler and the interpreter: everything below
        // builds on its API alone.
        .target(
            name: "Sheave",
            dependencies: [
                "SheaveCompiler", "SheaveInterpreter",
                .product(name: "Atomics", package: "swift-atomics"), .product(name: "WAT", package: "WasmKit"),
            ]),
        // WASI preview1: WasmKit's engine-agnostic WASI library, bridged to Sheave's memory.
        // Sheave's own host directories fill what WasmKit's WASI lacks (hard links, …);
        // CSheaveSystem has what Swift cannot call: openat2, and (for the
        // interpreter) the thread's stack bounds.
        .target(name: "SheaveWASI", dependencies: ["Sheave", "CSheaveSystem", .product(name: "WASI", package: "WasmKit")]),
        .target(name: "CSheaveSystem"),
        // The spec test runner: .wast scripts (WasmKit's WAT library reads them).
        .target(
            name: "SheaveWAST",
            dependencies: ["Sheave", .product(name: "WAT", package: "WasmKit")]),
        // Hand-assembled programs for demos, benchmarks and tests.
        .target(name: "SheaveDemos", dependencies: ["SheaveBytecode"]),
        // The command line, on the embedding API alone. In release on Linux it links
        // the Swift runtime statically (as `--static-swift-stdlib` would): loading and
        // relocating the shared libraries was 2 of an empty program's 7 ms
        // (docs/benchmarks.md). FoundationEssentials' static library names its two
        // helper libraries only in the shared library's dependencies, so they are
        // named here.
        .executableTarget(
            name: "sheave",
            dependencies: [
                "Sheave",
                "SheaveWAST",
                "SheaveWASI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-l_FoundationCollections", "-l_FoundationCShims"],
                                          .when(platforms: [.linux], configuration: .release))]),
        // The interpreter without the runtime: hand-assembled programs and the
        // dispatch loops side by side (`sheave-lab demo`, `sheave-lab bench-dispatch`).
        .executableTarget(
            name: "sheave-lab",
            dependencies: [
                "SheaveInterpreter",
                "SheaveDemos",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Sheave's half of the differential harness against Wasmtime
        // (Tests/Differential/differential.py), on the embedding API.
        .executableTarget(name: "sheave-differential", dependencies: ["Sheave", "SheaveCompiler"], path: "Tests/Differential/Runner"),
        // libFuzzer targets (Tests/Fuzz/run.sh builds them with the sanitizers);
        // built plainly, a program that replays the files it is given.
        .executableTarget(name: "sheave-fuzz", dependencies: ["Sheave", "SheaveCompiler"], path: "Tests/Fuzz",
                          exclude: ["run.sh"]),
        // Examples/Embedding: Sheave inside a Swift program (`swift run embedding-example`).
        .executableTarget(name: "embedding-example", dependencies: ["Sheave"], path: "Examples/Embedding"),
        // Helpers shared by the test targets.
        .target(name: "SheaveTestSupport", path: "Tests/SheaveTestSupport"),
        .testTarget(name: "SheaveBytecodeTests", dependencies: ["SheaveBytecode", "SheaveTestSupport"], resources: [.copy("Golden")]),
        // Each test target names every module it imports: a module reached only through
        // another is not a dependency to the build, whose tests then keep calling what it
        // no longer has after an incremental build (link errors naming the old symbols).
        .testTarget(name: "SheaveInterpreterTests", dependencies: ["SheaveBytecode", "SheaveInterpreter", "SheaveDemos", "SheaveTestSupport"]),
        .testTarget(
            name: "SheaveSpecTests",
            dependencies: ["SheaveWAST", "Sheave", "SheaveCompiler", "SheaveInterpreter", "SheaveBytecode", "SheaveTestSupport"]),
        .testTarget(
            name: "SheaveWASITests",
            dependencies: ["SheaveWASI", "Sheave", "SheaveCompiler", "SheaveInterpreter", .product(name: "WAT", package: "WasmKit")],
            resources: [.copy("Programs")]),
        .testTarget(
            name: "SheaveCompilerTests",
            dependencies: ["Sheave", "SheaveCompiler", "SheaveInterpreter", "SheaveBytecode", "SheaveTestSupport", .product(name: "WAT", package: "WasmKit")],
            exclude: ["Golden"]),
    ]
)
