import Sheave
import XCTest

/// Issue 18: work that no limit bounded. A runaway recursion's backtrace is
/// bounded and folded; a stack size past the maximum is clamped, not fatal.
final class RunawayTests: XCTestCase {
    func testARunawayRecursionsBacktraceIsBoundedAndFolded() throws {
        let engine = Engine(Config(stackSize: 64 << 20))
        let module = try Module(engine: engine, wat: """
            (module
              (func $down (export "down") (param i32) (result i32)
                (i32.add (call $up (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
              (func $up (param i32) (result i32)
                (i32.add (call $down (i32.add (local.get 0) (i32.const 1))) (i32.const 1))))
            """)
        let instance = try Linker().instantiate(module, in: Store(engine: engine))
        XCTAssertThrowsError(try instance.invoke("down", [.i32(0)])) { error in
            guard let trap = error as? Trap else { return XCTFail("\(error)") }
            XCTAssertEqual(trap.code, .stackOverflow)
            // Before: every frame (millions at a large stack) was kept and printed.
            XCTAssertEqual(trap.backtrace.count, 1000)
            XCTAssertGreaterThan(trap.omittedFrames, 100_000)
            let lines = trap.description.split(separator: "\n")
            XCTAssertLessThan(lines.count, 12, trap.description)
            XCTAssertTrue(trap.description.contains("the 2 frames above"), trap.description)
            XCTAssertTrue(trap.description.contains("outer frames not recorded"), trap.description)
            XCTAssertTrue(trap.description.contains("down"), trap.description)
            XCTAssertTrue(trap.description.contains("up"), trap.description)
        }
    }

    func testAShallowTrapsBacktraceIsWhole() throws {
        let module = try Module(engine: Engine(), wat: """
            (module
              (func $a (export "a") (call $b))
              (func $b (call $c))
              (func $c unreachable))
            """)
        let instance = try Linker().instantiate(module, in: Store())
        XCTAssertThrowsError(try instance.invoke("a", [])) { error in
            guard let trap = error as? Trap else { return XCTFail("\(error)") }
            XCTAssertEqual(trap.backtrace.map(\.name), ["c", "b", "a"])
            XCTAssertEqual(trap.omittedFrames, 0)
            XCTAssertEqual(trap.description.split(separator: "\n").count, 5)
        }
    }

    func testAStackSizePastTheMaximumIsClampedNotFatal() throws {
        // Before: Config(stackSize: Int.max) ended the process ("failed to allocate").
        let engine = Engine(Config(stackSize: .max))
        let module = try Module(engine: engine, wat: """
            (module (func (export "fact") (param i64) (result i64)
              (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 1))
                (else (i64.mul (local.get 0) (call 0 (i64.sub (local.get 0) (i64.const 1))))))))
            """)
        let instance = try Linker().instantiate(module, in: Store(engine: engine))
        XCTAssertEqual(try instance.invoke("fact", [.i64(20)]), [.i64(2_432_902_008_176_640_000)])
        XCTAssertEqual(Config.maximumStackSize, 1 << 32)
    }
}
