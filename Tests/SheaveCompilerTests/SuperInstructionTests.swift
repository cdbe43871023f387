import Foundation
import Sheave
import SheaveBytecode
import SheaveCompiler
import WAT
import WasmTypes
import XCTest

/// Super-instructions chosen from the profiler's pair counts: each is emitted for
/// its pattern and computes what the two ops it replaces compute.
final class SuperInstructionTests: XCTestCase {
    func testShiftThenAddAndShiftThenMaskFuse() throws {
        let source = """
            (module
              (func (export "index") (param i32 i32) (result i32) (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 2))))
              (func (export "index2") (param i32 i32) (result i32) (i32.add (i32.shl (local.get 1) (i32.const 35)) (local.get 0)))
              (func (export "field") (param i32) (result i32) (i32.and (i32.shr_u (local.get 0) (i32.const 4)) (i32.const 0xff)))
              (func (export "apart") (param i32) (result i32) (i32.and (i32.shr_u (local.get 0) (i32.const 4)) (local.get 0))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        func ops(_ k: Int) -> [String] { opNames(module, function: k) }
        XCTAssertEqual(ops(0), ["push_frame", "xadd32_shl", "ret"])
        XCTAssertEqual(ops(1), ["push_frame", "xadd32_shl", "ret"])
        XCTAssertEqual(ops(2), ["push_frame", "xshr32_u_and", "ret"])
        XCTAssertEqual(ops(3), ["push_frame", "xshr32_u_u8", "xand32", "ret"], "the mask is not a constant: no fusion")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("index", [.i32(1000), .i32(7)]), [.i32(1028)])
        XCTAssertEqual(try instance.invoke("index", [.i32(0xFFFF_FFF0), .i32(0x4000_0005)]), [.i32(0x0000_0004)], "wraps")
        XCTAssertEqual(try instance.invoke("index2", [.i32(1), .i32(3)]), [.i32(25)], "shift count modulo 32")
        XCTAssertEqual(try instance.invoke("field", [.i32(0xABCD_1234)]), [.i32(0x23)])
        XCTAssertEqual(try instance.invoke("apart", [.i32(0xFF)]), [.i32(0x0F)])
    }

    /// A float product and the add, subtract or multiply that uses it are one op,
    /// which rounds the product first, as the two ops do: never a fused multiply-add.
    func testAFloatProductFusesWithTheOpThatUsesIt() throws {
        let source = """
            (module
              (func (export "sub") (param f64 f64 f64) (result f64) (f64.sub (f64.mul (local.get 0) (local.get 1)) (local.get 2)))
              (func (export "rsub") (param f64 f64 f64) (result f64) (f64.sub (local.get 2) (f64.mul (local.get 0) (local.get 1))))
              (func (export "mul3") (param f32 f32 f32) (result f32) (f32.mul (f32.mul (local.get 0) (local.get 1)) (local.get 2)))
              (func (export "dot") (param f32 f32 f32) (result f32) (f32.add (local.get 2) (f32.mul (local.get 0) (local.get 1)))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        let text = Disassembler.disassemble(module.code, options: .init(addresses: false, bytes: false))
        for op in ["fmul64_sub", "fmul64_rsub", "fmul32_mul", "fmul32_add"] { XCTAssertTrue(text.contains(op + " "), "\(op): \(text)") }
        let instance = try Instance(module: module, store: Store(), imports: [:])
        // (1 + 2^-30)^2 = 1 + 2^-29 + 2^-60: rounded, the 2^-60 is gone; a fused multiply-add would keep it.
        let x = 1 + 0x1p-30, square = 1 + 0x1p-29
        XCTAssertEqual(try instance.invoke("sub", [.f64(x.bitPattern), .f64(x.bitPattern), .f64(square.bitPattern)]), [.f64(0.0.bitPattern)])
        XCTAssertEqual(try instance.invoke("rsub", [.f64(x.bitPattern), .f64(x.bitPattern), .f64(square.bitPattern)]), [.f64(0.0.bitPattern)])
        XCTAssertEqual(try instance.invoke("mul3", [.f32(Float(3).bitPattern), .f32(Float(0.5).bitPattern), .f32(Float(-4).bitPattern)]),
                       [.f32(Float(-6).bitPattern)])
        XCTAssertEqual(try instance.invoke("dot", [.f32(Float(2).bitPattern), .f32(Float(3).bitPattern), .f32(Float(1).bitPattern)]),
                       [.f32(Float(7).bitPattern)])
    }

    /// A multiply by a constant then an add of one is one op, in both widths, and
    /// wraps like the pair; a product used again is left alone.
    func testMultiplyThenAddOfConstantsFuse() throws {
        let source = """
            (module
              (func (export "lcg32") (param i32) (result i32) (i32.add (i32.mul (local.get 0) (i32.const 1664525)) (i32.const 1013904223)))
              (func (export "collatz") (param i64) (result i64) (i64.add (i64.mul (local.get 0) (i64.const 3)) (i64.const 1)))
              (func (export "kept") (param i32) (result i32) (local i32)
                (i32.add (i32.add (local.tee 1 (i32.mul (local.get 0) (i32.const 3))) (i32.const 1)) (local.get 1))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        let text = Disassembler.disassemble(module.code, options: .init(addresses: false, bytes: false))
        XCTAssertTrue(text.contains("xmul32_add_i32 x0, x0, 1664525, 1013904223"), text)
        XCTAssertTrue(text.contains("xmul64_add_i32 x0, x0, 3, 1"), text)
        XCTAssertTrue(text.contains("xmul32_i32 x1, x0, 3"), "the tee'd product stays: \(text)")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("lcg32", [.i32(0xDEAD_BEEF)]), [.i32(0xDEAD_BEEF &* 1664525 &+ 1013904223)])
        XCTAssertEqual(try instance.invoke("collatz", [.i64(0x6000_0000_0000_0001)]), [.i64(0x6000_0000_0000_0001 &* 3 &+ 1)])
        XCTAssertEqual(try instance.invoke("kept", [.i32(5)]), [.i32(31)])
    }

    /// A move and the branch right after it become one op, as do a bit test and
    /// the compare-with-constant and branch on it; the move happens before the
    /// branch reads its condition (even when the move wrote it), and the masked
    /// value is still kept.
    func testAMoveOrABitTestFusesWithTheBranchAfterIt() throws {
        let source = """
            (module
              (func (export "reverse") (param i32) (result i32) (local i32 i32 i32)
                ;; count down, rotating (prev, cur, next) each time: a move then a branch
                (loop $l
                  (local.set 3 (i32.add (local.get 2) (i32.const 1)))
                  (local.set 2 (local.get 1))
                  (local.set 1 (local.get 3))
                  (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                  (local.set 3 (local.get 0))
                  (br_if $l (local.get 3)))
                (i32.add (local.get 1) (i32.mul (local.get 2) (i32.const 1000))))
              (func (export "moved") (param i32 i32) (result i32)
                (block $b
                  (local.set 0 (local.get 1))
                  (br_if $b (i32.ne (local.get 0) (i32.const 7)))
                  (return (i32.const 100)))
                (local.get 0))
              (func (export "class") (param i32) (result i32) (local i32)
                (block $digit
                  (br_if $digit (i32.le_u (local.tee 1 (i32.and (i32.add (local.get 0) (i32.const -48)) (i32.const 255))) (i32.const 9)))
                  (return (i32.const -1)))
                (local.get 1))
              (func (export "flag") (param i32) (result i32)
                (block $set
                  (br_if $set (i32.eq (i32.and (local.get 0) (i32.const 0xF0)) (i32.const 0x30)))
                  (return (i32.const 0)))
                (i32.const 1)))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        let text = Disassembler.disassemble(module.code, options: .init(addresses: false, bytes: false))
        XCTAssertTrue(text.contains("br_xmov_if_xnez32"), text)
        XCTAssertTrue(text.contains("br_xmov_if_xne32_i32 x0, x1, x0, 7"), text)
        XCTAssertTrue(text.contains("br_xand32_i32_ule_i32"), text)
        XCTAssertTrue(text.contains("br_xand32_i32_eq_i32"), text)
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("reverse", [.i32(5)]), [.i32(3 + 2 * 1000)])  // worked by hand: (prev, cur) ends (2, 3)
        XCTAssertEqual(try instance.invoke("moved", [.i32(1), .i32(7)]), [.i32(100)], "the branch sees the moved value")
        XCTAssertEqual(try instance.invoke("moved", [.i32(7), .i32(8)]), [.i32(8)])
        XCTAssertEqual(try instance.invoke("class", [.i32(0x35)]), [.i32(5)])
        XCTAssertEqual(try instance.invoke("class", [.i32(0x41)]), [.i32(0xFFFF_FFFF)])
        XCTAssertEqual(try instance.invoke("class", [.i32(0x12F)]), [.i32(0xFFFF_FFFF)], "only the low byte is tested: 0x2F - 48 wraps")
        XCTAssertEqual(try instance.invoke("flag", [.i32(0x1234)]), [.i32(1)])
        XCTAssertEqual(try instance.invoke("flag", [.i32(0x1224)]), [.i32(0)])
    }

    /// A load and the branch on whether it read zero become one op, which keeps the
    /// value and still traps out of bounds.
    func testALoadFusesWithTheBranchOnZero() throws {
        let source = """
            (module
              (memory 1)
              (data (i32.const 16) "abc\\00")
              (data (i32.const 32) "\\28\\00\\00\\00" "\\00\\00\\00\\00" "\\00\\00\\00\\00" "\\00\\00\\00\\00" "\\00\\00\\00\\00")
              (func (export "strlen") (param i32) (result i32) (local i32)
                (local.set 1 (local.get 0))
                (block $end
                  (loop $l
                    (br_if $end (i32.eqz (i32.load8_u (local.get 1))))
                    (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                    (br $l)))
                (i32.sub (local.get 1) (local.get 0)))
              (func (export "walk") (param i32) (result i32) (local i32)
                ;; follow next pointers from address p until one is null; count the steps
                (loop $l
                  (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                  (br_if $l (local.tee 0 (i32.load (local.get 0)))))
                (local.get 1))
              (func (export "constant") (result i32)
                ;; the address is a constant, written to a register by an op before the load
                (block $set (br_if $set (i32.load (i32.const 32))) (return (i32.const 0)))
                (i32.const 1)))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        let text = Disassembler.disassemble(module.code, options: .init(addresses: false, bytes: false))
        XCTAssertTrue(text.contains("br_xload8_u32_if_xeqz32"), text)
        XCTAssertTrue(text.contains("br_xload32_if_xnez32 x0, x0, 0"), text)
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("strlen", [.i32(16)]), [.i32(3)])
        XCTAssertEqual(try instance.invoke("walk", [.i32(32)]), [.i32(2)], "32 → 40 → 0")
        XCTAssertEqual(try instance.invoke("constant", []), [.i32(1)], "the address's constant is kept")
        XCTAssertThrowsError(try instance.invoke("walk", [.i32(65534)])) { error in
            XCTAssertEqual((error as? Trap)?.code, .memoryOutOfBounds)
        }
    }

    /// A float sum or difference and the store of it become one op, which still
    /// writes the result's register (a `local.tee` keeps it) and traps out of bounds.
    func testAFloatSumFusesWithItsStore() throws {
        let source = """
            (module
              (memory 1)
              (func (export "accumulate") (param i32 f64) (result f64)
                (f64.store (local.get 0) (f64.add (f64.load (local.get 0)) (local.get 1)))
                (f64.store offset=8 (local.get 0) (f64.sub (local.get 1) (f64.load offset=8 (local.get 0))))
                (f64.add (f64.load (local.get 0)) (f64.load offset=8 (local.get 0))))
              (func (export "kept") (param i32 f64) (result f64) (local f64)
                (f64.store (local.get 0) (local.tee 2 (f64.sub (local.get 1) (f64.const 0.5))))
                (local.get 2)))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        let text = Disassembler.disassemble(module.code, options: .init(addresses: false, bytes: false))
        XCTAssertTrue(text.contains("fadd64_store"), text)
        XCTAssertTrue(text.contains("fsub64_store"), text)
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("accumulate", [.i32(64), .f64((1.5 as Double).bitPattern)]), [.f64((3.0 as Double).bitPattern)], "1.5 stored, then 1.5 - 0 stored")
        XCTAssertEqual(try instance.invoke("accumulate", [.i32(64), .f64((1.5 as Double).bitPattern)]), [.f64((3.0 as Double).bitPattern)], "3.0, then 1.5 - 1.5 = 0")
        XCTAssertEqual(try instance.invoke("kept", [.i32(0), .f64((2.0 as Double).bitPattern)]), [.f64((1.5 as Double).bitPattern)])
        XCTAssertThrowsError(try instance.invoke("accumulate", [.i32(65532), .f64((1.0 as Double).bitPattern)])) { error in
            XCTAssertEqual((error as? Trap)?.code, .memoryOutOfBounds)
        }
    }

    /// A loop's step and the test of its result become one op; the step still
    /// writes its local, wraps, and the test reads the right operand after it.
    func testALoopStepFusesWithTheBranchOnItsResult() throws {
        let source = """
            (module
              (func (export "down") (param i32) (result i32) (local i32)
                (loop $l
                  (local.set 1 (i32.add (local.get 1) (i32.const 3)))
                  (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
                (local.get 1))
              (func (export "up64") (param i64 i64) (result i64) (local i64)
                (loop $l
                  (local.set 2 (i64.add (local.get 2) (local.get 1)))
                  (br_if $l (i64.lt_s (local.tee 0 (i64.add (local.get 0) (local.get 1))) (i64.const 100))))
                (i64.add (local.get 0) (local.get 2)))
              (func (export "wrap") (param i32) (result i32)
                (loop $l (br_if $l (i32.ne (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (i32.const 5))))
                (local.get 0)))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        let text = Disassembler.disassemble(module.code, options: .init(addresses: false, bytes: false))
        XCTAssertTrue(text.contains("br_xadd32_i32_nez x0, x0, -1"), text)
        XCTAssertTrue(text.contains("br_xadd32_i32_ne_i32 x0, x0, 1, 5"), text)
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("down", [.i32(10)]), [.i32(30)])
        XCTAssertEqual(try instance.invoke("up64", [.i64(0), .i64(7)]), [.i64(105 + 105)])
        XCTAssertEqual(try instance.invoke("wrap", [.i32(0xFFFF_FFF0)]), [.i32(5)], "wraps through zero to 5")
    }

    /// A declared local that the function's straight-line start writes before any
    /// read needs no zero at entry; one read first, or written only inside a
    /// block, keeps it.
    func testLocalsWrittenBeforeTheyAreReadAreNotZeroedAtEntry() throws {
        let source = """
            (module
              (func (export "f") (param i32) (result i32) (local i32 i32 i32 i64)
                (local.set 1 (i32.const 7))
                (drop (br_if 0 (local.get 3) (i32.eqz (local.get 0))))
                (local.set 4 (i64.const 5))
                (if (local.get 0) (then (local.set 2 (i32.const 9))))
                (i32.add (i32.add (local.get 1) (local.get 2)) (i32.add (local.get 3) (i32.wrap_i64 (local.get 4))))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        let listing = Disassembler.disassemble(module.code, options: .init(addresses: false, bytes: false)).split(separator: "\n")
        // Locals 2 and 3 (slots 2, 3) are zeroed in one op, the entry's; 1 and 4 are written first.
        XCTAssertEqual(Array(listing.prefix(2)), ["push_frame_zero 8, 2, 2", "xconst32 x1, 7"], "\(listing)")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("f", [.i32(1)]), [.i32(7 + 9 + 0 + 5)])
        XCTAssertEqual(try instance.invoke("f", [.i32(0)]), [.i32(0)], "the br_if returns local 3, zero")
        XCTAssertEqual(try instance.invoke("f", [.i32(1)]), [.i32(21)], "a second call sees zeros again, not the first call's values")
    }

    /// Inside a loop, a constant an op cannot take as an immediate is read from a
    /// slot written once at entry (the constant pool, between the locals and the
    /// operand stack), not written before every use. Calls in the loop must not
    /// disturb it: callee frames start above it.
    func testConstantsInLoopsComeFromThePool() throws {
        let source = """
            (module
              (func $id (param f64) (result f64) (local f64 f64 f64 f64) (local.get 0))
              (func (export "sum") (param i32) (result f64) (local f64)
                (loop $l
                  (local.set 1 (f64.add (local.get 1) (call $id (f64.mul (f64.convert_i32_u (local.get 0)) (f64.const 0.5)))))
                  (local.set 1 (f64.add (local.get 1) (f64.convert_i32_u (i32.rem_u (local.get 0) (i32.const 7)))))
                  (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
                (local.get 1))
              (func (export "no-locals") (result i32)
                (loop (result i32) (br_table 1 1 (i32.const 3) (i32.const 0)) (i32.const 1))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        func ops(_ k: Int) -> [String] { opNames(module, function: k) }
        let sum = ops(1)
        // Local 1 is zeroed by the entry (`push_frame_zero`) and the two constants
        // written right after it; the loop writes none.
        XCTAssertEqual(Array(sum.prefix(3)), ["push_frame_zero", "xconst64", "xconst32"], "\(sum)")
        XCTAssertFalse(sum.dropFirst(3).contains { $0.hasPrefix("xconst") || $0.hasPrefix("fconst") }, "\(sum)")
        // A function whose result slot lies among the operand stack's slots keeps the old way.
        XCTAssertEqual(ops(2), ["push_frame", "xconst32", "br_table32", "xconst32", "ret", "ret"])
        let instance = try Instance(module: module, store: Store(), imports: [:])
        // Σ n/2 + Σ n mod 7, n = 1...100.
        var expected = 0.0
        for n in stride(from: 100, through: 1, by: -1) {
            expected += Double(n) * 0.5
            expected += Double(n % 7)
        }
        XCTAssertEqual(try instance.invoke("sum", [.i32(100)]), [.f64(expected.bitPattern)])
        XCTAssertEqual(try instance.invoke("no-locals", []), [.i32(3)])
    }

    func testAConstantSetBeforeABranchTravelsWithIt() throws {
        let source = """
            (module
              (func (export "pick") (param i32) (result i32) (local i32)
                (block (block (br_if 0 (local.get 0)) (local.set 1 (i32.const 7)) (br 1)) (local.set 1 (i32.const -9)))
                (local.get 1)))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        let listing = Disassembler.disassemble(module.code, options: .init(addresses: false, bytes: false))
        XCTAssertTrue(listing.contains("br_xconst32 x1, 7,"), listing)
        XCTAssertFalse(listing.contains("jump"), listing)
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("pick", [.i32(0)]), [.i32(7)])
        XCTAssertEqual(try instance.invoke("pick", [.i32(1)]), [.i32(UInt32(bitPattern: -9))])
    }

    func testACounterInMemoryIsSteppedInOneOp() throws {
        let source = """
            (module (memory 1)
              (func (export "bump") (param i32) (result i32)
                (i32.store offset=4 (local.get 0) (i32.add (i32.load offset=4 (local.get 0)) (i32.const 3)))
                (i32.load offset=4 (local.get 0)))
              (func (export "keep") (param i32) (result i32) (local i32)
                (i32.store offset=4 (local.get 0) (i32.add (local.tee 1 (i32.load offset=4 (local.get 0))) (i32.const 3)))
                (local.get 1))
              (func (export "other") (param i32 i32)
                (i32.store offset=4 (local.get 1) (i32.add (i32.load offset=4 (local.get 0)) (i32.const 3)))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        func ops(_ k: Int) -> [String] { opNames(module, function: k) }
        XCTAssertEqual(ops(0), ["push_frame", "xadd32_i32_mem", "xload32", "ret"])
        XCTAssertFalse(ops(1).contains("xadd32_i32_mem"), "the loaded value is also kept in a local: no fusion")
        XCTAssertFalse(ops(2).contains("xadd32_i32_mem"), "stored to another address: no fusion")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("bump", [.i32(8)]), [.i32(3)])
        XCTAssertEqual(try instance.invoke("bump", [.i32(8)]), [.i32(6)])
        XCTAssertEqual(try instance.invoke("keep", [.i32(8)]), [.i32(6)], "the value before the add")
        XCTAssertEqual(try instance.invoke("bump", [.i32(8)]), [.i32(12)])
        _ = try instance.invoke("other", [.i32(8), .i32(100)])
        XCTAssertEqual(try instance.invoke("bump", [.i32(100)]), [.i32(15 + 3)])
        XCTAssertThrowsError(try instance.invoke("bump", [.i32(65532)])) { XCTAssertEqual(($0 as? Trap)?.code, .memoryOutOfBounds) }
        XCTAssertEqual(try instance.invoke("bump", [.i32(65524)]), [.i32(3)], "the last four bytes")
    }

    func testAPointerSteppedAfterAByteStoreThroughItIsOneOp() throws {
        let source = """
            (module (memory 1)
              (func (export "strike") (param $p i32) (param $step i32) (param $end i32)
                (loop
                  (i32.store8 offset=1 (local.get $p) (i32.const 0x1ff))
                  (local.set $p (i32.add (local.get $p) (local.get $step)))
                  (br_if 0 (i32.lt_u (local.get $p) (local.get $end)))))
              (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0)))
              (func (export "swapped") (param i32 i32) (result i32)
                (i32.store8 (local.get 0) (i32.const 7))
                (local.tee 0 (i32.add (local.get 1) (local.get 0))))
              (func (export "other") (param i32 i32) (result i32) (local i32)
                (i32.store8 (local.get 0) (i32.const 7))
                (local.set 2 (i32.add (local.get 0) (local.get 1)))
                (local.get 2)))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        func ops(_ k: Int) -> [String] { opNames(module, function: k) }
        XCTAssertEqual(ops(0).filter { $0.hasPrefix("xstore") }, ["xstore8_i32_step"])
        XCTAssertEqual(ops(2).filter { $0.hasPrefix("xstore") || $0.hasPrefix("xadd") }, ["xstore8_i32_step"],
                       "the add's operands the other way round, and tee'd")
        XCTAssertEqual(ops(3).filter { $0.hasPrefix("xstore") }, ["xstore8_i32"], "the sum set into another local: no fusion")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        _ = try instance.invoke("strike", [.i32(0), .i32(3), .i32(10)])
        let bytes = try (0..<12).map { try instance.invoke("byte", [.i32($0)]) }
        XCTAssertEqual(bytes, [0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0].map { [.i32($0)] }, "addresses 1, 4, 7 and 10: p + 1 for p = 0, 3, 6, 9")
        XCTAssertEqual(try instance.invoke("swapped", [.i32(20), .i32(0xFFFF_FFFF)]), [.i32(19)], "the step wraps like i32.add")
        XCTAssertEqual(try instance.invoke("byte", [.i32(20)]), [.i32(7)])
        XCTAssertEqual(try instance.invoke("other", [.i32(30), .i32(5)]), [.i32(35)])
        XCTAssertEqual(try instance.invoke("byte", [.i32(30)]), [.i32(7)])
        XCTAssertThrowsError(try instance.invoke("strike", [.i32(65535), .i32(1), .i32(0)])) {
            XCTAssertEqual(($0 as? Trap)?.code, .memoryOutOfBounds, "the store through 65535 + 1 traps")
        }
        XCTAssertThrowsError(try instance.invoke("swapped", [.i32(65536), .i32(1)])) { XCTAssertEqual(($0 as? Trap)?.code, .memoryOutOfBounds) }
    }

    func testAListReversedInPlaceLoadsAndStoresEachLinkInOneOp() throws {
        // Nodes of 8 bytes at 16, 24, 32, 40: `next` at offset 4, the value at 0.
        let source = """
            (module (memory 1)
              (func (export "link") (param $n i32)
                (local $p i32) (local $i i32)
                (local.set $p (i32.const 16))
                (loop
                  (i32.store (local.get $p) (i32.mul (local.get $i) (i32.const 10)))
                  (i32.store offset=4 (local.get $p)
                    (select (i32.const 0) (i32.add (local.get $p) (i32.const 8))
                      (i32.eq (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
                  (local.set $p (i32.add (local.get $p) (i32.const 8)))
                  (br_if 0 (i32.lt_u (local.get $i) (local.get $n)))))
              (func (export "reverse") (param $list i32) (result i32) (local $prev i32) (local $next i32)
                (block
                  (br_if 0 (i32.eqz (local.get $list)))
                  (loop
                    (local.set $next (i32.load offset=4 (local.get $list)))
                    (i32.store offset=4 (local.get $list) (local.get $prev))
                    (local.set $prev (local.get $list))
                    (local.set $list (local.get $next))
                    (br_if 0 (local.get $list))))
                (local.get $prev))
              (func (export "reverse2") (param $next i32) (result i32) (local $list i32) (local $prev i32)
                (block
                  (br_if 0 (i32.eqz (local.get $next)))
                  (loop
                    (local.set $list (local.get $next))
                    (local.set $next (i32.load offset=4 (local.get $list)))
                    (i32.store offset=4 (local.get $list) (local.get $prev))
                    (local.set $prev (local.get $list))
                    (br_if 0 (local.get $next))))
                (local.get $prev))
              (func (export "values") (param $p i32) (result i64) (local $v i64)
                (block (loop
                  (br_if 1 (i32.eqz (local.get $p)))
                  (local.set $v (i64.add (i64.mul (local.get $v) (i64.const 100)) (i64.load32_u (local.get $p))))
                  (local.set $p (i32.load offset=4 (local.get $p)))
                  (br 0)))
                (local.get $v))
              (func (export "swap") (param $p i32) (param $x i32) (result i32)
                (i32.load (local.get $p))
                (i32.store (local.get $p) (local.get $x)))
              (func (export "self") (param $p i32) (result i32)
                (local.set $p (i32.load (local.get $p)))
                (i32.store (local.get $p) (i32.const 5))
                (local.get $p))
              (func (export "elsewhere") (param $p i32) (result i32)
                (i32.load offset=4 (local.get $p))
                (i32.store (local.get $p) (i32.const 9))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        func ops(_ k: Int) -> [String] { opNames(module, function: k) }
        XCTAssertTrue(ops(1).contains("xload32_xchg"), "\(ops(1))")
        XCTAssertFalse(ops(1).contains("xstore32"))
        XCTAssertTrue(ops(2).contains("xmov_xload32_xchg"), "the move that sets the pointer goes in too: \(ops(2))")
        XCTAssertEqual(ops(4).filter { $0.hasPrefix("xload") || $0.hasPrefix("xstore") }, ["xload32_xchg"])
        XCTAssertFalse(ops(5).contains("xload32_xchg"), "the load wrote its own address register: the store goes elsewhere")
        XCTAssertFalse(ops(6).contains("xload32_xchg"), "another offset")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        _ = try instance.invoke("link", [.i32(4)])
        XCTAssertEqual(try instance.invoke("values", [.i32(16)]), [.i64(10_20_30)])
        XCTAssertEqual(try instance.invoke("reverse", [.i32(16)]), [.i32(40)])
        XCTAssertEqual(try instance.invoke("values", [.i32(40)]), [.i64(30_20_10_00)])
        XCTAssertEqual(try instance.invoke("reverse2", [.i32(40)]), [.i32(16)], "and back")
        XCTAssertEqual(try instance.invoke("values", [.i32(16)]), [.i64(10_20_30)])
        XCTAssertThrowsError(try instance.invoke("reverse2", [.i32(65532)])) { XCTAssertEqual(($0 as? Trap)?.code, .memoryOutOfBounds) }
        XCTAssertEqual(try instance.invoke("swap", [.i32(100), .i32(7)]), [.i32(0)])
        XCTAssertEqual(try instance.invoke("swap", [.i32(100), .i32(8)]), [.i32(7)])
        XCTAssertEqual(try instance.invoke("self", [.i32(100)]), [.i32(8)], "loads 8 from 100, stores 5 at 8")
        XCTAssertEqual(try instance.invoke("swap", [.i32(8), .i32(0)]), [.i32(5)])
        XCTAssertThrowsError(try instance.invoke("swap", [.i32(65533), .i32(1)])) { XCTAssertEqual(($0 as? Trap)?.code, .memoryOutOfBounds) }
        XCTAssertEqual(try instance.invoke("swap", [.i32(65532), .i32(1)]), [.i32(0)], "the last four bytes")
        XCTAssertEqual(try instance.invoke("swap", [.i32(65532), .i32(2)]), [.i32(1)])
    }

    func testALoadThroughAPointerJustLoadedIsOneOp() throws {
        // At 16: a pointer to 32; at 32: bytes 1, 0x80, 0xFF, 0x7F.
        let source = """
            (module (memory 1)
              (data (i32.const 16) "\\20\\00\\00\\00")
              (data (i32.const 32) "\\01\\80\\FF\\7F")
              (data (i32.const 40) "\\FF\\FF\\00\\00")
              (func (export "u8") (param $p i32) (result i32) (i32.load8_u offset=2 (i32.load offset=4 (local.get $p))))
              (func (export "u16") (param $p i32) (result i32) (i32.load16_u offset=1 (i32.load offset=4 (local.get $p))))
              (func (export "kept") (param $p i32) (result i32) (local $q i32)
                (i32.add (i32.load8_u (local.tee $q (i32.load offset=4 (local.get $p)))) (local.get $q)))
              (func (export "signed") (param $p i32) (result i32) (i32.load8_s (i32.load offset=4 (local.get $p)))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        func ops(_ k: Int) -> [String] { opNames(module, function: k) }
        XCTAssertEqual(ops(0), ["push_frame", "xload8_u32_via", "ret"])
        XCTAssertEqual(ops(1), ["push_frame", "xload16_u32_via", "ret"])
        XCTAssertFalse(ops(2).contains("xload8_u32_via"), "the pointer is also kept in a local: no fusion")
        XCTAssertFalse(ops(3).contains { $0.hasSuffix("_via") }, "no signed form")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("u8", [.i32(12)]), [.i32(0xFF)], "the byte at 32 + 2")
        XCTAssertEqual(try instance.invoke("u16", [.i32(12)]), [.i32(0xFF80)], "bytes 33 and 34, zero-extended")
        XCTAssertEqual(try instance.invoke("kept", [.i32(12)]), [.i32(1 + 32)])
        XCTAssertEqual(try instance.invoke("signed", [.i32(12)]), [.i32(1)])
        XCTAssertThrowsError(try instance.invoke("u16", [.i32(36)])) {
            XCTAssertEqual(($0 as? Trap)?.code, .memoryOutOfBounds, "through the pointer 0xFFFF at offset 1: past the end")
        }
        XCTAssertThrowsError(try instance.invoke("u8", [.i32(65532)])) {
            XCTAssertEqual(($0 as? Trap)?.code, .memoryOutOfBounds, "the pointer itself past the end")
        }
    }

    func testASelectOnABitAndSumsOfThreeTermsAreOneOp() throws {
        let source = """
            (module
              (func (export "crc") (param $crc i32) (param $data i32) (result i32)
                (select
                  (i32.xor (i32.shr_u (local.get $crc) (i32.const 1)) (i32.const 0xA001))
                  (i32.shr_u (local.get $crc) (i32.const 1))
                  (i32.and (i32.xor (local.get $crc) (local.get $data)) (i32.const 1))))
              (func (export "pick64") (param $x i32) (param $a i64) (param $b i64) (result i64)
                (select (local.get $a) (local.get $b) (i32.and (local.get $x) (i32.const 0x80000000))))
              (func (export "kept") (param $x i32) (param $a i32) (param $b i32) (result i32) (local $t i32)
                (select (local.get $a) (local.get $b) (local.tee $t (i32.and (local.get $x) (i32.const 1))))
                (i32.add (local.get $t)))
              (func (export "dot") (param $a i32) (param $b i32) (param $c i32) (result i32)
                (i32.add (local.get $c) (i32.mul (local.get $a) (local.get $b))))
              (func (export "sum3") (param $a i32) (param $b i32) (param $c i32) (result i32)
                (i32.add (i32.add (local.get $a) (local.get $b)) (local.get $c)))
              (func (export "dot2") (param $a i32) (param $b i32) (param $c i32) (param $d i32) (param $s i32) (result i32)
                (i32.add (i32.mul (local.get $c) (local.get $d)) (i32.add (i32.mul (local.get $a) (local.get $b)) (local.get $s)))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        func ops(_ k: Int) -> [String] { opNames(module, function: k) }
        XCTAssertTrue(ops(0).contains("xselect_and_i32"), "\(ops(0))")
        XCTAssertFalse(ops(0).contains("xand32_i32"))
        XCTAssertTrue(ops(1).contains("xselect_and_i32"))
        XCTAssertFalse(ops(2).contains("xselect_and_i32"), "the bit is also kept in a local: no fusion")
        XCTAssertEqual(ops(3), ["push_frame", "xmul32_add", "ret"])
        XCTAssertEqual(ops(4), ["push_frame", "xadd32_add", "ret"])
        XCTAssertEqual(ops(5), ["push_frame", "xmul32", "xmul32_add_add", "ret"], "s + a*b, then + c*d")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("crc", [.i32(0x1235), .i32(0)]), [.i32(0x091A ^ 0xA001)])
        XCTAssertEqual(try instance.invoke("crc", [.i32(0x1235), .i32(1)]), [.i32(0x091A)])
        XCTAssertEqual(try instance.invoke("crc", [.i32(0x1234), .i32(2)]), [.i32(0x091A)], "bit 1 of the data is not tested")
        XCTAssertEqual(try instance.invoke("pick64", [.i32(0x8000_0000), .i64(UInt64.max), .i64(2)]), [.i64(UInt64.max)], "all 64 bits")
        XCTAssertEqual(try instance.invoke("pick64", [.i32(0x7FFF_FFFF), .i64(UInt64.max), .i64(0x1_0000_0000)]), [.i64(0x1_0000_0000)])
        XCTAssertEqual(try instance.invoke("kept", [.i32(3), .i32(10), .i32(20)]), [.i32(11)])
        XCTAssertEqual(try instance.invoke("kept", [.i32(2), .i32(10), .i32(20)]), [.i32(20)])
        XCTAssertEqual(try instance.invoke("dot", [.i32(0x10001), .i32(0x10001), .i32(5)]), [.i32(0x20001 + 5)], "the product wraps")
        XCTAssertEqual(try instance.invoke("dot", [.i32(UInt32(bitPattern: -3)), .i32(7), .i32(1)]), [.i32(UInt32(bitPattern: -20))])
        XCTAssertEqual(try instance.invoke("sum3", [.i32(0xFFFF_FFFF), .i32(2), .i32(0xFFFF_FFFF)]), [.i32(0)], "wraps like two adds")
        XCTAssertEqual(try instance.invoke("sum3", [.i32(1), .i32(20), .i32(300)]), [.i32(321)])
        XCTAssertEqual(try instance.invoke("dot2", [.i32(3), .i32(5), .i32(7), .i32(11), .i32(100)]), [.i32(15 + 77 + 100)])
        XCTAssertEqual(try instance.invoke("dot2", [.i32(0x10001), .i32(0x10001), .i32(UInt32(bitPattern: -2)), .i32(3), .i32(6)]),
                       [.i32(0x20001)], "wraps like two multiplies and two adds")
    }

    func testASelectOfAValueAndItsXorOnABitIsOneOp() throws {
        let source = """
            (module
              (func (export "step") (param $crc i32) (param $data i32) (result i32) (local $t i32)
                (select (i32.xor (local.tee $t (i32.shr_u (local.get $crc) (i32.const 1))) (i32.const 0xA001))
                        (local.get $t)
                        (i32.and (i32.xor (local.get $crc) (local.get $data)) (i32.const 1))))
              (func (export "flip") (param $v i32) (param $bits i32) (result i32)
                (select (i32.xor (local.get $v) (i32.const -1)) (local.get $v) (i32.and (local.get $bits) (i32.const 4))))
              (func (export "tested") (param $v i32) (result i32) (local $x i32)
                (select (local.tee $x (i32.xor (local.get $v) (i32.const 6))) (local.get $v) (i32.and (local.get $x) (i32.const 1)))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        func ops(_ k: Int) -> [String] { opNames(module, function: k) }
        XCTAssertEqual(ops(0), ["push_frame", "xshr32_u_u8", "xxor32", "xselect_and_xor_i32", "ret"], "the condition's op stays, before")
        XCTAssertEqual(ops(1), ["push_frame", "xselect_and_xor_i32", "ret"])
        XCTAssertTrue(ops(2).contains("xxor32_i32"), "the condition reads the xor's result: no fusion; \(ops(2))")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("step", [.i32(0x1235), .i32(0)]), [.i32(0x091A ^ 0xA001)])
        XCTAssertEqual(try instance.invoke("step", [.i32(0x1235), .i32(1)]), [.i32(0x091A)])
        XCTAssertEqual(try instance.invoke("flip", [.i32(0x0F), .i32(4)]), [.i32(0xFFFF_FFF0)], "an i32: the upper half stays zero")
        XCTAssertEqual(try instance.invoke("flip", [.i32(0x0F), .i32(3)]), [.i32(0x0F)])
        XCTAssertEqual(try instance.invoke("tested", [.i32(3)]), [.i32(5)], "3 ^ 6 = 5, odd")
        XCTAssertEqual(try instance.invoke("tested", [.i32(2)]), [.i32(2)], "2 ^ 6 = 4, even")
    }

    func testAZeroSetByTheBodysFirstOpIsWrittenByTheEntry() throws {
        let source = """
            (module
              (func (export "sum") (param $n i32) (result i32) (local $s i32) (local $i i32)
                (local.set $s (i32.const 0))
                (block (loop
                  (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
                  (local.set $s (i32.add (local.get $s) (local.get $i)))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br 0)))
                (local.get $s))
              (func (export "again") (param $n i32) (result i32) (local $k i32) (local $c i32)
                (loop
                  (local.set $k (i32.const 0))
                  (local.set $k (i32.add (local.get $k) (i32.const 5)))
                  (local.set $c (i32.add (local.get $c) (local.get $k)))
                  (br_if 0 (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
                (local.get $c))
              (func (export "param") (param $p i64) (result i64)
                (local.set $p (i64.const 0))
                (local.get $p)))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        func ops(_ k: Int) -> [String] { opNames(module, function: k) }
        XCTAssertEqual(ops(0).first, "push_frame_zero")
        XCTAssertFalse(ops(0).contains("xconst32"), "s with i, which is read first: one run of zeros; \(ops(0))")
        XCTAssertTrue(ops(1).contains("xconst32"), "a loop starts at the body's first op: the zero stays in it")
        XCTAssertEqual(ops(2).prefix(1), ["push_frame_zero"])
        XCTAssertFalse(ops(2).contains("xconst64"))
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("sum", [.i32(5)]), [.i32(10)])
        XCTAssertEqual(try instance.invoke("sum", [.i32(0)]), [.i32(0)])
        XCTAssertEqual(try instance.invoke("again", [.i32(3)]), [.i32(15)], "k is zero again on every pass")
        XCTAssertEqual(try instance.invoke("param", [.i64(0xFFFF_FFFF_FFFF)]), [.i64(0)])
    }

    func testAMoveBeforeAJumpAndABitTestAgainstZeroFuseWithTheirBranches() throws {
        let source = """
            (module
              (func (export "pick") (param $a i32) (param $b i64) (result i64)
                (block $done (result i64)
                  (if (local.get $a) (then (br $done (local.get $b))))
                  (i64.const 7)))
              (func (export "odd") (param $x i32) (result i32)
                (if (result i32) (i32.and (local.get $x) (i32.const 1)) (then (i32.const 10)) (else (i32.const 20))))
              (func (export "any") (param $x i32) (result i32)
                (block $yes (br_if $yes (i32.and (local.get $x) (i32.const 0x30))) (return (i32.const 0)))
                (i32.const 1)))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        func ops(_ k: Int) -> [String] { opNames(module, function: k) }
        XCTAssertTrue(ops(0).contains("br_xmov"), "\(ops(0))")
        XCTAssertFalse(ops(0).contains("jump"))
        XCTAssertTrue(ops(1).contains("br_xand32_i32_eq_i32"), "\(ops(1))")
        XCTAssertTrue(ops(2).contains("br_xand32_i32_ne_i32"), "\(ops(2))")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("pick", [.i32(1), .i64(0x1_0000_0002)]), [.i64(0x1_0000_0002)], "all 64 bits move")
        XCTAssertEqual(try instance.invoke("pick", [.i32(0), .i64(0x1_0000_0002)]), [.i64(7)])
        XCTAssertEqual(try instance.invoke("odd", [.i32(3)]), [.i32(10)])
        XCTAssertEqual(try instance.invoke("odd", [.i32(0xFFFF_FFFE)]), [.i32(20)])
        XCTAssertEqual(try instance.invoke("any", [.i32(0x10)]), [.i32(1)])
        XCTAssertEqual(try instance.invoke("any", [.i32(0x4F)]), [.i32(0)])
    }

    func testAnI32OpOnAWrappedI64ReadsTheI64() throws {
        let source = """
            (module (memory 1)
              (data (i32.const 16) "\\01\\02\\03\\04\\05\\06\\07\\08\\09")
              (func (export "at") (param $base i32) (param $i i64) (result i32)
                (i32.load8_u (i32.add (local.get $base) (i32.wrap_i64 (local.get $i)))))
              (func (export "mul") (param $i i64) (result i64)
                (i64.extend_i32_u (i32.mul (i32.wrap_i64 (local.get $i)) (i32.const 3))))
              (func (export "kept") (param $i i64) (result i64) (local $w i32)
                (drop (i32.add (local.tee $w (i32.wrap_i64 (local.get $i))) (i32.const 1)))
                (i64.extend_i32_u (local.get $w)))
              (func (export "extended") (param $i i64) (result i64)
                (i64.extend_i32_u (i32.wrap_i64 (local.get $i)))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        func ops(_ k: Int) -> [String] { opNames(module, function: k) }
        XCTAssertEqual(ops(0), ["push_frame", "xload8_u32_add", "ret"])
        XCTAssertFalse(ops(1).contains("xzext32_64"), "\(ops(1))")
        XCTAssertTrue(ops(2).contains("xzext32_64"), "the wrap is kept in a local: it stays")
        XCTAssertTrue(ops(3).contains("xzext32_64"), "no i32 op reads it: it stays")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("at", [.i32(10), .i64(0x7_0000_0008)]), [.i32(3)], "10 + low 32 bits 8: byte 18")
        XCTAssertEqual(try instance.invoke("at", [.i32(0xFFFF_FFFF), .i64(0xFFFF_FFFF_0000_0012)]), [.i32(2)], "0xFFFFFFFF + 0x12 wraps to 17")
        XCTAssertEqual(try instance.invoke("mul", [.i64(0xFFFF_FFFF_8000_0001)]), [.i64(0x8000_0003)], "the product of the low 32 bits, zero-extended")
        XCTAssertEqual(try instance.invoke("kept", [.i64(0x5_0000_0007)]), [.i64(7)])
        XCTAssertEqual(try instance.invoke("extended", [.i64(0x5_0000_0007)]), [.i64(7)])
    }

    func testALoopStepFusesWithItsTestWhicheverSideTheStepIsOn() throws {
        let source = """
            (module
              (func (export "ne") (param $n i32) (result i32) (local $i i32) (local $s i32)
                (loop
                  (local.set $s (i32.add (local.get $s) (local.get $i)))
                  (br_if 0 (i32.ne (local.get $n) (local.tee $i (i32.add (local.get $i) (i32.const 1))))))
                (local.get $s))
              (func (export "gt") (param $n i32) (result i32) (local $i i32) (local $s i32)
                (loop
                  (local.set $s (i32.add (local.get $s) (local.get $i)))
                  (br_if 0 (i32.gt_s (local.get $n) (local.tee $i (i32.add (local.get $i) (i32.const 1))))))
                (local.get $s))
              (func (export "ge") (param $n i32) (result i32) (local $i i32) (local $s i32)
                (loop
                  (local.set $s (i32.add (local.get $s) (local.get $i)))
                  (br_if 0 (i32.ge_u (local.get $n) (local.tee $i (i32.add (local.get $i) (i32.const 1))))))
                (local.get $s)))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        XCTAssertTrue(opNames(module, function: 0).contains("br_xadd32_i32_ne"), "n != i taken as i != n")
        XCTAssertTrue(opNames(module, function: 1).contains("br_xadd32_i32_slt"), "n > i taken as i < n")
        XCTAssertFalse(opNames(module, function: 2).contains { $0.hasPrefix("br_xadd") }, "i <= n: no fused op has it")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("ne", [.i32(5)]), [.i32(10)])
        XCTAssertEqual(try instance.invoke("gt", [.i32(5)]), [.i32(10)])
        XCTAssertEqual(try instance.invoke("gt", [.i32(0xFFFF_FFFD)]), [.i32(0)], "one pass, then 1 > -3 leaves")
        XCTAssertEqual(try instance.invoke("ge", [.i32(5)]), [.i32(15)])
    }

    func testALoadOfAnAddFusesAndWrapsLikeTheAdd() throws {
        let source = """
            (module (memory 1)
              (data (i32.const 16) "\\01\\02\\03\\04\\05\\06\\07\\08")
              (data (i32.const 32) "\\01\\80")
              (func (export "reg") (param i32 i32) (result i32) (i32.load offset=2 (i32.add (local.get 0) (local.get 1))))
              (func (export "imm") (param i32) (result i32) (i32.load8_u (i32.add (local.get 0) (i32.const 16))))
              (func (export "f64") (param i32) (result f64) (f64.load (i32.add (local.get 0) (i32.const -8))))
              (func (export "tee") (param i32) (result i32) (local i32)
                (i32.add (i32.load (local.tee 1 (i32.add (local.get 0) (i32.const 16)))) (local.get 1)))
              (func (export "s16") (param i32 i32) (result i32) (i32.load16_s offset=1 (i32.add (local.get 0) (local.get 1))))
              (func (export "u16") (param i32) (result i32) (i32.load16_u (i32.add (local.get 0) (i32.const 16)))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        func ops(_ k: Int) -> [String] { opNames(module, function: k) }
        XCTAssertEqual(ops(0), ["push_frame", "xload32_add", "ret"])
        XCTAssertEqual(ops(1), ["push_frame", "xload8_u32_add_i32", "ret"])
        XCTAssertEqual(ops(2), ["push_frame", "fload64_add_i32", "ret"])
        XCTAssertFalse(ops(3).contains("xload32_add_i32"), "the sum is also kept in a local: no fusion")
        XCTAssertEqual(ops(4), ["push_frame", "xload16_s32_add", "ret"])
        XCTAssertEqual(ops(5), ["push_frame", "xload16_u32_add_i32", "ret"])
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("reg", [.i32(10), .i32(4)]), [.i32(0x0403_0201)])
        XCTAssertEqual(try instance.invoke("imm", [.i32(3)]), [.i32(4)])
        // The add wraps before the bounds check, as i32.add then a load at offset 0 would.
        XCTAssertEqual(try instance.invoke("imm", [.i32(0xFFFF_FFF5)]), [.i32(0)], "0xFFFFFFF5 + 16 wraps to 5")
        XCTAssertEqual(try instance.invoke("reg", [.i32(0xFFFF_FFFF), .i32(17)]), [.i32(0x0605_0403)], "wraps to 16, then offset 2")
        XCTAssertEqual(try instance.invoke("f64", [.i32(24)]), [.f64(0x0807_0605_0403_0201)])
        XCTAssertThrowsError(try instance.invoke("f64", [.i32(4)])) { XCTAssertEqual(($0 as? Trap)?.code, .memoryOutOfBounds) }
        XCTAssertEqual(try instance.invoke("tee", [.i32(0)]), [.i32(0x0403_0201 + 16)])
        XCTAssertEqual(try instance.invoke("s16", [.i32(0xFFFF_FFFF), .i32(32)]), [.i32(0xFFFF_8001)], "wraps to 31, offset 1; sign-extended")
        XCTAssertEqual(try instance.invoke("s16", [.i32(16), .i32(1)]), [.i32(0x0403)])
        XCTAssertEqual(try instance.invoke("u16", [.i32(2)]), [.i32(0x0403)])
        XCTAssertEqual(try instance.invoke("u16", [.i32(16)]), [.i32(0x8001)], "zero-extended")
        XCTAssertThrowsError(try instance.invoke("u16", [.i32(65535 - 16)])) { XCTAssertEqual(($0 as? Trap)?.code, .memoryOutOfBounds) }
    }

    func testXorshiftStepsFuse() throws {
        let source = """
            (module
              (func (export "xs64") (param i64) (result i64) (local i64)
                (local.set 1 (local.get 0))
                (local.set 1 (i64.xor (local.get 1) (i64.shl (local.get 1) (i64.const 13))))
                (local.set 1 (i64.xor (i64.shr_u (local.get 1) (i64.const 7)) (local.get 1)))
                (i64.xor (local.get 1) (i64.shl (local.get 1) (i64.const 81))))
              (func (export "xs32") (param i32) (result i32)
                (i32.xor (local.get 0) (i32.shr_u (local.get 0) (i32.const 17)))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        let listing = try XCTUnwrap(module.disassembly(options: .init(addresses: false, bytes: false)))
        XCTAssertEqual(listing.components(separatedBy: "xxor64_shl").count - 1, 2, listing)
        XCTAssertEqual(listing.components(separatedBy: "xxor64_shr_u").count - 1, 1, listing)
        XCTAssertEqual(listing.components(separatedBy: "xxor32_shr_u").count - 1, 1, listing)
        XCTAssertFalse(listing.contains("xshl64_u8") || listing.contains("xshr64_u_u8"), listing)
        let instance = try Instance(module: module, store: Store(), imports: [:])
        func xs64(_ v: UInt64) -> UInt64 {
            var x = v
            x ^= x << 13; x ^= x >> 7; x ^= x << (81 % 64)
            return x
        }
        for v: UInt64 in [1, 0x9E37_79B9_7F4A_7C15, .max] {
            XCTAssertEqual(try instance.invoke("xs64", [.i64(v)]), [.i64(xs64(v))])
        }
        XCTAssertEqual(try instance.invoke("xs32", [.i32(0xDEAD_BEEF)]), [.i32(0xDEAD_BEEF ^ (0xDEAD_BEEF >> 17))])
    }

    func testFusionsChainSeeThroughEqzAndStepOverAnIndependentOp() throws {
        // The encoder's rules (generated from the op table's `fuses:`) apply again to
        // what they made: an `eqz` fused into the branch on it, then the comparison
        // into that branch. A shift and the add of a constant stay two ops (no
        // super-instruction: `xadd32_shl_i32` was measured and not kept).
        let source = """
            (module
              (func (export "notLess") (param $a i32) (param $b i32) (result i32)
                (block (br_if 0 (i32.eqz (i32.lt_s (local.get $a) (local.get $b)))) (return (i32.const 0)))
                (i32.const 1))
              (func (export "zero64") (param $x i64) (result i32)
                (if (result i32) (i64.eqz (local.get $x)) (then (i32.const 7)) (else (i32.const 9))))
              (func (export "element") (param $i i32) (result i32)
                (i32.add (i32.shl (local.get $i) (i32.const 2)) (i32.const 1024)))
              (func (export "cube") (param $x f64) (result f64)
                (f64.mul (f64.mul (local.get $x) (local.get $x)) (local.get $x)))
              (func (export "between") (param $v i32) (param $p i32) (param $q i32) (result i32)
                (select (i32.xor (local.get $v) (i32.const 5)) (local.get $v) (i32.and (i32.xor (local.get $p) (local.get $q)) (i32.const 1))))
              (func (export "dependent") (param $v i32) (param $p i32) (result i32) (local $u i32)
                (select (local.tee $u (i32.xor (local.get $v) (i32.const 5))) (local.get $v)
                        (i32.and (i32.xor (local.get $u) (local.get $p)) (i32.const 1)))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        func ops(_ k: Int) -> [String] { opNames(module, function: k) }
        XCTAssertEqual(ops(0).filter { $0.hasPrefix("br_if") || $0.hasPrefix("xslt") || $0.hasPrefix("xeqz") }, ["br_if_xsle32"],
                       "not (a < b) is b <= a: \(ops(0))")
        XCTAssertEqual(ops(1).first { $0.hasPrefix("br_if") || $0.hasPrefix("xeqz") }, "br_if_xnez64", "\(ops(1))")
        XCTAssertEqual(ops(2), ["push_frame", "xshl32_u8", "xadd32_i32", "ret"])
        XCTAssertEqual(ops(3), ["push_frame", "fmul64_mul", "ret"])
        XCTAssertEqual(ops(4), ["push_frame", "xxor32", "xselect_and_xor_i32", "ret"], "the xor of the constant moves past the condition's xor")
        XCTAssertTrue(ops(5).contains("xxor32_i32") && ops(5).contains("xselect_and_i32"),
                      "the condition's op reads the xor's result: the xor stays where it is: \(ops(5))")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("notLess", [.i32(3), .i32(3)]), [.i32(1)])
        XCTAssertEqual(try instance.invoke("notLess", [.i32(UInt32(bitPattern: -4)), .i32(3)]), [.i32(0)], "signed")
        XCTAssertEqual(try instance.invoke("zero64", [.i64(1 << 40)]), [.i32(9)], "all 64 bits tested")
        XCTAssertEqual(try instance.invoke("zero64", [.i64(0)]), [.i32(7)])
        XCTAssertEqual(try instance.invoke("element", [.i32(5)]), [.i32(1044)])
        XCTAssertEqual(try instance.invoke("element", [.i32(0x4000_0000)]), [.i32(1024)], "the shift wraps")
        XCTAssertEqual(try instance.invoke("cube", [.f64((3.0 as Double).bitPattern)]), [.f64((27.0 as Double).bitPattern)])
        XCTAssertEqual(try instance.invoke("between", [.i32(8), .i32(1), .i32(0)]), [.i32(13)])
        XCTAssertEqual(try instance.invoke("between", [.i32(8), .i32(1), .i32(1)]), [.i32(8)])
        XCTAssertEqual(try instance.invoke("dependent", [.i32(8), .i32(0)]), [.i32(13)], "13 ^ 0 is odd")
        XCTAssertEqual(try instance.invoke("dependent", [.i32(8), .i32(1)]), [.i32(8)])
    }

    func testSelectOnEqzSwapsItsOperands() throws {
        let source = """
            (module
              (func (export "s64") (param i64 i32 i32) (result i32) (select (local.get 1) (local.get 2) (i64.eqz (local.get 0))))
              (func (export "s32") (param i32 i64 i64) (result i64) (select (local.get 1) (local.get 2) (i32.eqz (local.get 0)))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        let listing = try XCTUnwrap(module.disassembly(options: .init(addresses: false, bytes: false)))
        XCTAssertFalse(listing.contains("xeqz"), listing)
        XCTAssertTrue(listing.contains("xselect64 x0, x0, x2, x1"), listing)
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("s64", [.i64(0), .i32(7), .i32(9)]), [.i32(7)])
        XCTAssertEqual(try instance.invoke("s64", [.i64(1 << 40), .i32(7), .i32(9)]), [.i32(9)], "the upper half counts")
        XCTAssertEqual(try instance.invoke("s32", [.i32(0), .i64(7), .i64(9)]), [.i64(7)])
        XCTAssertEqual(try instance.invoke("s32", [.i32(5), .i64(7), .i64(9)]), [.i64(9)])
    }

    func testStoresOfConstantsTakeAnImmediate() throws {
        let source = """
            (module (memory 1)
              (func (export "f") (param i32) (result i64)
                (i64.store (local.get 0) (i64.const -2))
                (i32.store8 offset=1 (local.get 0) (i32.const 0x1ff))
                (i32.store16 offset=2 (local.get 0) (i32.const 0x7777))
                (i64.store32 offset=4 (local.get 0) (i64.const 0x1_2345_6789))
                (i64.load (local.get 0)))
              (func (export "big") (param i32) (result i64)
                (i64.store (local.get 0) (i64.const 0x1_0000_0000))
                (i64.load (local.get 0))))
            """
        let module = try CompiledModule(bytes: try wat2wasm(source))
        let listing = try XCTUnwrap(module.disassembly(options: .init(addresses: false, bytes: false)))
        for op in ["xstore64_i32", "xstore8_i32", "xstore16_i32", "xstore32_i32"] { XCTAssertTrue(listing.contains(op), "\(op): \(listing)") }
        XCTAssertTrue(listing.contains("xstore64 "), "a constant that does not sign-extend from 32 bits is materialized: \(listing)")
        let instance = try Instance(module: module, store: Store(), imports: [:])
        XCTAssertEqual(try instance.invoke("f", [.i32(8)]), [.i64(0x2345_6789_7777_FFFE)])
        XCTAssertEqual(try instance.invoke("big", [.i32(8)]), [.i64(0x1_0000_0000)])
        XCTAssertThrowsError(try instance.invoke("f", [.i32(65535)])) { XCTAssertEqual(($0 as? Trap)?.code, .memoryOutOfBounds) }
    }
}
