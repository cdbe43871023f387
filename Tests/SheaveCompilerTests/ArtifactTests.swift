import Foundation
import Sheave
import SheaveBytecode
import SheaveCompiler
import WAT
import XCTest

/// Artifacts: round trips, targets, and every way loading one can fail.
final class ArtifactTests: XCTestCase {
    static let source = """
        (module
          (global $g (mut i32) (i32.const 0))
          (memory 1)
          (table 2 funcref)
          (elem (i32.const 0) $double)
          (data (i32.const 16) "Sheave")
          (type $t (func (param i32) (result i32)))
          (func $double (type $t) (i32.add (local.get 0) (local.get 0)))
          (func $f (export "f") (param i32) (result i32)
            (global.set $g (local.get 0))
            (i32.add (call_indirect (type $t) (local.get 0) (i32.const 0)) (i32.load8_u (i32.const 16)))))
        """

    func compile(_ wat: String = source, _ options: CompileOptions = CompileOptions()) throws -> CompiledModule {
        try CompiledModule(bytes: try wat2wasm(wat, options: EncodeOptions(nameSection: true)), options: options)
    }

    func testARoundTripKeepsEverythingAndRunsTheSame() throws {
        let module = try compile()
        let artifact = module.serialized()
        XCTAssertEqual(Array(artifact.prefix(8)), Array("SHEAVE\r\n".utf8))
        let loaded = try CompiledModule(deserializing: artifact)
        XCTAssertEqual(loaded.code, module.code)
        XCTAssertEqual(loaded.functionOffsets, module.functionOffsets)
        XCTAssertEqual(loaded.options, module.options)
        XCTAssertEqual(loaded.info.types, module.info.types)
        XCTAssertEqual(loaded.info.exports, module.info.exports)
        XCTAssertEqual(loaded.info.data, module.info.data)
        XCTAssertEqual(loaded.info.elements, module.info.elements)
        XCTAssertEqual(loaded.info.functionNames, module.info.functionNames)
        XCTAssertEqual(loaded.serialized(), artifact, "serializing is deterministic")
        // 21 * 2 + "S" (83)
        let instance = try Instance(module: loaded, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("f", [.i32(21)]), [.i32(42 + 83)])

        // The same through the embedding API.
        let engine = Engine()
        let fromAPI = try Module(engine: engine, deserializing: try Module(engine: engine, wat: Self.source).serialize())
        let apiInstance = try Linker().instantiate(fromAPI, in: Store(engine: engine))
        XCTAssertEqual(try apiInstance.function("f")!.call([.i32(1)]), [.i32(2 + 83)])
    }

    /// The checksum takes eight bytes at a time from contiguous bytes: it must agree
    /// with zlib's CRC-32 and with itself a byte at a time, at every length and alignment.
    func testTheChecksumIsZlibsCRC32AtEveryLengthAndAlignment() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)  // the standard check value
        XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
        var g = SystemRandomNumberGenerator()
        let bytes = (0..<300).map { _ in UInt8.random(in: 0...255, using: &g) }
        for start in 0..<9 {
            for end in start...bytes.count where end - start < 40 || end == bytes.count {
                let slice = bytes[start..<end]
                // A lazy map has no contiguous storage: the checksum takes it a byte at a time.
                XCTAssertEqual(CRC32.checksum(slice), CRC32.checksum(slice.lazy.map { $0 }), "bytes \(start)..<\(end)")
            }
        }
    }

    func testTargetsDifferInByteOrderOnlyAndOnlyTheHostsRuns() throws {
        var listings: Set<String> = []
        var codes: [Target: [UInt8]] = [:]
        for target in Target.allCases {
            let module = try compile(Self.source, CompileOptions(target: target))
            let artifact = module.serialized()
            // Anyone can load any target's artifact to look at it…
            let loaded = try CompiledModule(deserializing: artifact, target: nil)
            XCTAssertEqual(loaded.options.target, target)
            listings.insert(try XCTUnwrap(loaded.disassembly(options: .init(addresses: true, bytes: false))))
            codes[target] = loaded.code
            // …but only this machine's runs.
            if target == .host {
                XCTAssertNoThrow(try Instance(module: loaded, store: Store(), imports: [:]))
            } else {
                XCTAssertThrowsError(try CompiledModule(deserializing: artifact)) {
                    XCTAssertEqual(($0 as? ArtifactError)?.kind, .wrongTarget)
                    XCTAssertEqual("\($0)", "artifact was compiled for \(target.rawValue), but this machine runs \(Target.host.rawValue)")
                }
                XCTAssertThrowsError(try Instance(module: loaded, store: Store(), imports: [:])) {
                    XCTAssertTrue("\($0)".contains("compiled for \(target.rawValue)"), "\($0)")
                }
            }
        }
        XCTAssertEqual(listings.count, 1, "every target's code disassembles to the same listing")
        XCTAssertEqual(codes[.pulley32], codes[.pulley64], "no pointer-sized field in the bytecode")
        XCTAssertEqual(codes[.pulley32be], codes[.pulley64be])
        XCTAssertNotEqual(codes[.pulley64], codes[.pulley64be], "immediates follow the byte order")
        XCTAssertEqual(codes[.pulley64]?.count, codes[.pulley64be]?.count)
        // Opcode bytes are the same; the bytes that differ are inside multi-byte immediates.
        let little = try XCTUnwrap(codes[.pulley64]), big = try XCTUnwrap(codes[.pulley64be])
        XCTAssertEqual(little[0], big[0], "push_frame's opcode")
        XCTAssertEqual(Array(little[1..<5]), Array(big[1..<5].reversed()), "push_frame's u32 size, byte-swapped")
        // objdump of a big-endian artifact, raw bytes and all.
        let fib = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/fib.wat"), encoding: .utf8)
        let artifact = try compile(fib, CompileOptions(target: .pulley64be)).serialized()
        try assertGolden(try XCTUnwrap(try CompiledModule(deserializing: artifact, target: nil).disassembly()), "fib-pulley64be.objdump")
    }

    /// Found by the artifact fuzzer (issue 18): a body length near 2^64 passed the
    /// length check but overflowed while the error message was written. Every
    /// 8-byte window of the header set to all ones (checksum fixed up) is refused.
    func testAHeaderFieldOfAllOnesIsRefusedNotACrash() throws {
        let artifact = try compile().serialized()
        for start in 0..<min(80, artifact.count - 12) {
            var bytes = artifact
            for i in start..<start + 8 { bytes[i] = 0xFF }
            let crc = CRC32.checksum(bytes[0..<(bytes.count - 4)])
            for i in 0..<4 { bytes[bytes.count - 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * i)) }
            XCTAssertThrowsError(try CompiledModule(deserializing: bytes), "all ones at \(start)")
        }
    }

    func testDamagedFilesGetAnErrorNamingTheProblem() throws {
        let artifact = try compile().serialized()
        func kind(_ bytes: [UInt8]) -> ArtifactError.Kind? {
            do { _ = try CompiledModule(deserializing: bytes); return nil } catch { return error.kind }
        }
        XCTAssertEqual(kind([]), .notAnArtifact)
        XCTAssertEqual(kind(Array(try wat2wasm(Self.source))), .notAnArtifact)
        var version = artifact
        version[8] = 1
        XCTAssertEqual(kind(version), .unsupportedVersion)
        // Bytecode of another instruction set (an older or newer Sheave's op table) is refused before it is read.
        var otherOps = artifact
        otherOps[12] ^= 0x01
        XCTAssertThrowsError(try CompiledModule(deserializing: otherOps)) {
            XCTAssertEqual(($0 as? ArtifactError)?.kind, .unsupportedVersion)
            XCTAssertTrue("\($0)".hasPrefix("artifact was compiled for another instruction set"), "\($0)")
        }
        // Every truncation is an error, never a crash.
        for length in 0..<artifact.count {
            XCTAssertNotNil(kind(Array(artifact.prefix(length))), "truncated to \(length)")
        }
        XCTAssertEqual(kind(Array(artifact.prefix(artifact.count - 1))), .truncated)
        // Every single-bit flip is an error; past the 46-byte header, the checksum's.
        for index in 0..<artifact.count {
            var flipped = artifact
            flipped[index] ^= 0x04
            if index >= 46 {
                XCTAssertEqual(kind(flipped), .checksumMismatch, "bit flip at \(index)")
            } else {
                XCTAssertNotNil(kind(flipped), "bit flip at \(index)")
            }
        }
        XCTAssertEqual(kind(artifact + [0]), .damaged)
    }

    // MARK: Forged bytecode, with a valid checksum: the verifier's job

    /// An artifact of a module like `wat` whose function `index` is replaced by `body`.
    func forge(_ wat: String = source, checkpoints: Bool = false, function index: Int = 1, _ body: (inout Encoder) -> Void) throws -> [UInt8] {
        let module = try compile(wat, CompileOptions(checkpoints: checkpoints))
        var e = Encoder()
        body(&e)
        let forged = try e.finish()
        var code: [UInt8] = []
        var offsets: [Int] = []
        for (k, start) in module.functionOffsets.enumerated() {
            offsets.append(code.count)
            let end = k + 1 < module.functionOffsets.count ? module.functionOffsets[k + 1] : module.code.count
            code += k == index ? forged : Array(module.code[start..<end])
        }
        return CompiledModule(info: module.info, options: module.options, code: code, functionOffsets: offsets).serialized()
    }

    func assertUnverifiable(_ artifact: [UInt8], _ reason: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try CompiledModule(deserializing: artifact), file: file, line: line) { error in
            XCTAssertEqual((error as? ArtifactError)?.kind, .unverifiable, "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(reason), "\(error) does not say \(reason)", file: file, line: line)
        }
    }

    func testTheVerifierRefusesBytecodeThatBreaksTheInterpretersRules() throws {
        assertUnverifiable(try forge { $0.xmov(XReg(0), XReg(0)); $0.ret() }, "must start with push_frame")
        assertUnverifiable(try forge { $0.pushFrame(2); $0.xmov(XReg(5), XReg(0)); $0.ret() }, "register 5 outside the frame of 2 slots")
        assertUnverifiable(try forge { $0.pushFrame(2); $0.jump(PcRelOffset(2)); $0.ret() }, "is not an op of this function")
        assertUnverifiable(try forge { $0.pushFrame(2); $0.jump(PcRelOffset(-100)); $0.ret() }, "is not an op of this function")
        assertUnverifiable(try forge { $0.pushFrame(2); $0.globalSet(7, XReg(0)); $0.ret() }, "global 7 out of range (1)")
        assertUnverifiable(try forge { $0.pushFrame(2); $0.call(PcRelOffset(-3), 1); $0.ret() }, "is not a function's start")
        assertUnverifiable(try forge { $0.pushFrame(2); $0.callHost(0, 0, 1); $0.ret() }, "imported function 0 out of range (0)")
        assertUnverifiable(try forge { $0.pushFrame(2); $0.callRef(XReg(0), 3); $0.ret() }, "callee frame at slot 3 past the frame")
        assertUnverifiable(try forge { $0.pushFrame(2); $0.xmov(XReg(0), XReg(1)) }, "control falls off the end")
        assertUnverifiable(try forge { $0.pushFrame(2); $0.pushFrame(2); $0.ret() }, "push_frame inside a function")
        assertUnverifiable(try forge { $0.pushFrame(2); $0.pushFrameZero(2, 0, 1); $0.ret() }, "push_frame inside a function")
        assertUnverifiable(try forge { $0.pushFrameZero(2, 1, 2); $0.ret() }, "slots 1..<3 past the frame of 2 slots")
        assertUnverifiable(try forge { $0.pushFrameZero(2, 3, 0); $0.ret() }, "callee frame at slot 3 past the frame")
        assertUnverifiable(try forge { $0.pushFrame(2); $0.append(contentsOf: [0xFE]); $0.ret() }, "invalid opcode 0xfe")
        // Lazily compiled code's ops: a call by index is checked as any index; the stub op is the VM's own.
        assertUnverifiable(try forge { $0.pushFrame(2); $0.callFunc(9, 1); $0.ret() }, "function 9 out of range")
        XCTAssertNoThrow(try CompiledModule(deserializing: try forge { $0.pushFrame(2); $0.callFunc(1, 1); $0.ret() }))
        assertUnverifiable(try forge { $0.pushFrame(2); $0.lazyEntry(1) }, "lazy_entry outside the VM's stubs")
        assertUnverifiable(try forge("(module (func (export \"f\") (param i32) (result i32) (local.get 0)))", function: 0) {
            $0.pushFrame(2); $0.xload32(XReg(0), XReg(0), 0); $0.ret()
        }, "memory access in a module without memory")
        // A super-instruction whose steps need two registers apart (the op table's `distinct:`).
        let memory = "(module (memory 1) (func (export \"f\") (param i32) (result i32) (local.get 0)))"
        assertUnverifiable(try forge(memory, function: 0) {
            $0.pushFrame(2); $0.xload32Xchg(XReg(0), XReg(0), 0, XReg(1)); $0.ret()
        }, "operands 0 and 1 name one register")
        XCTAssertNoThrow(try CompiledModule(deserializing: try forge(memory, function: 0) {
            $0.pushFrame(2); $0.xload32Xchg(XReg(1), XReg(0), 0, XReg(1)); $0.ret()
        }), "dst and src may be one register: the steps read src after dst is written")
        // Metered code must stay metered: fuel at entry and at every backward branch's target.
        assertUnverifiable(try forge(checkpoints: true) { $0.pushFrame(2); $0.ret() }, "consume fuel at function entry")
        assertUnverifiable(try forge(checkpoints: true) { e in
            e.pushFrame(2); e.checkpoint(1)
            let top = e.makeLabel()
            e.bind(top); e.nop(); e.jump(top)
        }, "at the target of a backward branch")
    }

    func testForgedButWellFormedCodeStaysInItsSandbox() throws {
        // A reference made from an integer names no function: calling it traps.
        let forgedReference = try forge { e in
            e.pushFrame(4); e.xconst64(XReg(1), 0x7FFF_DEAD_BEEF); e.callRef(XReg(1), 2); e.ret()
        }
        let instance = try Instance(module: try CompiledModule(deserializing: forgedReference), store: Store(), imports: [:])
        XCTAssertThrowsError(try instance.invoke("f", [.i32(1)])) {
            XCTAssertEqual(($0 as? Trap)?.code, .badSignature, "\($0)")
        }
        // So does a host that passes one in.
        let engine = Engine()
        let module = try Module(engine: engine, wat: """
            (module (type $t (func)) (table 1 funcref)
              (func (export "call") (param funcref) (table.set (i32.const 0) (local.get 0)) (call_indirect (type $t) (i32.const 0))))
            """)
        let calls = try Linker().instantiate(module, in: Store(engine: engine)).function("call")!
        XCTAssertThrowsError(try calls.call([.ref(0xDEAD_BEEF)])) { XCTAssertEqual(($0 as? Trap)?.code, .badSignature, "\($0)") }
        XCTAssertThrowsError(try calls.call([.ref(0)])) { XCTAssertEqual(($0 as? Trap)?.code, .indirectCallToNull, "\($0)") }
    }
}
