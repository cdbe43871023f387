import Foundation
import SheaveCompiler
import Sheave
import SheaveInterpreter
import SheaveWAST
import XCTest

/// The official spec test suite, the Wasm 2.0 groups (without SIMD in a build
/// without the `InterpreterSIMD` trait) and the later groups Sheave passes
/// completely (`SpecSuite.laterGroups`: tail-call, function-references, relaxed-simd,
/// multi-memory, memory64, annotations, wast-instance-commands, exceptions), under every
/// dispatch loop this build runs. The suite is test data, not part of this
/// repository: it is found through SHEAVE_TESTSUITE, else ../shared/wasm-testsuite.
final class SpecSuiteTests: XCTestCase {
    /// Files that do not pass completely yet, with the exact number of failing
    /// assertions and why. A change in either direction fails the test: a
    /// regression, or progress that should lower the number here.
    static let knownFailures: [String: (count: Int, reason: String)] = [
        // Only files that also hold modules of GC's instructions, which Sheave does not compile yet:
        "core/table_init.wast": (2, "array.new_default in an element segment (gc)"),
        "core/table_init64.wast": (2, "array.new_default in an element segment (gc)"),
    ]
    /// Where lazy compilation fails fewer (none now).
    static let knownFailuresLazily: [String: Int] = [:]

    func testWasm2GroupsPassUnderEveryDispatchLoopAndThroughArtifacts() throws {
        let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        guard let suite = SpecSuite.locate(repositoryRoot: repositoryRoot) else {
            throw XCTSkip("spec test suite not found: set SHEAVE_TESTSUITE to a copy of WebAssembly/testsuite with its manifest.json (default ../shared/wasm-testsuite)")
        }
        // Wasm 2.0: with SIMD (58 more files) unless this build compiled SIMD out.
        // Later groups: tail-call 2, function-references 8, relaxed-simd 7, multi-memory 42
        // (one of them, simd_memory-multi.wast, uses SIMD), memory64 25, annotations 4
        // (one with Wasm 3.0 modules), wast-instance-commands 1, exceptions 4.
        let files = suite.filesOfThisBuild(in: SpecSuite.groupsOfThisBuild)
        #if InterpreterSIMD
        XCTAssertEqual(files.count, 148 + 2 + 8 + 7 + 42 + 25 + 4 + 1 + 4)
        XCTAssertEqual(files.filter(\.needsWasm3).count, 10 + 2 + 8 + 7 + 41 + 25 + 1 + 1 + 4)
        #else
        XCTAssertEqual(files.count, 90 + 2 + 8 + 41 + 25 + 4 + 1 + 4)
        XCTAssertEqual(files.filter(\.needsWasm3).count, 10 + 2 + 8 + 40 + 25 + 1 + 1 + 4)
        #endif
        // Every loop this build runs; one run loads each module back from an artifact
        // (so the verifier must accept all the compiler's output, and it must run the same);
        // one compiles each function on its first call (`Config.Compilation.lazy`).
        let last: Config.Dispatch = Config.Dispatch.tailLoopIsSafe ? .tail : .match
        let runs: [(mode: Config.Dispatch, artifacts: Bool, compilation: Config.Compilation)] =
            [(.match, false, .automatic), (last, true, .automatic), (last, false, .lazy)]
        for (mode, artifacts, compilation) in runs {
            let reports = suite.run(files, with: WASTRunner(dispatch: mode, throughArtifacts: artifacts, compilation: compilation))
            print("Spec suite, \(mode) loop\(artifacts ? ", through artifacts" : ""), \(compilation) compilation:\n" + SpecSuite.summary(files, reports))
            for (file, report) in zip(files, reports) {
                let expected = (compilation == .lazy ? Self.knownFailuresLazily[report.file] : nil) ?? Self.knownFailures[report.file]?.count ?? 0
                // Every assertion the manifest counts ran (a failed module makes its assertions fail, not vanish).
                XCTAssertGreaterThanOrEqual(report.passed + report.failed, file.assertions, "\(report.file): assertions missing")
                XCTAssertEqual(report.failed, expected, """
                    \(report.file), \(mode) loop\(artifacts ? " (artifacts)" : ""), \(compilation): \(report.failed) failed, expected \(expected)
                    \(report.failures.prefix(5).map(\.description).joined(separator: "\n"))
                    """)
            }
        }
    }

    #if !InterpreterSIMD
    /// Without SIMD handlers, every module of the spec's simd group that uses SIMD is
    /// refused when compiled, with an error that says why; none is accepted and
    /// then fails at run time.
    func testSIMDModulesAreRefusedWhenSIMDIsCompiledOut() throws {
        let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        guard let suite = SpecSuite.locate(repositoryRoot: repositoryRoot) else { throw XCTSkip("spec test suite not found") }
        /// How many of the group's modules are refused (each for the missing trait), of how many.
        func refusals(in group: String) -> (refused: Int, of: Int) {
            let modules = suite.moduleBinaries(suite.files(in: [group]))
            var refused = 0
            for bytes in modules {
                do {
                    _ = try CompiledModule(bytes: bytes)
                } catch {
                    XCTAssertEqual(error.kind, .unsupported, "\(error)")
                    XCTAssertTrue(error.message.contains("built without the InterpreterSIMD trait"), "\(error)")
                    refused += 1
                }
            }
            print("\(group) group without SIMD: \(refused) of \(modules.count) modules refused")
            return (refused, modules.count)
        }
        // The others use no SIMD (scalar helpers beside the SIMD modules) and compile.
        let simd = refusals(in: "simd")
        XCTAssertEqual(simd.of, 473)
        XCTAssertEqual(simd.refused, 412)
        // Relaxed SIMD is SIMD: refused the same way.
        XCTAssertGreaterThan(refusals(in: "relaxed-simd").refused, 0)
    }
    #endif
}
