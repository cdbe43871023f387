// swift-tools-version:5.9
// Development-only tools for Sheave. Not a dependency of the Sheave package.
import PackageDescription

let package = Package(
    name: "SheaveUtilities",
    targets: [
        .executableTarget(name: "SheaveGen", path: "Sources/SheaveGen")
    ]
)
