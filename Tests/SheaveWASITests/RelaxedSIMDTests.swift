import Sheave
import XCTest

#if InterpreterSIMD
/// Issue 20: relaxed SIMD gives the spec's deterministic profile, the same on
/// every machine and both loops (docs/design.md, "Relaxed SIMD"), and is
/// refused when off. The saturating dot products came from a review (session 14):
/// wrapping gave 65536 for `dotAddSaturates`, which no allowed behaviour gives.
final class RelaxedSIMDTests: XCTestCase {
    let loops: [Config.Dispatch] = Config.Dispatch.tailLoopIsSafe ? [.match, .tail] : [.match]

    static let program = """
        (module
          ;; the deterministic profile: 0.1f * 10 rounds to 1 first, so the result is 0 (fused would give 1.49e-8)
          (func (export "madd") (result f32)
            (f32x4.extract_lane 0 (f32x4.relaxed_madd (f32x4.splat (f32.const 0.1)) (f32x4.splat (f32.const 10)) (f32x4.splat (f32.const -1)))))
          (func (export "nmadd") (result f64)
            (f64x2.extract_lane 1 (f64x2.relaxed_nmadd (f64x2.splat (f64.const 3)) (f64x2.splat (f64.const 4)) (f64x2.splat (f64.const 20)))))
          ;; b's lanes read as signed: -1 * -128 * 2 = 256; -128 * -128 * 2 = 32768 saturates to 32767
          (func (export "dotSaturates") (result i32)
            (i16x8.extract_lane_s 0 (i16x8.relaxed_dot_i8x16_i7x16_s (i8x16.splat (i32.const -128)) (i8x16.splat (i32.const -128)))))
          (func (export "dotAddSaturates") (result i32)
            (i32x4.extract_lane 0 (i32x4.relaxed_dot_i8x16_i7x16_add_s
              (i8x16.splat (i32.const -128)) (i8x16.splat (i32.const -128)) (i32x4.splat (i32.const 0)))))
          (func (export "dot") (result i32)
            (i16x8.extract_lane_s 0 (i16x8.relaxed_dot_i8x16_i7x16_s (i8x16.splat (i32.const -1)) (i8x16.splat (i32.const -128)))))
          (func (export "dotAdd") (result i32)
            (i32x4.extract_lane 3 (i32x4.relaxed_dot_i8x16_i7x16_add_s
              (i8x16.splat (i32.const 3)) (i8x16.splat (i32.const -2)) (i32x4.splat (i32.const 100)))))
          ;; as swizzle: an index past 15 gives 0
          (func (export "swizzle") (result i32)
            (i8x16.extract_lane_u 0 (i8x16.relaxed_swizzle (i8x16.splat (i32.const 7)) (i8x16.splat (i32.const 200)))))
          ;; as trunc_sat: NaN gives 0, too large saturates
          (func (export "trunc") (result i32)
            (i32x4.extract_lane 0 (i32x4.relaxed_trunc_f32x4_s (f32x4.splat (f32.const nan)))))
          (func (export "truncBig") (result i32)
            (i32x4.extract_lane 0 (i32x4.relaxed_trunc_f32x4_s (f32x4.splat (f32.const 1e10)))))
          ;; as min: NaN wins
          (func (export "min") (result i32)
            (i32.reinterpret_f32 (f32x4.extract_lane 0 (f32x4.relaxed_min (f32x4.splat (f32.const nan)) (f32x4.splat (f32.const 1)))))))
        """

    func testEachRelaxedInstructionGivesSheavesDocumentedChoiceOnBothLoops() throws {
        for dispatch in loops {
            let engine = Engine(Config(dispatch: dispatch))
            let instance = try Linker().instantiate(try Module(engine: engine, wat: Self.program), in: Store(engine: engine))
            XCTAssertEqual(try instance.invoke("madd", []), [.f32(Float(0).bitPattern)], "\(dispatch): rounded twice, not fused")
            XCTAssertNotEqual(Float(0), (-1 as Float).addingProduct(Float(0.1), 10), "the fused answer differs")
            XCTAssertEqual(try instance.invoke("nmadd", []), [.f64(Double(8).bitPattern)], "\(dispatch)")
            XCTAssertEqual(try instance.invoke("dot", []), [.i32(256)], "\(dispatch)")
            XCTAssertEqual(try instance.invoke("dotSaturates", []), [.i32(32767)], "\(dispatch): the pair sum saturates to i16")
            XCTAssertEqual(try instance.invoke("dotAddSaturates", []), [.i32(65534)], "\(dispatch): two saturated pairs")
            XCTAssertEqual(try instance.invoke("dotAdd", []), [.i32(UInt32(bitPattern: 100 - 24))], "\(dispatch)")
            XCTAssertEqual(try instance.invoke("swizzle", []), [.i32(0)], "\(dispatch)")
            XCTAssertEqual(try instance.invoke("trunc", []), [.i32(0)], "\(dispatch)")
            XCTAssertEqual(try instance.invoke("truncBig", []), [.i32(UInt32(Int32.max))], "\(dispatch)")
            guard case .i32(let bits)? = try instance.invoke("min", []).first else { return XCTFail() }
            XCTAssertTrue(Float(bitPattern: bits).isNaN, "\(dispatch)")
        }
    }

    func testRelaxedSIMDIsRefusedWhenOff() throws {
        var features = Features.all
        features.remove(.relaxedSIMD)
        XCTAssertThrowsError(try Module(engine: Engine(Config(features: features)), wat: Self.program)) { error in
            XCTAssertEqual((error as? ModuleError)?.kind, .invalid)
        }
    }
}
#endif
