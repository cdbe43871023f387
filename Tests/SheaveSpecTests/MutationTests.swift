import Foundation
import Sheave
import SheaveCompiler
import SheaveTestSupport
import SheaveWAST
import XCTest


/// Damaged modules must end in a clean error or a working module: never a crash or a hang.
final class MutationTests: XCTestCase {
    func testTenThousandMutatedSuiteModules() throws {
        let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        guard let suite = SpecSuite.locate(repositoryRoot: repositoryRoot) else {
            throw XCTSkip("spec test suite not found: set SHEAVE_TESTSUITE (default ../shared/wasm-testsuite)")
        }
        let corpus = suite.moduleBinaries(suite.mutationCorpusFiles())
            .filter { $0.count <= 4096 }
        XCTAssertGreaterThan(corpus.count, 500)
        var g = SplitMix64(seed: 0x5EED_CAFE)
        var compiled = 0, rejected = 0, instantiated = 0, failedToInstantiate = 0, withStart = 0
        let started = Date()
        for _ in 0..<10_000 {
            var bytes = corpus.randomElement(using: &g)!
            switch Int.random(in: 0..<4, using: &g) {
            case 0:  // flip one to four bytes past the header
                for _ in 0..<Int.random(in: 1...4, using: &g) where bytes.count > 8 {
                    bytes[Int.random(in: 8..<bytes.count, using: &g)] ^= UInt8.random(in: 1...255, using: &g)
                }
            case 1:  // truncate
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &g)))
            case 2:  // insert a few random bytes
                for _ in 0..<Int.random(in: 1...8, using: &g) {
                    bytes.insert(UInt8.random(in: 0...255, using: &g), at: Int.random(in: 8...bytes.count, using: &g))
                }
            default:  // overwrite one byte with an extreme LEB128-ish value
                if bytes.count > 8 { bytes[Int.random(in: 8..<bytes.count, using: &g)] = [0x00, 0x7F, 0x80, 0xFF].randomElement(using: &g)! }
            }
            // With checkpoints, so that fuel bounds whatever a start function does.
            guard let module = try? CompiledModule(bytes: bytes, options: CompileOptions(checkpoints: true)) else {
                rejected += 1
                continue
            }
            compiled += 1
            if module.info.start != nil { withStart += 1 }
            let store = Store(engine: Engine(Config(fuelMetering: true, stackSize: 64 * 1024, maximumMemoryPages: 256)))
            store.fuel = 1_000_000
            if (try? Instance(module: module, store: store, imports: ["spectest": SpecTestHost.exports()])) != nil {
                instantiated += 1
            } else {
                failedToInstantiate += 1
            }
        }
        let seconds = Date().timeIntervalSince(started)
        print("10,000 mutants of \(corpus.count) modules in \(String(format: "%.1f", seconds)) s: \(rejected) rejected, \(compiled) compiled (\(instantiated) instantiated, \(failedToInstantiate) failed to instantiate or trapped in their start function; \(withStart) have one)")
        XCTAssertEqual(rejected + compiled, 10_000)
        XCTAssertGreaterThan(rejected, 1000)
        XCTAssertGreaterThan(instantiated, 500)
        XCTAssertLessThan(seconds, 600, "mutants must not hang the compiler")
    }
}
