// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Sheave",
    products: [
        .library(name: "SheaveBytecode", targets: ["SheaveBytecode"]),
        .library(name: "SheaveInterpreter", targets: ["SheaveInterpreter"]),
        .executable(name: "sheave", targets: ["sheave"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The instruction set: op table (generated), encoder, decoder, disassembler.
        .target(name: "SheaveBytecode"),
        // The machine: registers, stack, frames, and the two dispatch loops.
        .target(name: "SheaveInterpreter", dependencies: ["SheaveBytecode"]),
        // Hand-assembled programs for demos, benchmarks and tests.
        .target(name: "SheaveDemos", dependencies: ["SheaveBytecode"]),
        // The command line.
        .executableTarget(
            name: "sheave",
            dependencies: [
                "SheaveInterpreter",
                "SheaveDemos",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "SheaveBytecodeTests", dependencies: ["SheaveBytecode"], resources: [.copy("Golden")]),
        .testTarget(name: "SheaveInterpreterTests", dependencies: ["SheaveInterpreter", "SheaveDemos"]),
    ]
)
