import SheaveBytecode
import SheaveInterpreter
import XCTest

/// Each op's semantics at its edges, on every dispatch loop. A case runs
/// `op x0, x0, x1` (or the op's own form) on two arguments and reads x0.
final class OpSemanticsTests: XCTestCase {
    typealias Emit = (inout Encoder) -> Void

    /// Runs `push_frame 4; <op>; ret` with `args`, returning x0 or the trap.
    func eval(_ emit: Emit, _ args: UInt64..., file: StaticString = #filePath, line: UInt = #line) -> Outcome {
        let code = assemble { e in
            e.pushFrame(4)
            emit(&e)
            e.ret()
        }
        return callAll(code, args, file: file, line: line)
    }

    let x0 = XReg(0), x1 = XReg(1), f0 = FReg(0), f1 = FReg(1)

    func testI32Arithmetic() {
        XCTAssertEqual(eval({ $0.xadd32(self.x0, self.x0, self.x1) }, 0xFFFF_FFFF, 1), .values([0]))
        XCTAssertEqual(eval({ $0.xsub32(self.x0, self.x0, self.x1) }, 0, 1), .values([0xFFFF_FFFF]))
        XCTAssertEqual(eval({ $0.xmul32(self.x0, self.x0, self.x1) }, 0x1_0001, 0x1_0001), .values([0x2_0001]))
        XCTAssertEqual(eval({ $0.xdiv32S(self.x0, self.x0, self.x1) }, UInt64(i32: -7), 2), .values([UInt64(i32: -3)]))
        XCTAssertEqual(eval({ $0.xdiv32U(self.x0, self.x0, self.x1) }, 0xFFFF_FFFE, 2), .values([0x7FFF_FFFF]))
        XCTAssertEqual(eval({ $0.xrem32S(self.x0, self.x0, self.x1) }, UInt64(i32: -7), 2), .values([UInt64(i32: -1)]))
        XCTAssertEqual(eval({ $0.xrem32S(self.x0, self.x0, self.x1) }, UInt64(i32: .min), UInt64(i32: -1)), .values([0]))
        XCTAssertEqual(eval({ $0.xrem32U(self.x0, self.x0, self.x1) }, 0xFFFF_FFFF, 10), .values([5]))
        XCTAssertEqual(eval({ $0.xdiv32S(self.x0, self.x0, self.x1) }, UInt64(i32: .min), UInt64(i32: -1)), .trap(.integerOverflow))
        XCTAssertEqual(eval({ $0.xdiv32U(self.x0, self.x0, self.x1) }, 1, 0), .trap(.integerDivisionByZero))
        XCTAssertEqual(eval({ $0.xrem32U(self.x0, self.x0, self.x1) }, 1, 0), .trap(.integerDivisionByZero))
        XCTAssertEqual(eval({ $0.xshl32(self.x0, self.x0, self.x1) }, 1, 33), .values([2]))
        XCTAssertEqual(eval({ $0.xshr32S(self.x0, self.x0, self.x1) }, 0x8000_0000, 31), .values([0xFFFF_FFFF]))
        XCTAssertEqual(eval({ $0.xshr32U(self.x0, self.x0, self.x1) }, 0x8000_0000, 31), .values([1]))
        XCTAssertEqual(eval({ $0.xrotl32(self.x0, self.x0, self.x1) }, 0x8000_0001, 1), .values([3]))
        XCTAssertEqual(eval({ $0.xrotr32(self.x0, self.x0, self.x1) }, 3, 1), .values([0x8000_0001]))
        XCTAssertEqual(eval({ $0.xrotl32(self.x0, self.x0, self.x1) }, 0x1234_5678, 32), .values([0x1234_5678]))
        XCTAssertEqual(eval({ $0.xclz32(self.x0, self.x0) }, 1), .values([31]))
        XCTAssertEqual(eval({ $0.xclz32(self.x0, self.x0) }, 0), .values([32]))
        XCTAssertEqual(eval({ $0.xctz32(self.x0, self.x0) }, 0), .values([32]))
        XCTAssertEqual(eval({ $0.xpopcnt32(self.x0, self.x0) }, 0xF0F0), .values([8]))
        XCTAssertEqual(eval({ $0.xeqz32(self.x0, self.x0) }, 0x1_0000_0000), .values([1]), "eqz32 reads the low 32 bits")
        XCTAssertEqual(eval({ $0.xslt32(self.x0, self.x0, self.x1) }, UInt64(i32: -1), 1), .values([1]))
        XCTAssertEqual(eval({ $0.xult32(self.x0, self.x0, self.x1) }, UInt64(i32: -1), 1), .values([0]))
        XCTAssertEqual(eval({ $0.xsle32(self.x0, self.x0, self.x1) }, 5, 5), .values([1]))
    }

    func testI64Arithmetic() {
        XCTAssertEqual(eval({ $0.xadd64(self.x0, self.x0, self.x1) }, .max, 2), .values([1]))
        XCTAssertEqual(eval({ $0.xmul64(self.x0, self.x0, self.x1) }, 0x1_0000_0001, 0x1_0000_0001), .values([0x2_0000_0001]))
        XCTAssertEqual(eval({ $0.xdiv64S(self.x0, self.x0, self.x1) }, UInt64(i64: .min), UInt64(i64: -1)), .trap(.integerOverflow))
        XCTAssertEqual(eval({ $0.xrem64S(self.x0, self.x0, self.x1) }, UInt64(i64: .min), UInt64(i64: -1)), .values([0]))
        XCTAssertEqual(eval({ $0.xdiv64U(self.x0, self.x0, self.x1) }, .max, 0), .trap(.integerDivisionByZero))
        XCTAssertEqual(eval({ $0.xshr64S(self.x0, self.x0, self.x1) }, 0x8000_0000_0000_0000, 65), .values([0xC000_0000_0000_0000]))
        XCTAssertEqual(eval({ $0.xrotr64(self.x0, self.x0, self.x1) }, 1, 1), .values([0x8000_0000_0000_0000]))
        XCTAssertEqual(eval({ $0.xclz64(self.x0, self.x0) }, 0), .values([64]))
        XCTAssertEqual(eval({ $0.xslt64(self.x0, self.x0, self.x1) }, UInt64(i64: -1), 0), .values([1]))
        XCTAssertEqual(eval({ $0.xule64(self.x0, self.x0, self.x1) }, UInt64(i64: -1), 0), .values([0]))
    }

    func testImmediateFormsAndWidthChanges() {
        XCTAssertEqual(eval({ $0.xadd32I32(self.x0, self.x0, -1) }, 0), .values([0xFFFF_FFFF]), "i32 results are zero-extended")
        XCTAssertEqual(eval({ $0.xor32I32(self.x0, self.x0, -1) }, 0), .values([0xFFFF_FFFF]))
        XCTAssertEqual(eval({ $0.xor64I32(self.x0, self.x0, -1) }, 0), .values([.max]), "64-bit forms sign-extend the immediate")
        XCTAssertEqual(eval({ $0.xand64I32(self.x0, self.x0, -16) }, 0xFFFF_FFFF_FFFF_FFFF), .values([0xFFFF_FFFF_FFFF_FFF0]))
        XCTAssertEqual(eval({ $0.xshr32SU8(self.x0, self.x0, 4) }, 0x8000_0000), .values([0xF800_0000]))
        XCTAssertEqual(eval({ $0.xshl64U8(self.x0, self.x0, 68) }, 1), .values([16]))
        XCTAssertEqual(eval({ $0.xult32I32(self.x0, self.x0, -1) }, 5), .values([1]))
        XCTAssertEqual(eval({ $0.xsgt32I32(self.x0, self.x0, -1) }, 0), .values([1]))
        XCTAssertEqual(eval({ $0.xugt64I32(self.x0, self.x0, -1) }, .max), .values([0]))
        XCTAssertEqual(eval({ $0.xsext832(self.x0, self.x0) }, 0x80), .values([0xFFFF_FF80]))
        XCTAssertEqual(eval({ $0.xsext1664(self.x0, self.x0) }, 0x8000), .values([0xFFFF_FFFF_FFFF_8000]))
        XCTAssertEqual(eval({ $0.xsext3264(self.x0, self.x0) }, 0x8000_0000), .values([0xFFFF_FFFF_8000_0000]))
        XCTAssertEqual(eval({ $0.xzext3264(self.x0, self.x0) }, 0xFFFF_FFFF_8000_0000), .values([0x8000_0000]))
        XCTAssertEqual(eval({ $0.xconst64(self.x0, -2) }), .values([UInt64(i64: -2)]))
        XCTAssertEqual(eval({ $0.xselect(self.x0, self.x1, self.x0, self.x1) }, 7, 0), .values([0]))
        XCTAssertEqual(eval({ $0.xselect(self.x0, self.x1, self.x0, self.x1) }, 7, 0x1_0000_0000), .values([0x1_0000_0000]), "select reads the low 32 bits of its condition")
    }

    func testFloatArithmetic() {
        let negZero32 = UInt64(f32: -0.0), posZero32 = UInt64(f32: 0.0)
        XCTAssertEqual(eval({ $0.fadd32(self.f0, self.f0, self.f1) }, UInt64(f32: 1.5), UInt64(f32: 2.25)), .values([UInt64(f32: 3.75)]))
        XCTAssertEqual(eval({ $0.fmin32(self.f0, self.f0, self.f1) }, posZero32, negZero32), .values([negZero32]))
        XCTAssertEqual(eval({ $0.fmax32(self.f0, self.f0, self.f1) }, negZero32, posZero32), .values([posZero32]))
        guard case .values(let nanMin) = eval({ $0.fmin64(self.f0, self.f0, self.f1) }, UInt64(f64: .nan), UInt64(f64: 1)) else { return XCTFail() }
        XCTAssertTrue(Double(bitPattern: nanMin[0]).isNaN)
        XCTAssertEqual(eval({ $0.fnearest32(self.f0, self.f0) }, UInt64(f32: 2.5)), .values([UInt64(f32: 2)]))
        XCTAssertEqual(eval({ $0.fnearest64(self.f0, self.f0) }, UInt64(f64: 3.5)), .values([UInt64(f64: 4)]))
        XCTAssertEqual(eval({ $0.fnearest64(self.f0, self.f0) }, UInt64(f64: -0.5)), .values([UInt64(f64: -0.0)]))
        XCTAssertEqual(eval({ $0.ftrunc32(self.f0, self.f0) }, UInt64(f32: -1.7)), .values([UInt64(f32: -1)]))
        XCTAssertEqual(eval({ $0.fceil64(self.f0, self.f0) }, UInt64(f64: 1.1)), .values([UInt64(f64: 2)]))
        XCTAssertEqual(eval({ $0.ffloor64(self.f0, self.f0) }, UInt64(f64: -1.1)), .values([UInt64(f64: -2)]))
        XCTAssertEqual(eval({ $0.fsqrt64(self.f0, self.f0) }, UInt64(f64: 2.25)), .values([UInt64(f64: 1.5)]))
        // Sign ops are bit ops: a NaN payload passes through unchanged.
        XCTAssertEqual(eval({ $0.fneg32(self.f0, self.f0) }, 0x7FA0_0001), .values([0xFFA0_0001]))
        XCTAssertEqual(eval({ $0.fabs64(self.f0, self.f0) }, 0xFFF4_0000_0000_0001), .values([0x7FF4_0000_0000_0001]))
        XCTAssertEqual(eval({ $0.fcopysign32(self.f0, self.f0, self.f1) }, UInt64(f32: 3), UInt64(f32: -0.0)), .values([UInt64(f32: -3)]))
        XCTAssertEqual(eval({ $0.flt64(self.x0, self.f0, self.f1) }, UInt64(f64: 1), UInt64(f64: 2)), .values([1]))
        XCTAssertEqual(eval({ $0.feq32(self.x0, self.f0, self.f1) }, 0x7FC0_0000, 0x7FC0_0000), .values([0]), "NaN is not equal to itself")
        XCTAssertEqual(eval({ $0.fne64(self.x0, self.f0, self.f1) }, UInt64(f64: .nan), UInt64(f64: .nan)), .values([1]))
        XCTAssertEqual(eval({ $0.fconst32(self.f0, 0x7FA0_0001) }), .values([0x7FA0_0001]))
    }

    func testConversions() {
        XCTAssertEqual(eval({ $0.x32FromF32S(self.x0, self.f0) }, UInt64(f32: .nan)), .trap(.badConversionToInteger))
        XCTAssertEqual(eval({ $0.x32FromF32S(self.x0, self.f0) }, UInt64(f32: 2_147_483_648)), .trap(.integerOverflow))
        XCTAssertEqual(eval({ $0.x32FromF32S(self.x0, self.f0) }, UInt64(f32: -2_147_483_648)), .values([0x8000_0000]))
        XCTAssertEqual(eval({ $0.x32FromF64S(self.x0, self.f0) }, UInt64(f64: -2_147_483_648.9)), .values([0x8000_0000]))
        XCTAssertEqual(eval({ $0.x32FromF64S(self.x0, self.f0) }, UInt64(f64: -2_147_483_649)), .trap(.integerOverflow))
        XCTAssertEqual(eval({ $0.x32FromF64U(self.x0, self.f0) }, UInt64(f64: -0.9)), .values([0]))
        XCTAssertEqual(eval({ $0.x32FromF64U(self.x0, self.f0) }, UInt64(f64: 4_294_967_295.9)), .values([0xFFFF_FFFF]))
        XCTAssertEqual(eval({ $0.x32FromF64U(self.x0, self.f0) }, UInt64(f64: 4_294_967_296)), .trap(.integerOverflow))
        XCTAssertEqual(eval({ $0.x64FromF64S(self.x0, self.f0) }, UInt64(f64: 9.3e18)), .trap(.integerOverflow))
        XCTAssertEqual(eval({ $0.x64FromF32U(self.x0, self.f0) }, UInt64(f32: 1.8e19)), .values([18_000_000_404_716_257_280]))
        XCTAssertEqual(eval({ $0.x32FromF32SSat(self.x0, self.f0) }, UInt64(f32: .nan)), .values([0]))
        XCTAssertEqual(eval({ $0.x32FromF32SSat(self.x0, self.f0) }, UInt64(f32: 1e10)), .values([0x7FFF_FFFF]))
        XCTAssertEqual(eval({ $0.x32FromF64SSat(self.x0, self.f0) }, UInt64(f64: -1e10)), .values([0x8000_0000]))
        XCTAssertEqual(eval({ $0.x64FromF64USat(self.x0, self.f0) }, UInt64(f64: -5)), .values([0]))
        XCTAssertEqual(eval({ $0.x64FromF64USat(self.x0, self.f0) }, UInt64(f64: .infinity)), .values([.max]))
        XCTAssertEqual(eval({ $0.f32FromX64U(self.f0, self.x0) }, .max), .values([UInt64(f32: 18_446_744_073_709_551_616)]))
        XCTAssertEqual(eval({ $0.f64FromX32U(self.f0, self.x0) }, 0xFFFF_FFFF), .values([UInt64(f64: 4_294_967_295)]))
        XCTAssertEqual(eval({ $0.f64FromX32S(self.f0, self.x0) }, 0xFFFF_FFFF), .values([UInt64(f64: -1)]))
        XCTAssertEqual(eval({ $0.f32FromF64(self.f0, self.f0) }, UInt64(f64: 1.5)), .values([UInt64(f32: 1.5)]))
        XCTAssertEqual(eval({ $0.f64FromF32(self.f0, self.f0) }, UInt64(f32: -0.25)), .values([UInt64(f64: -0.25)]))
    }

    func testMoves() {
        XCTAssertEqual(eval({ $0.xmov(self.x0, self.x1) }, 1, 0xDEAD_BEEF_0000_0001), .values([0xDEAD_BEEF_0000_0001]))
        #if InterpreterSIMD
        let code = assemble { e in
            e.pushFrame(4)
            e.vmov(VReg(2), VReg(0))
            e.xadd64(XReg(0), XReg(2), XReg(3))
            e.ret()
        }
        XCTAssertEqual(callAll(code, [40, 2]), .values([42]))
        #endif
    }
}
