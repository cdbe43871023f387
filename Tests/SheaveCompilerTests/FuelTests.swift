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

    func testAMeteredStoreRefusesAModuleCompiledWithoutCheckpoints() throws {
        let store = Store(engine: Engine(Config(fuelMetering: true)))
        let module = try CompiledModule(bytes: try wat2wasm(program))
        XCTAssertThrowsError(try Instance(module: module, store: store, imports: [:])) { error in
            XCTAssertTrue(error is LinkError)
        }
    }
}
