// swift-tools-version:6.1
// Compile time of Sheave against WasmKit 0.4.2, measured in one process, side by side.
// Not part of the Sheave package: it depends on WasmKit's runtime, which Sheave does not.
//
//     swift run -c release --package-path Benchmarks/CompileTime compile-time FILE.wasm...
//     swift run -c release --package-path Benchmarks/CompileTime instantiate [FILE.wat] [COUNT]
import PackageDescription

let package = Package(
    name: "CompileTime",
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/swiftwasm/WasmKit", exact: "0.4.2"),
    ],
    targets: [
        .target(name: "Timing"),
        .executableTarget(
            name: "compile-time",
            dependencies: [
                "Timing",
                .product(name: "Sheave", package: "main"),
                .product(name: "SheaveCompiler", package: "main"),
                .product(name: "SheaveWASI", package: "main"),
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WasmKitWASI", package: "WasmKit"),
            ]),
        // Instantiating a compiled module many times (Benchmarks/instantiate.wat).
        .executableTarget(
            name: "instantiate",
            dependencies: [
                "Timing",
                .product(name: "Sheave", package: "main"),
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WAT", package: "WasmKit"),
            ]),
    ]
)
