import Foundation
import Sheave
import SheaveCompiler
import WAT
import XCTest

/// Fuel metering and interruption: checkpoints at function entries and loop headers.
final class FuelTests: XCTestCase {
    let program = """
        (module
          (func (export "forever") (loop (br 0)))
          (func (export "count") (param i32) (result i32) (local i32)
            (loop
              (local.set 1 (i32.add (local.get 1) (i32.const 1)))
              (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))
            (local.get 1))
          (func (export "five") (result i32) (i32.const 5)))
        """

    func instance(_ config: Config) throws -> (Store, Instance) {
        let store = Store(engine: Engine(config))
        let module = try CompiledModule(bytes: try wat2wasm(program), options: config.compileOptions)
        return (store, try Instance(module: module, store: store, imports: [:]))
    }

    func testRunningOutOfFuelTrapsAndTheStoreCanBeRefuelled() throws {
        let (store, instance) = try instance(.init(fuelMetering: true))
        store.fuel = 10_000
        XCTAssertThrowsError(try instance.invoke("forever", [])) { error in
            XCTAssertEqual((error as? Trap)?.code, .outOfFuel)
        }
        XCTAssertEqual(store.fuel, 0)
        store.fuel = 1_000
        // One unit at the function's entry and one per pass through the loop header.
        XCTAssertEqual(try instance.invoke("count", [.i32(100)]), [.i32(100)])
        XCTAssertEqual(store.fuel, 1_000 - 101)
        XCTAssertEqual(try instance.invoke("five", []), [.i32(5)])
        store.fuel = 50
        XCTAssertThrowsError(try instance.invoke("count", [.i32(100)])) { error in
            XCTAssertEqual((error as? Trap)?.code, .outOfFuel)
        }
    }

    func testAnotherThreadInterruptsAnInfiniteLoop() throws {
        let (store, instance) = try instance(.init(interruptible: true))
        let handle = store.interruptHandle
        let started = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) { handle.interrupt() }
        XCTAssertThrowsError(try instance.invoke("forever", [])) { error in
            XCTAssertEqual((error as? Trap)?.code, .interrupted)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertEqual(try instance.invoke("count", [.i32(1000)]), [.i32(1000)])
    }

    /// Issue 19: when the fuel runs out the host may add more and the call goes
    /// on from where it stopped (wasmi and Wasmtime resume too), on both loops;
    /// a handler that adds nothing ends it with the trap, and the store stays usable.
    func testTheHostAddsFuelAndTheCallResumesWhereItStopped() throws {
        for dispatch in Config.Dispatch.tailLoopIsSafe ? [Config.Dispatch.match, .tail] : [.match] {
            let (store, instance) = try instance(.init(fuelMetering: true, dispatch: dispatch))
            var refills = 0
            store.fuel = 100
            store.outOfFuelHandler = {
                refills += 1
                return 100
            }
            // 1 + 100,000 units in all: the first 100, then 1,000 refills of 100 (the last partly used).
            XCTAssertEqual(try instance.invoke("count", [.i32(100_000)]), [.i32(100_000)], "\(dispatch)")
            XCTAssertEqual(refills, 1_000, "\(dispatch)")
            XCTAssertEqual(store.fuel, 100 + 1_000 * 100 - 100_001, "\(dispatch)")
            // A handler that gives up: the trap, the debt cleared, and the store runs the next call.
            store.outOfFuelHandler = { 0 }
            XCTAssertThrowsError(try instance.invoke("forever", [])) { error in
                XCTAssertEqual((error as? Trap)?.code, .outOfFuel)
            }
            XCTAssertEqual(store.fuel, 0)
            store.fuel = 10
            XCTAssertEqual(try instance.invoke("five", []), [.i32(5)])
            // A handler that throws ends the call with its error.
            struct Enough: Error {}
            store.outOfFuelHandler = { throw Enough() }
            XCTAssertThrowsError(try instance.invoke("forever", [])) { error in XCTAssertTrue(error is Enough, "\(error)") }
            store.fuel = 1_000
            XCTAssertEqual(try instance.invoke("count", [.i32(100)]), [.i32(100)])
        }
    }

    /// Issue 19: an interruption can let the call go on (a time slice), or end it.
    func testAnInterruptedCallResumesWhenTheHandlerSaysSo() throws {
        for dispatch in Config.Dispatch.tailLoopIsSafe ? [Config.Dispatch.match, .tail] : [.match] {
            let (store, instance) = try instance(.init(interruptible: true, dispatch: dispatch))
            let handle = store.interruptHandle
            var slices = 0
            store.interruptHandler = {
                slices += 1
                if slices < 3 { handle.interrupt() }  // interrupted again at the next checkpoint
                return true
            }
            handle.interrupt()
            XCTAssertEqual(try instance.invoke("count", [.i32(1_000)]), [.i32(1_000)], "\(dispatch)")
            XCTAssertEqual(slices, 3, "\(dispatch)")
            store.interruptHandler = { false }
            handle.interrupt()
            XCTAssertThrowsError(try instance.invoke("forever", [])) { error in
                XCTAssertEqual((error as? Trap)?.code, .interrupted)
            }
        }
    }

    func testAMeteredStoreRefusesAModuleCompiledWithoutCheckpoints() throws {
        let store = Store(engine: Engine(Config(fuelMetering: true)))
        let module = try CompiledModule(bytes: try wat2wasm(program))
        XCTAssertThrowsError(try Instance(module: module, store: store, imports: [:])) { error in
            XCTAssertTrue(error is LinkError)
        }
    }
}
