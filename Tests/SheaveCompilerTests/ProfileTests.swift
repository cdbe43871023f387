import Foundation
import Sheave
import SheaveBytecode
import SheaveCompiler
import WAT
import XCTest

/// Compares `text` with the checked-in file `Golden/name` (SHEAVE_UPDATE_GOLDEN=1 rewrites it).
func assertGolden(_ text: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
    if ProcessInfo.processInfo.environment["SHEAVE_UPDATE_GOLDEN"] == "1" {
        try text.write(to: golden, atomically: true, encoding: .utf8)
    }
    XCTAssertEqual(text, try String(contentsOf: golden, encoding: .utf8), "differs from Golden/\(name)", file: file, line: line)
}

final class ProfileTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func fibModule() throws -> CompiledModule {
        let source = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("Examples/fib.wat"), encoding: .utf8)
        return try CompiledModule(bytes: try wat2wasm(source, options: EncodeOptions(nameSection: true)))
    }

    /// A profile with made-up but fixed samples, for the report's format.
    func syntheticProfile() throws -> Profile {
        let module = try fibModule()
        let offsets = module.functionListings()[0].lines.map(\.offset)
        var samples: [Int: Int] = [:]
        for (k, offset) in offsets.enumerated() where k % 3 != 2 { samples[offset] = (k * 37) % 101 + 1 }
        return Profile(module: module, program: "fib.wat", samples: samples, outside: 7,
                       pairs: [("xadd32_i32", "call", 1_346_268), ("push_frame", "br_if_xuge32_i32", 2_692_537), ("call", "xadd32", 1_346_268)]
                           .sorted { $0.2 > $1.2 },
                       interval: 0.0001, duration: 0.5)
    }

    func testTheReportFormats() throws {
        let profile = try syntheticProfile()
        try assertGolden(profile.report(), "fib.profile.txt")
        try assertGolden(profile.html(), "fib.profile.html")
        // The HTML page is self-contained: no scripts, no links to anything outside it.
        let html = profile.html()
        XCTAssertFalse(html.contains("<script") || html.contains("src=") || html.contains("http"), "self-contained")
    }

    func testAProfileFileRoundTrips() throws {
        let profile = try syntheticProfile()
        let file = profile.serialized()
        let loaded = try Profile(deserializing: file)
        XCTAssertEqual(loaded.report(), profile.report())
        XCTAssertEqual(loaded.html(), profile.html())
        var damaged = file
        damaged[damaged.count / 2] ^= 1
        XCTAssertThrowsError(try Profile(deserializing: damaged)) { XCTAssertEqual(($0 as? ModuleError)?.kind, .checksumMismatch) }
        XCTAssertThrowsError(try Profile(deserializing: try fibModule().serialized())) { XCTAssertEqual(($0 as? ModuleError)?.kind, .notAnArtifact) }
    }

    func testMostSamplesOfAKnownHotLoopFallInThatLoop() throws {
        let module = try CompiledModule(bytes: try wat2wasm("""
            (module
              (func $cold (export "cold") (param $n i32) (result i32)
                (i32.mul (i32.add (local.get $n) (i32.const 3)) (i32.const 7)))
              (func $hot (export "hot") (param $n i32) (result i64) (local $i i32) (local $acc i64)
                (loop $next
                  (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
                (local.get $acc)))
            """, options: EncodeOptions(nameSection: true)))
        // The loop: from the target of the backward branch to the branch.
        let hot = module.functionListings()[1]
        let branch = try XCTUnwrap(hot.lines.first { $0.text.contains("br_") })
        let target = try XCTUnwrap(Int(branch.text.split(separator: "0x").last!, radix: 16))
        let loop = target...branch.offset

        let store = Store()
        let instance = try Instance(module: module, store: store, imports: [:])
        let profiler = store.profiler(interval: 0.000_05)
        profiler.start()
        var iterations = 0
        let started = Date()
        repeat {
            XCTAssertEqual(try instance.invoke("cold", [.i32(1)]), [.i32(28)])
            XCTAssertEqual(try instance.invoke("hot", [.i32(200_000)]), [.i64(19_999_900_000)])
            iterations += 200_000
        } while Date().timeIntervalSince(started) < 0.3
        let run = try profiler.stop(attributingTo: instance, program: "hot")

        var inLoop = 0, inCode = 0
        for (offset, count) in run.samples {
            inCode += count
            if loop.contains(offset) { inLoop += count }
        }
        print("hot loop: \(inLoop) of \(inCode) samples in bytecode (\(run.outside) outside), \(iterations) iterations")
        XCTAssertGreaterThan(inCode, 100, "the sampler saw the code run")
        XCTAssertGreaterThan(Double(inLoop), 0.8 * Double(inCode), "most samples fall in the hot loop")
        // Pair counts are exact: the loop's two ops (the sum, then the step fused with its
        // test) follow each other once per iteration; the taken back edge is no pair.
        let counts = Dictionary(run.pairs.map { ("\($0.first) \($0.second)", $0.count) }, uniquingKeysWith: +)
        XCTAssertEqual(counts["xadd64 br_xadd32_i32_ult"], UInt64(iterations))

        // Without the profiler the store runs as before.
        XCTAssertEqual(try instance.invoke("hot", [.i32(10)]), [.i64(45)])
    }
}
