import Sheave
import XCTest

/// Issue 20: tail calls (`return_call`, `return_call_indirect`,
/// `return_call_ref`) in constant stack space, on both loops; to host
/// functions and across instances they are calls that return.
final class TailCallTests: XCTestCase {
    /// The dispatch loops this build can run (the tail loop only where its calls are jumps).
    let loops: [Config.Dispatch] = Config.Dispatch.tailLoopIsSafe ? [.match, .tail] : [.match]

    static let program = """
        (module
          (import "host" "twice" (func $twice (param i64) (result i64)))
          (type $sum (func (param i64 i64) (result i64)))
          (type $count (func (param i32) (result i32)))
          (table 1 funcref) (elem (i32.const 0) $sum)
          (elem declare func $countdown)
          ;; mutual recursion, a million deep: only tail calls fit a small stack
          (func $even (export "even") (param i64) (result i32)
            (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 1))
              (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
          (func $odd (export "odd") (param i64) (result i32)
            (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 0))
              (else (return_call $even (i64.sub (local.get 0) (i64.const 1))))))
          ;; the same depth with ordinary calls, which must run out of stack
          (func $deep (export "deep") (param i64) (result i32)
            (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 1))
              (else (call $deep (i64.sub (local.get 0) (i64.const 1))))))
          ;; through a table: n + (n - 1) + ... + 1, accumulated
          (func $sum (export "sum") (type $sum) (param i64 i64) (result i64)
            (if (result i64) (i64.eqz (local.get 0)) (then (local.get 1))
              (else (return_call_indirect (type $sum)
                      (i64.sub (local.get 0) (i64.const 1)) (i64.add (local.get 1) (local.get 0)) (i32.const 0)))))
          ;; through a reference
          (func $countdown (export "countdown") (type $count) (param i32) (result i32)
            (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 42))
              (else (return_call_ref $count (i32.sub (local.get 0) (i32.const 1)) (ref.func $countdown)))))
          ;; more arguments than the caller has slots below them: the move overlaps
          (func $three (param i32 i32 i32) (result i32)
            (i32.add (i32.add (i32.mul (local.get 0) (i32.const 100)) (i32.mul (local.get 1) (i32.const 10))) (local.get 2)))
          (func (export "widen") (param i32) (result i32)
            (return_call $three (local.get 0) (i32.add (local.get 0) (i32.const 1)) (i32.add (local.get 0) (i32.const 2))))
          ;; to a host function: called, and its result returned
          (func (export "viaHost") (param i64) (result i64) (return_call $twice (local.get 0))))
        """

    func instance(_ engine: Engine) throws -> Instance {
        var linker = Linker()
        linker.defineFunction("host", "twice") { (x: Int64) -> Int64 in x * 2 }
        return try linker.instantiate(try Module(engine: engine, wat: Self.program), in: Store(engine: engine))
    }

    func testAMillionDeepMutualTailRecursionRunsOnASmallStack() throws {
        for dispatch in loops {
            let engine = Engine(Config(stackSize: 64 << 10, dispatch: dispatch))
            let instance = try instance(engine)
            let even = try instance.function("even")!.typed(parameters: Int64.self, results: Int32.self)
            XCTAssertEqual(try even(1_000_000), 1, "\(dispatch)")
            XCTAssertEqual(try even(1_000_001), 0, "\(dispatch)")
            let sum = try instance.function("sum")!.typed(parameters: Int64.self, Int64.self, results: Int64.self)
            XCTAssertEqual(try sum(1_000_000, 0), 500_000_500_000, "\(dispatch)")
            let countdown = try instance.function("countdown")!.typed(parameters: Int32.self, results: Int32.self)
            XCTAssertEqual(try countdown(1_000_000), 42, "\(dispatch)")
            let widen = try instance.function("widen")!.typed(parameters: Int32.self, results: Int32.self)
            XCTAssertEqual(try widen(1), 123, "\(dispatch)")
            let viaHost = try instance.function("viaHost")!.typed(parameters: Int64.self, results: Int64.self)
            XCTAssertEqual(try viaHost(21), 42, "\(dispatch)")
            // The test can fail: ordinary calls that deep do not fit this stack.
            XCTAssertThrowsError(try instance.function("deep")!.call([.i64(1_000_000)]), "\(dispatch)") { error in
                XCTAssertEqual((error as? Trap)?.message, "call stack exhausted")
            }
        }
    }

    /// A tail call to another instance's function (imported, or in a shared
    /// table) is a call that returns: the right answer, not constant space.
    func testTailCallsAcrossInstances() throws {
        for dispatch in loops {
            let engine = Engine(Config(dispatch: dispatch))
            let store = Store(engine: engine)
            var linker = Linker()
            linker.defineFunction("host", "twice") { (x: Int64) -> Int64 in x * 2 }
            linker.define("lib", instance: try linker.instantiate(try Module(engine: engine, wat: Self.program), in: store))
            let user = try linker.instantiate(try Module(engine: engine, wat: """
                (module
                  (import "lib" "odd" (func $odd (param i64) (result i32)))
                  (import "lib" "sum" (func $sum (param i64 i64) (result i64)))
                  (type $sum (func (param i64 i64) (result i64)))
                  (table 1 funcref) (elem (i32.const 0) $sum)
                  (func (export "odd") (param i64) (result i32) (return_call $odd (local.get 0)))
                  (func (export "sum") (param i64) (result i64)
                    (return_call_indirect (type $sum) (local.get 0) (i64.const 0) (i32.const 0))))
                """), in: store)
            XCTAssertEqual(try user.invoke("odd", [.i64(10_001)]), [.i32(1)], "\(dispatch)")
            XCTAssertEqual(try user.invoke("sum", [.i64(100)]), [.i64(5050)], "\(dispatch)")
        }
    }

    /// Each function entry consumes fuel, so a tail-recursive loop is metered.
    func testATailRecursiveLoopRunsOutOfFuel() throws {
        let engine = Engine(Config(fuelMetering: true))
        let store = Store(engine: engine)
        var linker = Linker()
        linker.defineFunction("host", "twice") { (x: Int64) -> Int64 in x * 2 }
        let instance = try linker.instantiate(try Module(engine: engine, wat: Self.program), in: store)
        store.fuel = 10_000
        XCTAssertThrowsError(try instance.invoke("even", [.i64(1_000_000)])) { error in
            XCTAssertEqual((error as? Trap)?.code, .outOfFuel)
        }
        store.fuel = 10_000
        XCTAssertEqual(try instance.invoke("even", [.i64(1_000)]), [.i32(1)])
    }

    /// Off in the configuration, tail calls are refused as invalid (Wasmtime's `wasm_tail_call(false)`).
    func testTailCallsAreRefusedWhenTheFeatureIsOff() throws {
        var features = Features.all
        features.remove(.tailCall)
        let engine = Engine(Config(features: features))
        XCTAssertThrowsError(try Module(engine: engine, wat: "(module (func $f (return_call $f)))")) { error in
            XCTAssertEqual((error as? ModuleError)?.kind, .invalid)
        }
    }
}
