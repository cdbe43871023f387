import Foundation
import Sheave
import SheaveCompiler
import SheaveWASI
import XCTest

/// WASI programs written in C, built by the test from committed sources with
/// Examples/c/build.sh (the toolchain's clang and Debian's wasi-libc).
final class CProgramTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("sheave-c-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: work)
    }

    /// Builds Programs/probe.c into the work directory.
    func probe() throws -> CompiledModule {
        let source = work.appendingPathComponent("probe.c")
        try FileManager.default.copyItem(at: Bundle.module.url(forResource: "probe", withExtension: "c", subdirectory: "Programs")!, to: source)
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/bin/bash")
        build.arguments = [Self.repository.appendingPathComponent("Examples/c/build.sh").path, source.path]
        build.standardOutput = FileHandle.nullDevice
        try build.run()
        build.waitUntilExit()
        guard build.terminationStatus == 0 else {
            let reason = "cannot build C for WASI here: apt-get install wasi-libc libclang-rt-14-dev-wasm32 (.ci/run installs them)"
            // In CI a missing toolchain is a failure, not a reason to skip.
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail(reason) }
            throw XCTSkip(reason)
        }
        let bytes = try [UInt8](Data(contentsOf: work.appendingPathComponent("probe.wasm")))
        return try CompiledModule(bytes: bytes)
    }

    /// Runs the probe's `_start` with WASI; returns its stdout and exit code.
    func run(_ module: CompiledModule, _ args: [String], environment: [String: String] = [:],
             preopens: [(guest: String, host: String)] = []) throws -> (stdout: String, exit: Int32) {
        try runWASI(module, args: ["probe"] + args, environment: environment, preopens: preopens)
    }

    func testArgumentsEnvironmentAndExitCodes() throws {
        let module = try probe()
        let result = try run(module, ["args", "two words", "3"], environment: ["SHEAVE_TEST": "on"])
        XCTAssertEqual(result.stdout, "probe\nargs\ntwo words\n3\nSHEAVE_TEST=on\n")
        XCTAssertEqual(result.exit, 0)
        XCTAssertEqual(try run(module, ["exit", "42"]).exit, 42)
        XCTAssertEqual(try run(module, ["nonsense"]).exit, 3)
    }

    func testFilesInAPreopenedDirectory() throws {
        let module = try probe()
        let sandbox = work.appendingPathComponent("sandbox")
        try FileManager.default.createDirectory(at: sandbox, withIntermediateDirectories: true)
        try "from the host\n".write(to: sandbox.appendingPathComponent("in.txt"), atomically: true, encoding: .utf8)
        let result = try run(module, ["files"], preopens: [(guest: "/sandbox", host: sandbox.path)])
        XCTAssertEqual(result.exit, 0)
        XCTAssertEqual(result.stdout, "read 14 bytes: from the host\n")
        XCTAssertEqual(try String(contentsOf: sandbox.appendingPathComponent("out.txt"), encoding: .utf8), "written by wasm\n")
    }

    func testNothingOutsideThePreopenedDirectoryCanBeOpenedOrSeen() throws {
        let module = try probe()
        let sandbox = work.appendingPathComponent("sandbox")
        let secrets = work.appendingPathComponent("secrets")
        try FileManager.default.createDirectory(at: sandbox, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
        try "outside\n".write(to: work.appendingPathComponent("outside.txt"), atomically: true, encoding: .utf8)
        try "secret\n".write(to: secrets.appendingPathComponent("secret.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(at: sandbox.appendingPathComponent("link"), withDestinationURL: secrets)
        let result = try run(module, ["escape"], preopens: [(guest: "/sandbox", host: sandbox.path)])
        XCTAssertEqual(result.exit, 0)
        XCTAssertEqual(result.stdout, """
            /sandbox/../outside.txt open=no stat=no
            /sandbox/link/secret.txt open=no stat=no
            /etc/passwd open=no stat=no
            ../outside.txt open=no stat=no

            """)
    }
}
