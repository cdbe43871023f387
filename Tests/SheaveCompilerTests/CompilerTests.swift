import Foundation
import Sheave
import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter
import WAT
import WasmTypes
import XCTest

/// What the compiler emits, checked through the disassembler, and what it rejects.
final class CompilerTests: XCTestCase {
    func compile(_ wat: String) throws -> CompiledModule {
        try CompiledModule(bytes: try wat2wasm(wat))
    }

    /// The ops of function `index`, one mnemonic line each, without offsets or bytes.
    func listing(_ module: CompiledModule, function index: Int = 0) -> [String] {
        let start = module.functionOffsets[index]
        let end = index + 1 < module.functionOffsets.count ? module.functionOffsets[index + 1] : module.code.count
        return Disassembler.disassemble(Array(module.code[start..<end]), options: .init(addresses: false, bytes: false))
            .split(separator: "\n").map(String.init)
    }

    func testConstantsBecomeImmediatesAndLocalSetRetargetsTheProducer() throws {
        let module = try compile("""
            (module (func (param i32) (result i32) (local i32)
              (local.set 1 (i32.add (local.get 0) (i32.const 5)))
              (i32.mul (local.get 1) (local.get 1))))
            """)
        // No op for local.get or i32.const; the add writes local 1 directly. Local 1
        // is written before it is read, so it is not zeroed at entry.
        XCTAssertEqual(listing(module), [
            "push_frame 4",
            "xadd32_i32 x1, x0, 5",
            "xmul32 x0, x1, x1",  // the result is written straight to the return slot
            "ret",
        ])
    }

    func testComparisonsFuseIntoTheBranchesThatUseThem() throws {
        let module = try compile("""
            (module (func (param i32 i32) (result i32)
              (block (br_if 0 (i32.lt_u (local.get 0) (local.get 1))))
              (if (i32.eqz (local.get 0)) (then (return (i32.const 1))))
              (if (result i32) (i64.gt_s (i64.extend_i32_s (local.get 1)) (i64.const 5))
                (then (i32.const 2)) (else (i32.const 3)))))
            """)
        let ops = listing(module).map { $0.split(separator: " ").first.map(String.init) ?? "" }
        // Each comparison became part of its branch: no xult32, xeqz32 or xsgt64_i32 op remains.
        XCTAssertTrue(ops.contains("br_if_xult32"), "\(ops)")
        XCTAssertTrue(ops.contains("br_if_xnez32"), "if (eqz x) branches to else when x != 0: \(ops)")
        XCTAssertTrue(ops.contains("br_if_xsle64_i32"), "if (x > 5) branches to else when x <= 5: \(ops)")
        XCTAssertFalse(ops.contains { $0.hasPrefix("xult") || $0.hasPrefix("xeqz") || $0.hasPrefix("xsgt") }, "\(ops)")
        // And the semantics hold.
        let instance = try Instance(module: try compile("""
            (module (func (export "f") (param i32 i32) (result i32)
              (if (i32.eqz (local.get 0)) (then (return (i32.const 1))))
              (if (result i32) (i64.gt_s (i64.extend_i32_s (local.get 1)) (i64.const 5))
                (then (i32.const 2)) (else (i32.const 3)))))
            """), store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("f", [.i32(0), .i32(9)]), [.i32(1)])
        XCTAssertEqual(try instance.invoke("f", [.i32(1), .i32(9)]), [.i32(2)])
        XCTAssertEqual(try instance.invoke("f", [.i32(1), .i32(UInt32(bitPattern: -9))]), [.i32(3)])
    }

    func testLocalSetDoesNotRetargetWhenTheOldValueIsStillOnTheStack() throws {
        // local.get 0 stays lazily on the stack while local 0 is overwritten: it must be copied first.
        let module = try compile("""
            (module (func (export "f") (param i32) (result i32)
              (local.get 0)
              (local.set 0 (i32.add (local.get 0) (i32.const 1)))
              (i32.sub (local.get 0))))
            """)
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("f", [.i32(10)]), [.i32(UInt32(bitPattern: 10 - 11))])
    }

    func testValidationErrorsNameTheFunctionTheOffsetAndTheRule() {
        XCTAssertThrowsError(try compile("(module (func) (func (result i32) (i64.const 1)))")) { error in
            guard let error = error as? CompileError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.kind, .invalid)
            XCTAssertEqual(error.function, 1)
            XCTAssertNotNil(error.offset)
            XCTAssertTrue(error.message.contains("type mismatch"), error.message)
        }
    }

    /// A module of `count` functions, large enough to compile in parallel: each calls the
    /// next, catches in a `try_table`, and does enough arithmetic to be a few hundred bytes.
    /// `invalid`: functions whose body returns an i64 where an i32 is declared.
    func largeModule(count: Int, invalid: Set<Int> = []) throws -> [UInt8] {
        let arithmetic = (0..<24).map { "(local.set 0 (i32.add (i32.mul (local.get 0) (i32.const \($0 * 7 + 3))) (i32.xor (local.get 0) (i32.const \($0 + 1000))))) " }.joined()
        let functions = (0..<count).map { i in
            let result = invalid.contains(i) ? "(i64.const 1)" : "(local.get 0)"
            let next = i + 1 < count ? "(drop (call \(i + 1) (local.get 0)))" : ""
            return """
                (func (param i32) (result i32)
                  (block $caught (result i32) (try_table (catch $e $caught) \(arithmetic)\(next) (throw $e (local.get 0))) (unreachable))
                  (drop) \(result))
                """
        }
        return try wat2wasm("(module (tag $e (param i32))\n\(functions.joined(separator: "\n")))")
    }

    func testParallelCompilationGivesTheSameBytecodeImageAndFirstError() throws {
        let bytes = try largeModule(count: 240)
        XCTAssertGreaterThan(bytes.count, CompiledModule.parallelThreshold, "the module must be large enough to compile in parallel")
        let parallel = try CompiledModule(bytes: bytes, options: CompileOptions(parallel: true))
        let alone = try CompiledModule(bytes: bytes, options: CompileOptions(parallel: false))
        XCTAssertEqual(parallel.functionOffsets.count, 240)
        XCTAssertEqual(parallel.code, alone.code)
        XCTAssertEqual(parallel.functionOffsets, alone.functionOffsets)
        XCTAssertEqual(parallel.handlers, alone.handlers)
        XCTAssertEqual(parallel.handlers[239].count, 1)
        // Its code image made in runs of functions on every core is the image made alone:
        // the accumulator forms chosen function by function are the ones chosen at once.
        let image = { (from: Int) -> [UInt8] in
            let image = CodeImage(parallel.code, functionStarts: parallel.functionOffsets, handlers: parallel.handlers, parallelFrom: from)
            return withExtendedLifetime(image) { Array(image.imageBytes) }
        }
        XCTAssertTrue(image(1024) == image(.max), "the images differ")
        // Two functions fail: either way, the error is the first one's.
        let broken = try largeModule(count: 240, invalid: [230, 150])
        for parallel in [true, false] {
            XCTAssertThrowsError(try CompiledModule(bytes: broken, options: CompileOptions(parallel: parallel))) { error in
                guard let error = error as? CompileError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.kind, .invalid)
                XCTAssertEqual(error.function, 150)
                XCTAssertTrue(error.message.contains("type mismatch"), error.message)
            }
        }
    }

    func testFiftyThousandLocalsCompileAndRun() throws {
        let module = try compile("""
            (module (func (export "f") (result i32) (local i64) (local \(Array(repeating: "i32", count: 49_999).joined(separator: " ")))
              (local.set 49999 (i32.const 7))
              (local.get 49999)))
            """)
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("f", []), [.i32(7)])
    }

    func testHundredThousandNestedBlocks() throws {
        // Built as a binary: a text parser would recurse this deep.
        let depth = 100_000
        var body: [UInt8] = [0x00]  // no locals
        body += Array(repeating: [0x02, 0x40], count: depth).flatMap { $0 }  // block (empty)
        body += [0x41, 0x2A]  // i32.const 42
        body += [0x1A]  // drop
        body += Array(repeating: 0x0B, count: depth)  // end × depth
        body += [0x41, 0x07, 0x0B]  // i32.const 7, end (function)
        let bytes = moduleBytes(resultI32Body: body)
        let module = try CompiledModule(bytes: bytes)
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("f", []), [.i32(7)])
    }

    /// Issue 19: a file that is not a module, or ends too soon, is described in
    /// plain words (WasmKit's parser wrote `"Message(text: …)"` and the offset twice).
    func testMalformedModulesAreDescribedInPlainWords() {
        func message(_ bytes: [UInt8]) -> String {
            do { _ = try CompiledModule(bytes: bytes); return "compiled" } catch { return "\(error)" }
        }
        XCTAssertEqual(message(Array("garbage".utf8)), #"not a WebAssembly module (the file starts with "garb", not "\0asm")"#)
        XCTAssertEqual(message([]), #"not a WebAssembly module (the file is empty, not "\0asm")"#)
        XCTAssertEqual(message([0x7F, 0x45, 0x4C, 0x46, 2]), #"not a WebAssembly module (the file starts with "\x7fELF", not "\0asm")"#)
        XCTAssertEqual(message([0x00, 0x61, 0x73, 0x6D, 0x02, 0x00, 0x00, 0x00]), "unknown binary version 2 (Sheave reads version 1) at offset 0x4")
        XCTAssertEqual(message([0x00, 0x61, 0x73, 0x6D, 0x01]), "unexpected end: the header has no version at offset 0x4")
        // A type section that ends inside its only entry.
        let truncated = message([0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60])
        XCTAssertTrue(truncated.hasPrefix("unexpected end"), truncated)
        XCTAssertEqual(truncated.components(separatedBy: "at offset").count, 2, truncated)
        // A function body with an opcode that does not exist.
        let unknown = message([0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                               0x03, 0x02, 0x01, 0x00, 0x0A, 0x05, 0x01, 0x03, 0x00, 0xFF, 0x0B])
        XCTAssertFalse(unknown.contains("Message("), unknown)
        XCTAssertEqual(unknown.components(separatedBy: "at offset").count, 2, unknown)
    }

    func testAGigabyteDataSegmentRequestIsAnErrorNotAnAllocation() {
        // A data segment declaring 1 GiB of bytes in a module of a few dozen.
        var bytes: [UInt8] = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00]
        bytes += [0x05, 0x03, 0x01, 0x00, 0x01]  // memory section: 1 memory, min 1
        bytes += [0x0B, 0x0A, 0x01, 0x00, 0x41, 0x00, 0x0B]  // data section: active, offset i32.const 0
        bytes += [0x80, 0x80, 0x80, 0x80, 0x04]  // length 2^30
        XCTAssertThrowsError(try CompiledModule(bytes: bytes)) { error in
            XCTAssertEqual((error as? CompileError)?.kind, .malformed)
        }
    }

    /// A block, loop or `if` with parameters in unreachable code, where the stack
    /// holds fewer values than the parameters: the compiler crashed on it (a
    /// negative index, issue 18; 1.3% of `wasm-tools smith`'s modules). Valid,
    /// compiled, and the function traps where it reaches `unreachable`.
    func testABlockWithParametersInUnreachableCodeCompiles() throws {
        for body in ["unreachable (block (param i32) drop)",
                     "unreachable (loop (param i32 i64) drop drop)",
                     "unreachable (if (param i32) (then drop) (else drop))",
                     "unreachable (block (param i32) (result i32) (block (param i32) (result i32))) drop",
                     "(block (br 0) (block (param f64) drop))",
                     "i32.const 1 unreachable (block (param i32 i32) drop drop) drop"] {
            let module = try compile("(module (type $t (func)) (func (export \"f\") \(body)))")
            let instance = try Instance(module: module, store: Store(), imports: [:])
            if body.hasPrefix("(block (br 0)") {
                XCTAssertEqual(try instance.invoke("f", []), [], body)
            } else {
                XCTAssertThrowsError(try instance.invoke("f", []), body) { XCTAssertEqual(($0 as? Trap)?.code, .unreachable, body) }
            }
        }
    }

    func testMemoryLimitsAreValidated() {
        XCTAssertThrowsError(try compile("(module (memory 65537))"))
        XCTAssertThrowsError(try compile("(module (memory 2 1))"))
    }

    /// A module exporting one function "f" of type [] -> [i32] with `body` (locals and code).
    func moduleBytes(resultI32Body body: [UInt8]) -> [UInt8] {
        func leb(_ value: Int) -> [UInt8] {
            var v = value, out: [UInt8] = []
            repeat {
                var byte = UInt8(v & 0x7F)
                v >>= 7
                if v != 0 { byte |= 0x80 }
                out.append(byte)
            } while v != 0
            return out
        }
        func section(_ id: UInt8, _ content: [UInt8]) -> [UInt8] { [id] + leb(content.count) + content }
        var bytes: [UInt8] = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00]
        bytes += section(1, [0x01, 0x60, 0x00, 0x01, 0x7F])  // type: [] -> [i32]
        bytes += section(3, [0x01, 0x00])  // function 0 has type 0
        bytes += section(7, [0x01, 0x01, 0x66, 0x00, 0x00])  // export "f" = function 0
        bytes += section(10, [0x01] + leb(body.count) + body)
        return bytes
    }
}

/// The runtime refuses what does not fit instead of running with it.
final class RuntimeCheckTests: XCTestCase {
    func instance(_ wat: String, imports: [String: [String: Extern]] = [:]) throws -> Instance {
        try Instance(module: try CompiledModule(bytes: try wat2wasm(wat)), store: Store(), imports: imports)
    }

    func testArgumentsMustMatchTheFunctionType() throws {
        let i = try instance("(module (func (export \"add\") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))")
        XCTAssertEqual(try i.invoke("add", [.i32(2), .i32(3)]), [.i32(5)])
        XCTAssertThrowsError(try i.invoke("add", [.i32(2)]))
        XCTAssertThrowsError(try i.invoke("add", [.i32(2), .i64(3)]))
    }

    func testHostFunctionsMustReturnTheirDeclaredTypes() throws {
        let wrong = Function(type: FunctionType(parameters: [], results: [.i32])) { _, _ in [.i64(1)] }
        let i = try instance("""
            (module (import "host" "f" (func $f (result i32))) (func (export "g") (result i32) (call $f)))
            """, imports: ["host": ["f": .function(wrong)]])
        XCTAssertThrowsError(try i.invoke("g", []))
    }

    func testHugeTablesAreRefused() {
        XCTAssertThrowsError(try instance("(module (table 4000000000 funcref))")) { error in
            XCTAssertTrue(error is LinkError, "\(error)")
        }
    }

    /// Found in review (session 14): an operand stack deeper than 65,535 slots
    /// trapped converting a slot to the bytecode's u16, crashing the host while
    /// compiling. Now the function is refused as too large, as too many locals are.
    func testAnOperandStackPastWhatTheBytecodeCanNameIsRefusedNotACrash() throws {
        let deep = "(module (func (export \"f\") (result i32) " + String(repeating: "(i32.const 1) ", count: 70_000)
            + String(repeating: "(i32.add) ", count: 69_999) + "))"
        XCTAssertThrowsError(try CompiledModule(bytes: try wat2wasm(deep))) { error in
            XCTAssertEqual((error as? CompileError)?.kind, .unsupported, "\(error)")
            XCTAssertTrue("\(error)".contains("function frame too large"), "\(error)")
        }
        // A call to a function with 70,000 results (its results pass 65,535 slots too).
        let wide = "(module (type $t (func (result " + String(repeating: "i32 ", count: 70_000) + ")))"
            + " (import \"host\" \"f\" (func $f (type $t))) (func (export \"g\") (call $f) " + String(repeating: "(drop) ", count: 70_000) + "))"
        XCTAssertThrowsError(try CompiledModule(bytes: try wat2wasm(wide))) { error in
            XCTAssertTrue("\(error)".contains("function frame too large"), "\(error)")
        }
    }

    /// Found in review (session 14): after `br_on_null` in unreachable code the
    /// stack holds the label's types (here a funcref, which `$f` does not take);
    /// the compiler left nothing there and accepted the module.
    func testBrOnNullInUnreachableCodeLeavesItsLabelsTypes() throws {
        let invalid = """
            (module (type $t (func)) (func $f (param (ref null $t)))
              (func (result funcref) (unreachable) (br_on_null 0) (drop) (call $f) (ref.null func)))
            """
        XCTAssertThrowsError(try CompiledModule(bytes: try wat2wasm(invalid))) { error in
            XCTAssertEqual((error as? CompileError)?.kind, .invalid, "\(error)")
        }
        // A table initializer is typed function references: refused when they are off.
        var features = Features.all
        features.remove(.functionReferences)
        XCTAssertThrowsError(try CompiledModule(bytes: try wat2wasm("(module (table 1 funcref (ref.func 0)) (func))"),
                                                options: CompileOptions(features: features))) { error in
            XCTAssertEqual((error as? CompileError)?.kind, .invalid, "\(error)")
        }
    }

    func testImportsAreCheckedByType() throws {
        let host = Function(type: FunctionType(parameters: [.i32], results: [])) { _, _ in [] }
        XCTAssertThrowsError(try instance("(module (import \"host\" \"f\" (func (param i64))))", imports: ["host": ["f": .function(host)]]))
        XCTAssertThrowsError(try instance("(module (import \"host\" \"missing\" (func)))"))
    }
}

final class TrapBacktraceTests: XCTestCase {
    func testATrapCarriesItsKindAndTheWasmFramesWithTheirNames() throws {
        let bytes = try wat2wasm("""
            (module
              (func $inner (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
              (func $middle (param i32) (result i32) (call $inner (local.get 0)))
              (func (export "run") (param i32) (result i32) (call $middle (local.get 0))))
            """, options: EncodeOptions(nameSection: true))
        let store = Store()
        let instance = try Instance(module: try CompiledModule(bytes: bytes), store: store, imports: [:])
        XCTAssertThrowsError(try instance.invoke("run", [.i32(0)])) { error in
            guard let trap = error as? Trap else { return XCTFail("\(error)") }
            XCTAssertEqual(trap.code, .integerDivisionByZero)
            XCTAssertEqual(trap.message, "integer divide by zero")
            XCTAssertEqual(trap.backtrace.map(\.function), [0, 1, 2])
            XCTAssertEqual(trap.backtrace.map(\.name), ["inner", "middle", nil])
        }
        // The store is usable after the trap.
        XCTAssertEqual(try instance.invoke("run", [.i32(1)]), [.i32(1)])
    }
}

final class FeatureTests: XCTestCase {
    func compile(_ wat: String, _ features: Features) throws {
        _ = try CompiledModule(bytes: try wat2wasm(wat), options: CompileOptions(features: features))
    }

    func testDisabledFeaturesMakeModulesInvalid() throws {
        let bulk = "(module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))"
        let multiValue = "(module (func (result i32 i32) (i32.const 1) (i32.const 2)))"
        let signExtension = "(module (func (result i32) (i32.extend8_s (i32.const 1))))"
        let saturating = "(module (func (result i32) (i32.trunc_sat_f32_s (f32.const 1))))"
        let references = "(module (func (result i32) (ref.is_null (ref.null extern))))"
        for source in [bulk, multiValue, signExtension, saturating, references] {
            XCTAssertNoThrow(try compile(source, .all), source)
            XCTAssertThrowsError(try compile(source, .mvp), source) { error in
                XCTAssertEqual((error as? CompileError)?.kind, .invalid, source)
            }
        }
        XCTAssertNoThrow(try compile(bulk, [.bulkMemory]))
        XCTAssertThrowsError(try compile(multiValue, [.bulkMemory]))
    }
}

/// `sheave objdump`'s listing against a checked-in one (SHEAVE_UPDATE_GOLDEN=1 rewrites it).
final class DisassemblyGoldenTests: XCTestCase {
    func testObjdumpListingOfFib() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/fib.wat")
        let module = try CompiledModule(bytes: try wat2wasm(try String(contentsOf: source, encoding: .utf8), options: EncodeOptions(nameSection: true)))
        let listing = try XCTUnwrap(module.disassembly(options: .init(addresses: true, bytes: true)))
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/fib.objdump")
        if ProcessInfo.processInfo.environment["SHEAVE_UPDATE_GOLDEN"] == "1" {
            try listing.write(to: golden, atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(listing, try String(contentsOf: golden, encoding: .utf8))
        XCTAssertNil(module.disassembly(function: "nothing"))
        XCTAssertEqual(module.disassembly(function: "fib"), module.disassembly(function: "0"))
    }
}

/// The names of the ops of function `k` (an index into the module's defined
/// functions), in order.
func opNames(_ module: CompiledModule, function k: Int) -> [String] {
    let start = module.functionOffsets[k], end = k + 1 < module.functionOffsets.count ? module.functionOffsets[k + 1] : module.code.count
    return Disassembler.disassemble(Array(module.code[start..<end]), options: .init(addresses: false, bytes: false))
        .split(separator: "\n").map { String($0.split(separator: " ")[0]) }
}
