import Dispatch
import Sheave
import SheaveInterpreter
import XCTest

/// Lazy compilation (`Config.Compilation`): each function compiled on its first
/// call, alone, with calls between functions through references.
final class LazyCompilationTests: XCTestCase {
    /// Calls of every kind between functions (direct, to itself, indirect, through a
    /// reference, tail calls both ways), an exception thrown in one function and
    /// caught in another, and a trap deep in a recursion.
    static let source = """
        (module
          (type $ii (func (param i32) (result i32)))
          (tag $boom (param i32))
          (table 2 funcref)
          (elem (i32.const 0) $double $square)
          (elem declare func $square)
          (func $double (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
          (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
          (func $fib (export "fib") (param i32) (result i32)
            (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
              (then (local.get 0))
              (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                             (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
          (func $even (param i32) (result i32)
            (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
              (else (return_call $odd (i32.sub (local.get 0) (i32.const 1))))))
          (func $odd (param i32) (result i32)
            (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
              (else (return_call $even (i32.sub (local.get 0) (i32.const 1))))))
          (func (export "even") (param i32) (result i32) (call $even (local.get 0)))
          (func (export "pick") (param i32) (result i32)
            (call_indirect (type $ii) (i32.const 5) (i32.and (local.get 0) (i32.const 1))))
          (func (export "mix") (param i32) (result i32)
            (i32.add (call $double (local.get 0))
              (i32.add (call_indirect (type $ii) (local.get 0) (i32.const 1))
                       (call_ref $ii (local.get 0) (ref.func $square)))))
          (func $thrower (param i32) (result i32)
            (if (i32.gt_u (local.get 0) (i32.const 10)) (then (throw $boom (local.get 0))))
            (local.get 0))
          (func (export "catch") (param i32) (result i32)
            (i32.add (i32.const 1000)
              (block $caught (result i32)
                (return (try_table (result i32) (catch $boom $caught) (call $thrower (local.get 0)))))))
          (func $deep (param i32) (result i32)
            (if (i32.eqz (local.get 0)) (then unreachable))
            (call $deeper (i32.sub (local.get 0) (i32.const 1))))
          (func $deeper (param i32) (result i32) (call $deep (local.get 0)))
          (func (export "trap") (param i32) (result i32) (call $deep (local.get 0))))
        """

    struct Outcome: Equatable {
        var results: [Int32] = []
        var trapFunctions: [Int] = []
    }

    func run(_ compilation: Config.Compilation, _ dispatch: Config.Dispatch, fuel: Int64? = nil) throws -> (Outcome, Int64?) {
        let engine = Engine(Config(fuelMetering: fuel != nil, stackSize: 64 << 10, dispatch: dispatch, compilation: compilation))
        let module = try Module(engine: engine, wat: Self.source)
        XCTAssertEqual(module.isCompiledLazily, compilation == .lazy)
        let store = Store(engine: engine)
        if let fuel { store.fuel = fuel }
        let instance = try Linker().instantiate(module, in: store)
        var outcome = Outcome()
        // First `pick`: its call_indirect reads the index the op before it computed
        // (from the accumulator, on the tail loop) and stops the run to have square
        // compiled; the run must go on in square, not make the call again without
        // the accumulator (which called double: 10, found by regex-redux).
        for (name, argument) in [("pick", 5), ("fib", 20), ("even", 100_000), ("even", 7), ("mix", 3), ("catch", 5), ("catch", 20)] as [(String, Int32)] {
            let function = try instance.function(name)!.typed(parameters: Int32.self, results: Int32.self)
            outcome.results.append(try function(argument))
        }
        do {
            _ = try instance.invoke("trap", [.i32(3)])
            XCTFail("trap returned")
        } catch let trap as Trap {
            XCTAssertEqual(trap.code, .unreachable)
            outcome.trapFunctions = trap.backtrace.map(\.function)
        }
        return (outcome, fuel.map { _ in store.fuel })
    }

    func testLazilyCompiledCodeRunsAsEagerlyCompiledCodeOnBothLoops() throws {
        for dispatch in Config.Dispatch.tailLoopIsSafe ? [Config.Dispatch.match, .tail] : [.match] {
            let (eager, _) = try run(.eager, dispatch)
            let (lazy, _) = try run(.lazy, dispatch)
            XCTAssertEqual(eager.results, [25, 6765, 1, 0, 6 + 9 + 9, 5, 1020], "\(dispatch)")
            XCTAssertEqual(lazy, eager, "\(dispatch)")
            // deep, deeper, deep, deeper, deep, deeper, deep, then the export "trap".
            XCTAssertEqual(lazy.trapFunctions, [10, 11, 10, 11, 10, 11, 10, 12], "\(dispatch)")
            // Fuel: the same checkpoints run either way.
            let (_, eagerFuel) = try run(.eager, dispatch, fuel: 10_000_000)
            let (_, lazyFuel) = try run(.lazy, dispatch, fuel: 10_000_000)
            XCTAssertEqual(lazyFuel, eagerFuel, "\(dispatch)")
        }
    }

    /// A function's body is validated when it is compiled: lazily, on its first call.
    func testAnInvalidFunctionIsAnErrorWhenItIsFirstCalled() throws {
        let source = """
            (module
              (func (export "ok") (result i32) (i32.const 7))
              (func (export "bad") (result i32) (i64.const 1)))
            """
        XCTAssertThrowsError(try Module(engine: Engine(Config(compilation: .eager)), wat: source)) {
            XCTAssertEqual(($0 as? ModuleError)?.kind, .invalid)
        }
        let module = try Module(engine: Engine(Config(compilation: .lazy)), wat: source)
        let instance = try Linker().instantiate(module, in: Store(engine: Engine(Config(compilation: .lazy))))
        XCTAssertEqual(try instance.invoke("ok", []), [.i32(7)])
        XCTAssertThrowsError(try instance.invoke("bad", [])) {
            XCTAssertEqual(($0 as? ModuleError)?.kind, .invalid, "\($0)")
        }
        XCTAssertThrowsError(try module.serialize()) { XCTAssertEqual(($0 as? ModuleError)?.kind, .invalid) }
        // The section-level rules are checked when the module is made, lazily or not.
        XCTAssertThrowsError(try Module(engine: Engine(Config(compilation: .lazy)), wat: "(module (func (export \"f\")) (export \"f\" (func 0)))"))
    }

    /// Instances of one lazily compiled module, on several threads at once, share
    /// each function's code: compiled by whichever called it first.
    func testInstancesOnSeveralThreadsShareTheFunctionsCompiledLazily() throws {
        let engine = Engine(Config(compilation: .lazy))
        let module = try Module(engine: engine, wat: Self.source)
        XCTAssertEqual(module.lazilyCompiledFunctionCount, 0)
        let first = try Linker().instantiate(module, in: Store(engine: engine))
        XCTAssertEqual(try first.invoke("fib", [.i32(10)]), [.i32(55)])
        XCTAssertEqual(module.lazilyCompiledFunctionCount, 1, "fib alone: it calls only itself")
        XCTAssertEqual(try first.invoke("mix", [.i32(2)]), [.i32(4 + 4 + 4)])
        XCTAssertEqual(module.lazilyCompiledFunctionCount, 4, "mix, double, square")

        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<[Value]?>.allocate(capacity: 16)
        defer { results.deallocate() }
        results.initialize(repeating: nil)
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            guard let instance = try? Linker().instantiate(module, in: Store(engine: engine)) else { return }
            let name = ["fib", "even", "catch", "mix"][i % 4]
            results[i] = try? instance.invoke(name, [.i32(UInt32(12 + i))])
        }
        for i in 0..<16 {
            let n = Int32(12 + i)
            let expected: Int32
            switch i % 4 {
            case 0: expected = [144, 233, 377, 610, 987, 1597, 2584, 4181, 6765, 10946, 17711, 28657, 46368, 75025, 121393, 196418][i]
            case 1: expected = n % 2 == 0 ? 1 : 0
            case 2: expected = n > 10 ? 1000 + n : n
            default: expected = 2 * n + 2 * n * n
            }
            XCTAssertEqual(results[i], [.i32(UInt32(bitPattern: expected))], "\(["fib", "even", "catch", "mix"][i % 4])(\(n))")
        }
        XCTAssertEqual(module.lazilyCompiledFunctionCount, 9, "every function but pick, deep, deeper and trap")
    }

    /// The profiler maps samples to one image's offsets: a lazily compiled module's
    /// count as outside, and the profile lists the module compiled whole.
    func testAProfileOfALazilyCompiledModule() throws {
        let engine = Engine(Config(compilation: .lazy))
        let store = Store(engine: engine)
        let instance = try Linker().instantiate(try Module(engine: engine, wat: Self.source), in: store)
        let profiler = store.profiler(interval: 0.0001)
        profiler.start()
        XCTAssertEqual(try instance.invoke("fib", [.i32(24)]), [.i32(46368)])
        let profile = try profiler.stop(attributingTo: instance, program: "fib")
        XCTAssertEqual(profile.inside, 0)
        XCTAssertGreaterThan(profile.outside, 0)
        let read = try Profile(deserializing: profile.serialized())
        XCTAssertTrue(read.report().contains("fib"), read.report())
    }

    /// `automatic`: lazily from `Config.lazyThreshold` bytes of function bodies.
    func testAutomaticCompilationIsLazyForLargeModulesOnly() throws {
        let engine = Engine()
        XCTAssertEqual(engine.config.compilation, .automatic)
        XCTAssertFalse(try Module(engine: engine, wat: Self.source).isCompiledLazily)
        // 100 functions of 3 KiB each, written as bytes (the text parser is slow in a
        // debug build): function k adds k % 60 + 1 (one byte of signed LEB128) to its argument 1,000 times.
        func leb(_ value: Int) -> [UInt8] {
            var (value, bytes) = (value, [UInt8]())
            repeat {
                let byte = UInt8(value & 0x7F)
                value >>= 7
                bytes.append(value == 0 ? byte : byte | 0x80)
            } while value != 0
            return bytes
        }
        func section(_ id: UInt8, _ contents: [UInt8]) -> [UInt8] { [id] + leb(contents.count) + contents }
        let count = 100
        var exports: [UInt8] = leb(count), code: [UInt8] = leb(count)
        for k in 0..<count {
            let name = Array("f\(k)".utf8)
            exports += leb(name.count) + name + [0x00] + leb(k)
            var body: [UInt8] = [0x00, 0x20, 0x00]  // no locals; local.get 0
            for _ in 0..<1000 { body += [0x41, UInt8(k % 60 + 1), 0x6A] }  // i32.const k % 60 + 1; i32.add
            body.append(0x0B)
            code += leb(body.count) + body
        }
        let bytes: [UInt8] = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00]
            + section(1, [0x01, 0x60, 0x01, 0x7F, 0x01, 0x7F])
            + section(3, leb(count) + Array(repeating: 0x00, count: count))
            + section(7, exports) + section(10, code)
        XCTAssertGreaterThanOrEqual(bytes.count, Config.lazyThreshold)
        let large = try Module(engine: engine, bytes: bytes)
        XCTAssertTrue(large.isCompiledLazily)
        let eager = try Module(engine: Engine(Config(compilation: .eager)), bytes: bytes)
        XCTAssertFalse(eager.isCompiledLazily)
        for module in [large, eager] {
            let instance = try Linker().instantiate(module, in: Store(engine: engine))
            XCTAssertEqual(try instance.invoke("f0", [.i32(1)]), [.i32(1001)])
            XCTAssertEqual(try instance.invoke("f99", [.i32(1)]), [.i32(40_001)])
        }
        // An artifact holds every function compiled, whichever way the module was.
        XCTAssertEqual(try large.serialize(), try eager.serialize())
    }
}
