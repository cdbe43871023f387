import Foundation
import Sheave
import SheaveBytecode
import SheaveCompiler
import SheaveTestSupport
import SheaveWAST
import XCTest

/// Damaged and forged artifacts must end in a clean error or a module that runs
/// (to results or a trap): never a crash or a hang.
final class ArtifactMutationTests: XCTestCase {
    /// Rewrites an artifact's trailing CRC-32 so that a mutation reaches the decoder and the verifier.
    static func resign(_ bytes: inout [UInt8]) {
        guard bytes.count >= 4 else { return }
        let crc = CRC32.checksum(bytes[0..<(bytes.count - 4)])
        for i in 0..<4 { bytes[bytes.count - 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * i)) }
    }

    /// Found by this file's mutations once the artifact format changed (session
    /// 14): a table's maximum past 2^63 in a forged artifact crashed
    /// instantiation converting it to Int. Now the module is refused as invalid
    /// when the artifact loads (tables are 32-bit: at most 2^32-1 entries).
    func testATableMaximumPastWhatWasmCanSayIsRefusedNotACrash() throws {
        let engine = Engine()
        var bytes = try Module(engine: engine, wat: "(module (table 3 5 funcref))").serialize()
        // The table's limits: min 3 (u64), a maximum (1), 5 (u64).
        let limits: [UInt8] = [3, 0, 0, 0, 0, 0, 0, 0, 1, 5, 0, 0, 0, 0, 0, 0, 0]
        let at = try XCTUnwrap(bytes.firstRange(of: limits)?.lowerBound)
        bytes[at + 16] = 0x80  // maximum 2^63 + 5
        Self.resign(&bytes)
        XCTAssertThrowsError(try Module(engine: engine, deserializing: bytes)) { error in
            XCTAssertEqual((error as? ModuleError)?.kind, .damaged, "\(error)")
            XCTAssertTrue("\(error)".contains("table size must be at most 2^32-1 entries"), "\(error)")
        }
    }

    /// Issue 20: the `_m` ops name a memory; a forged index past the module's
    /// memories is refused when the artifact loads, before any code runs.
    func testAMemoryIndexPastTheModulesMemoriesIsRefused() throws {
        let engine = Engine()
        var bytes = try Module(engine: engine, wat: """
            (module (memory 1) (memory $second i64 1)
              (func (export "f") (result i32) (i32.load $second offset=0x12345678 (i64.const 0))))
            """).serialize()
        // `xload32_m`'s operands end with the offset (u64) and the memory index (u32).
        let operands: [UInt8] = [0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0, 1, 0, 0, 0]
        let at = try XCTUnwrap(bytes.firstRange(of: operands)?.lowerBound)
        XCTAssertNoThrow(try Module(engine: engine, deserializing: bytes), "the artifact as written loads")
        bytes[at + 8] = 2  // memory 2 of 2
        Self.resign(&bytes)
        XCTAssertThrowsError(try Module(engine: engine, deserializing: bytes)) { error in
            XCTAssertEqual((error as? ModuleError)?.kind, .unverifiable, "\(error)")
            XCTAssertTrue("\(error)".contains("xload32_m: memory 2 out of range"), "\(error)")
        }
    }

    /// Found in review (session 15): the verifier checked a throw's and a host
    /// call's slots against the frame only, and the host read the payload by the
    /// tag's type: a forged slot count of 0 crashed it. Now such an artifact is refused.
    func testAThrowWhosePayloadSlotsDoNotMatchItsTagIsRefused() throws {
        let engine = Engine()
        var bytes = try Module(engine: engine, wat: """
            (module (tag $e (param i32)) (func (export "f") (throw $e (i32.const 1))))
            """).serialize()
        // throw_exception: 0xFF, its extended opcode, then tag 0 (u32), frame (u16), slots 1 (u16).
        let opcode = ExtendedOpcode.throwException.rawValue
        let prefix: [UInt8] = [0xFF, UInt8(opcode & 0xFF), UInt8(opcode >> 8), 0, 0, 0, 0]
        let at = try XCTUnwrap(bytes.firstRange(of: prefix)?.lowerBound)
        XCTAssertEqual(Array(bytes[(at + 9)...(at + 10)]), [1, 0])
        bytes[at + 9] = 0
        Self.resign(&bytes)
        XCTAssertThrowsError(try Module(engine: engine, deserializing: bytes)) { error in
            XCTAssertEqual((error as? ModuleError)?.kind, .unverifiable, "\(error)")
            XCTAssertTrue("\(error)".contains("0 slots for a payload of 1"), "\(error)")
        }
    }

    /// A catch clause is checked like an op: a forged one whose slots lie past
    /// the frame, or that lands outside its function, is refused.
    func testACatchClauseThatWritesPastTheFrameOrLandsElsewhereIsRefused() throws {
        let engine = Engine()
        let compiled = try Module(engine: engine, wat: """
            (module (tag $e (param i32))
              (func (export "f") (result i32)
                (block $h (result i32) (try_table (catch $e $h) (throw $e (i32.const 1))) (unreachable)))
              (func (export "g")))
            """).compiled
        let clause = try XCTUnwrap(compiled.handlers.first?.first)
        XCTAssertEqual(clause.kind, .catch)
        XCTAssertEqual(clause.payloadSlots, 1)
        func forged(_ change: (inout ExceptionHandler) -> Void) -> [UInt8] {
            var h = clause
            change(&h)
            return CompiledModule(info: compiled.info, options: compiled.options, code: compiled.code,
                                  functionOffsets: compiled.functionOffsets, handlers: [[h], []]).serialized()
        }
        XCTAssertNoThrow(try Module(engine: engine, deserializing: forged { _ in }))
        let cases: [(String, [UInt8])] = [
            ("past the frame", forged { $0.slot = 900 }),
            ("lands where no op of its function starts", forged { $0.landing = UInt32(compiled.functionOffsets[1]) }),
            ("covers code outside its function", forged { $0.end = UInt32(compiled.code.count) }),
            ("slots for a payload of 1", forged { $0.payloadSlots = 3 }),
            ("tag 5 out of range", forged { $0.tag = 5 }),
        ]
        for (reason, bytes) in cases {
            XCTAssertThrowsError(try Module(engine: engine, deserializing: bytes), reason) { error in
                XCTAssertEqual((error as? ModuleError)?.kind, .unverifiable, "\(error)")
                XCTAssertTrue("\(error)".contains(reason), "\(error)")
            }
        }
    }

    /// Metered code (checkpoints): a landing's jump back to its block's end is a
    /// backward branch to no checkpoint, which the verifier allows from a
    /// landing's code alone (the VM meters each landing); a landing that code
    /// could fall into (here: the throw itself, a throw that lands on itself) is
    /// refused. Found in review: the first version refused every metered artifact
    /// whose clause targets a block.
    func testMeteredArtifactsWithCatchClausesLoadAndARunawayLandingIsRefused() throws {
        let engine = Engine(Config(fuelMetering: true))
        let module = try Module(engine: engine, wat: """
            (module (tag $e)
              (func (export "f") (param i32) (result i32)
                (block $h (try_table (catch $e $h) (if (local.get 0) (then (throw $e)))) (return (i32.const 1)))
                (i32.const 7)))
            """)
        let loaded = try Module(engine: engine, deserializing: module.serialize())
        let store = Store(engine: engine)
        store.fuel = 1000
        let instance = try Linker().instantiate(loaded, in: store)
        XCTAssertEqual(try instance.invoke("f", [.i32(1)]), [.i32(7)])
        XCTAssertEqual(try instance.invoke("f", [.i32(0)]), [.i32(1)])

        let compiled = module.compiled
        let clause = try XCTUnwrap(compiled.handlers.first?.first)
        let lines = try XCTUnwrap(compiled.functionListings().first?.lines)
        let throwAt = try XCTUnwrap(lines.first { $0.text.contains("throw_exception") }?.offset)
        var forged = clause
        forged.landing = UInt32(throwAt)
        let bytes = CompiledModule(info: compiled.info, options: compiled.options, code: compiled.code,
                                   functionOffsets: compiled.functionOffsets, handlers: [[forged]]).serialized()
        XCTAssertThrowsError(try Module(engine: engine, deserializing: bytes)) { error in
            XCTAssertEqual((error as? ModuleError)?.kind, .unverifiable, "\(error)")
            XCTAssertTrue("\(error)".contains("must not fall into a landing"), "\(error)")
        }
    }

    func testTenThousandMutatedArtifacts() throws {
        let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        guard let suite = SpecSuite.locate(repositoryRoot: repositoryRoot) else {
            throw XCTSkip("spec test suite not found: set SHEAVE_TESTSUITE (default ../shared/wasm-testsuite)")
        }
        // Metered artifacts: whatever a mutant does, fuel bounds it (the verifier
        // keeps checkpoints at every entry and backward branch).
        let options = CompileOptions(checkpoints: true)
        let corpus = suite.moduleBinaries(suite.mutationCorpusFiles())
            .filter { $0.count <= 4096 }
            .compactMap { try? CompiledModule(bytes: $0, options: options) }
            .map { (artifact: $0.serialized(), code: $0.code.count) }
        XCTAssertGreaterThan(corpus.count, 500)
        var g = SplitMix64(seed: 0xA127_FAC7)
        var rejected: [ArtifactError.Kind: Int] = [:]
        var loaded = 0, instantiated = 0, calls = 0, returned = 0, trapped = 0, unsigned = 0
        let started = Date()
        for _ in 0..<10_000 {
            let original = corpus.randomElement(using: &g)!
            var bytes = original.artifact
            // Half the mutants are damaged in their bytecode (the end of the file), half anywhere.
            let code = (bytes.count - 4 - original.code)..<(bytes.count - 4)
            let body = Bool.random(using: &g) && !code.isEmpty ? code : 8..<(bytes.count - 4)
            switch Int.random(in: 0..<4, using: &g) {
            case 0:  // flip one to four bytes
                for _ in 0..<Int.random(in: 1...4, using: &g) {
                    bytes[Int.random(in: body, using: &g)] ^= UInt8.random(in: 1...255, using: &g)
                }
            case 1:  // cut out a piece
                let from = Int.random(in: body, using: &g)
                bytes.removeSubrange(from..<min(from + Int.random(in: 1...16, using: &g), bytes.count - 4))
            case 2:  // insert a few random bytes
                for _ in 0..<Int.random(in: 1...8, using: &g) {
                    bytes.insert(UInt8.random(in: 0...255, using: &g), at: Int.random(in: body, using: &g))
                }
            default:  // overwrite one byte with an extreme value
                bytes[Int.random(in: body, using: &g)] = [0x00, 0x7F, 0x80, 0xFF].randomElement(using: &g)!
            }
            // Most mutants get a valid checksum, so they reach the decoder and the verifier;
            // the others must be stopped by the checksum (or the header checks before it).
            if Int.random(in: 0..<10, using: &g) < 8 { Self.resign(&bytes) } else { unsigned += 1 }
            let module: CompiledModule
            do {
                module = try CompiledModule(deserializing: bytes)
            } catch {
                rejected[error.kind, default: 0] += 1
                continue
            }
            loaded += 1
            let store = Store(engine: Engine(Config(fuelMetering: true, stackSize: 64 * 1024, maximumMemoryPages: 256,
                                                    features: module.options.features)))
            store.fuel = 100_000
            guard let instance = try? Instance(module: module, store: store, imports: ["spectest": SpecTestHost.exports()]) else { continue }
            instantiated += 1
            // Call every exported function with zero arguments of its types.
            for export in module.info.exports {
                guard case .function(let index) = export.descriptor else { continue }
                let type = module.info.functionType(Int(index))
                let arguments = type.parameters.map { Value(bits: 0, type: $0) }
                store.fuel = 100_000
                calls += 1
                do {
                    _ = try instance.invoke(export.name, arguments)
                    returned += 1
                } catch is Trap {
                    trapped += 1
                } catch {}
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let reasons = rejected.sorted { $0.value > $1.value }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        print("10,000 artifact mutants of \(corpus.count) artifacts in \(String(format: "%.1f", seconds)) s: \(rejected.values.reduce(0, +)) rejected (\(reasons)), \(loaded) loaded, \(instantiated) instantiated; \(calls) calls: \(returned) returned, \(trapped) trapped")
        XCTAssertEqual(rejected.values.reduce(0, +) + loaded, 10_000)
        XCTAssertGreaterThanOrEqual(rejected.values.reduce(0, +), unsigned, "a mutant without a valid checksum must never load")
        XCTAssertGreaterThan(rejected[.unverifiable] ?? 0, 500, "mutants reach the verifier")
        XCTAssertGreaterThan(loaded, 800, "mutants that pass every check run")
        XCTAssertGreaterThan(returned + trapped, 1000)
        XCTAssertLessThan(seconds, 600, "mutants must not hang")
    }
}
