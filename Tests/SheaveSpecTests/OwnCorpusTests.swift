import Foundation
import Sheave
import SheaveWAST
import XCTest

/// Issue 18: scripts of our own for what the spec suite does not reach
/// (Tests/Corpus, written by Tests/Differential/make-corpus.py with every
/// expected value computed by Wasmtime): the shapes the super-instructions
/// stand for with edge values, deep nesting, huge frames, each divergence a
/// differential campaign found, reduced, and (memories.wast, by hand) memories
/// imported twice, 64-bit addresses that must not wrap, grow failures by width;
/// tail-calls.wast, a million tail calls between two instances; exceptions.wast
/// (and exceptions-simd.wast, a v128 payload), catching in every shape,
/// uncaught exceptions, also through another instance's frames. Both loops (where
/// this build runs the tail loop) and through artifacts.
final class OwnCorpusTests: XCTestCase {
    func testOurOwnScriptsPassOnEveryLoopAndThroughArtifacts() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Corpus")
        var files = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".wast") }.sorted()
        XCTAssertEqual(files, ["divergences.wast", "exceptions-simd.wast", "exceptions.wast", "fusions.wast", "limits.wast",
                               "memories.wast", "tail-calls.wast"])
        #if !InterpreterSIMD
        files.removeAll { $0.contains("simd") }  // a build without SIMD refuses v128 values
        #endif
        let asserts = ["divergences.wast": 13, "exceptions-simd.wast": 2, "exceptions.wast": 21, "fusions.wast": 700, "limits.wast": 21,
                       "memories.wast": 29, "tail-calls.wast": 7]
        let runs: [(mode: Config.Dispatch, artifacts: Bool)] = Config.Dispatch.tailLoopIsSafe
            ? [(.match, false), (.tail, false), (.tail, true)] : [(.match, false), (.match, true)]
        for file in files {
            for (mode, artifacts) in runs {
                let report = WASTRunner(dispatch: mode, throughArtifacts: artifacts).run(path: corpus.appendingPathComponent(file).path)
                XCTAssertEqual(report.failed, 0, "\(file), \(mode) loop\(artifacts ? ", artifacts" : ""): \(report.failures.prefix(5))")
                XCTAssertEqual(report.passed, asserts[file], "\(file), \(mode)")
            }
        }
    }
}
