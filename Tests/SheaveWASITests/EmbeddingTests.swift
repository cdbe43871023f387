import Dispatch
@_spi(Testing) import Sheave
import SheaveInterpreter
import SheaveWASI
import WAT
import XCTest

/// The embedding API: Engine, Module, Store, Linker, and typed access to exports.
final class EmbeddingTests: XCTestCase {
    let engine = Engine()

    func testTypedHostFunctionsAndTypedExports() throws {
        let module = try Module(engine: engine, wat: """
            (module
              (import "math" "twice" (func $twice (param i64) (result i64)))
              (func (export "quad") (param i64) (result i64) (call $twice (call $twice (local.get 0))))
              (func (export "half") (param f64) (result f64) (f64.mul (local.get 0) (f64.const 0.5))))
            """)
        XCTAssertEqual(module.exports, ["quad", "half"])
        XCTAssertEqual(module.imports.map { "\($0.module).\($0.name)" }, ["math.twice"])
        var linker = Linker()
        linker.defineFunction("math", "twice") { (x: Int64) -> Int64 in x * 2 }
        let instance = try linker.instantiate(module, in: Store(engine: engine))
        let quad = try instance.function("quad")!.typed(parameters: Int64.self, results: Int64.self)
        XCTAssertEqual(try quad(-21), -84)
        let half = try instance.function("half")!.typed(parameters: Double.self, results: Double.self)
        XCTAssertEqual(try half(3), 1.5)
        XCTAssertThrowsError(try instance.function("quad")!.typed(parameters: Int32.self, results: Int32.self), "wrong types are refused")
        XCTAssertEqual(try instance.function("quad")!.call([.i64(1)]), [.i64(4)])
    }

    /// Issue 19: typed calls and typed host functions of any arity and result
    /// count (parameter packs), and a `Caller` that reaches the calling
    /// instance's exports through the public API.
    func testTypedCallsOfAnyArityAndHostFunctionsThatSeeTheirCaller() throws {
        let module = try Module(engine: engine, wat: """
            (module
              (import "env" "divmod" (func $divmod (param i32 i32 i64) (result i32 i64)))
              (import "env" "tick" (func $tick))
              (memory (export "memory") 1)
              (global (export "ticks") (mut i32) (i32.const 0))
              (func (export "mix") (param i32 i64 f32 f64) (result f64 i32 i64)
                (f64.add (f64.promote_f32 (local.get 2)) (local.get 3))
                (call $divmod (local.get 0) (i32.const 7) (local.get 1)))
              (func (export "go") (call $tick) (call $tick) (i32.store (i32.const 8) (i32.const 99))))
            """)
        var linker = Linker()
        linker.defineFunction("env", "divmod", parameters: Int32.self, Int32.self, Int64.self, results: Int32.self, Int64.self) {
            caller, a, b, c in (a / b, Int64(a % b) + c)
        }
        var ticksSeen: [Int32] = []
        linker.defineFunction("env", "tick") { caller in
            // The caller's exports, through the API: its global, its memory.
            guard case .global(let ticks)? = caller.export("ticks"), case .memory(let memory)? = caller.export("memory") else {
                throw LinkError(message: "the caller's exports are not reachable")
            }
            ticksSeen.append(Int32(ticks.value))
            try ticks.set(.i32(UInt32(ticks.value) + 1))
            try memory.write([UInt8(ticksSeen.count)], at: 4)
            XCTAssertNil(caller.export("nothing"))
        }
        let instance = try linker.instantiate(module, in: Store(engine: engine))
        let mix = try instance.function("mix")!.typed(parameters: Int32.self, Int64.self, Float.self, Double.self,
                                                      results: Double.self, Int32.self, Int64.self)
        let (sum, quotient, remainder) = try mix(-30, 1_000_000_000_000, 0.5, 2.25)
        XCTAssertEqual(sum, 2.75)
        XCTAssertEqual(quotient, -4)
        XCTAssertEqual(remainder, 1_000_000_000_000 - 2)
        let go = try instance.function("go")!.typed()
        try go()
        XCTAssertEqual(ticksSeen, [0, 1])
        XCTAssertEqual(try instance.memory("memory")?.read(at: 4, count: 5), [2, 0, 0, 0, 99])
        XCTAssertThrowsError(try instance.function("mix")!.typed(parameters: Int32.self, results: Double.self), "wrong types are refused")
        // A host function called by the host itself has no calling instance.
        guard case .function(let tick)? = linker.definitions["env"]?["tick"] else { return XCTFail("no tick") }
        XCTAssertThrowsError(try tick.call([]))
    }

    /// Issue 20: several memories and 64-bit ones through the API. A host function
    /// that grows the caller's memory is seen by the code after the call (the
    /// interpreter caches each memory's size, and re-reads it after a host call:
    /// before, the wasm code still trapped at the old size), and every memory is
    /// exported under its own name and type. `Config.features` turns each
    /// proposal off, and validation then refuses it.
    func testSeveralAnd64BitMemoriesThroughTheAPI() throws {
        let wat = """
            (module
              (import "env" "more" (func $more))
              (memory $low (export "low") 1)
              (memory $high (export "high") i64 1 8)
              (func (export "go") (result i64)
                (call $more)
                (i64.store $high (i64.const 0x1fff8) (i64.const 42))
                (i64.add (i64.load $high (i64.const 0x1fff8)) (memory.size $high))))
            """
        let module = try Module(engine: engine, wat: wat)
        var linker = Linker()
        linker.defineFunction("env", "more") { caller in
            guard case .memory(let high)? = caller.export("high") else { throw LinkError(message: "no memory high") }
            XCTAssertEqual(high.grow(by: 1), 1)
            XCTAssertEqual(caller.memory?.type.isMemory64, false, "Caller.memory is memory 0")
        }
        let instance = try linker.instantiate(module, in: Store(engine: engine))
        XCTAssertEqual(try instance.function("go")!.call([]), [.i64(44)])
        XCTAssertEqual(instance.memory("high")?.type.isMemory64, true)
        XCTAssertEqual(instance.memory("high")?.pages, 2)
        XCTAssertEqual(try instance.memory("high")?.read(at: 0x1fff8, count: 1), [42])
        XCTAssertEqual(instance.memory("low")?.pages, 1)

        for (off, message) in [(Features.multiMemory, "several memories"), (.memory64, "a 64-bit memory")] {
            XCTAssertThrowsError(try Module(engine: Engine(Config(features: Features.all.subtracting(off))), wat: wat)) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }

    /// Issue 21's first step: exception tags are module entities. A tag is
    /// exported as itself (the same object through every export of it), imported
    /// only at its own payload type, and each instance defines new ones.
    func testExceptionTagsAreExportedImportedAndGenerative() throws {
        let module = try Module(engine: engine, wat: """
            (module (tag $t (export "t") (param i32 f64)) (export "again" (tag $t)))
            """)
        let store = Store(engine: engine)
        let first = try Linker().instantiate(module, in: store), second = try Linker().instantiate(module, in: store)
        let tag = try XCTUnwrap(first.tag("t"))
        XCTAssertEqual(tag.type, FunctionType(parameters: [.i32, .f64], results: []))
        XCTAssertTrue(first.tag("again") === tag, "one tag under two names")
        XCTAssertFalse(second.tag("t") === tag, "each instance defines its own")
        XCTAssertNil(Tag(type: FunctionType(parameters: [], results: [.i32])), "a tag has no results")

        let importer = try Module(engine: engine, wat: #"(module (import "m" "t" (tag (param i32 f64))) (export "same" (tag 0)))"#)
        var linker = Linker()
        linker.define("m", "t", .tag(tag))
        XCTAssertTrue(try linker.instantiate(importer, in: store).tag("same") === tag)
        linker.define("m", "t", .tag(try XCTUnwrap(Tag(type: FunctionType(parameters: [.i32], results: [])))))
        XCTAssertThrowsError(try linker.instantiate(importer, in: store), "a tag of another payload type")
        XCTAssertThrowsError(try Module(engine: Engine(Config(features: Features.all.subtracting(.exceptions))), wat: "(module (tag))")) { error in
            XCTAssertTrue("\(error)".contains("an exception tag needs a feature that is not enabled"), "\(error)")
        }
    }

    /// An exception no wasm code catches reaches the host as a `WasmException`
    /// with its tag (the instance's own object), its payload and its backtrace,
    /// through another instance's frames too; the store stays usable.
    func testAnUncaughtExceptionReachesTheHostWithItsTagAndPayload() throws {
        let store = Store(engine: engine)
        let thrower = try Linker().instantiate(Module(engine: engine, wat: """
            (module (tag $e (export "e") (param i32 f64))
              (func (export "boom") (param i32) (result i32)
                (if (local.get 0) (then (throw $e (local.get 0) (f64.const 0.5))))
                (i32.const 3)))
            """), in: store)
        var linker = Linker()
        linker.define("t", instance: thrower)
        let caller = try linker.instantiate(Module(engine: engine, wat: """
            (module (import "t" "boom" (func $boom (param i32) (result i32)))
              (func (export "twice") (param i32) (result i32) (i32.mul (call $boom (local.get 0)) (i32.const 2))))
            """), in: store)
        for _ in 0..<2 {
            XCTAssertThrowsError(try caller.invoke("twice", [.i32(41)])) { error in
                guard let exception = error as? WasmException else { return XCTFail("\(error)") }
                XCTAssertTrue(exception.tag === thrower.tag("e"))
                XCTAssertEqual(exception.values, [.i32(41), .f64(Double(0.5).bitPattern)])
                XCTAssertEqual(exception.backtrace.first?.function, 0)
            }
            XCTAssertEqual(try caller.invoke("twice", [.i32(0)]), [.i32(6)], "the store runs on after an uncaught exception")
        }
    }

    /// Issue 21: a host function throws a wasm exception (`WasmException(tag:values:)`)
    /// and wasm catches it by tag, with its payload, as if a `throw` had thrown it
    /// at the call; one it does not catch reaches the host as the same tag and
    /// values; an `exnref` the wasm code catches names the same exception when it
    /// is thrown again; a payload of the wrong types is refused at the host.
    func testAHostFunctionThrowsAnExceptionThatWasmCatches() throws {
        let store = Store(engine: engine)
        let failed = try XCTUnwrap(Tag(type: FunctionType(parameters: [.i32, .i64], results: [])))
        let other = try XCTUnwrap(Tag(type: FunctionType(parameters: [], results: [])))
        var linker = Linker()
        linker.define("host", "failed", .tag(failed))
        linker.defineFunction("host", "check", parameters: [.i32], results: [.i32]) { _, arguments in
            guard case .i32(let x) = arguments[0] else { return [] }
            if x == 1 { throw try WasmException(tag: failed, values: [.i32(x * 100), .i64(UInt64(bitPattern: -7))]) }
            if x == 2 { throw try WasmException(tag: other, values: []) }
            return [.i32(x + 1)]
        }
        let instance = try linker.instantiate(Module(engine: engine, wat: """
            (module
              (import "host" "failed" (tag $failed (param i32 i64)))
              (import "host" "check" (func $check (param i32) (result i32)))
              (func $inner (param i32) (result i32) (i32.mul (call $check (local.get 0)) (i32.const 3)))
              (func (export "guarded") (param i32) (result i64)
                (local $x i32) (local $y i64)
                (block $h (result i32 i64)
                  (try_table (result i32) (catch $failed $h) (call $inner (local.get 0)))
                  (return (i64.extend_i32_u)))
                (local.set $y) (local.set $x)
                (i64.add (i64.extend_i32_u (local.get $x)) (local.get $y)))
              (func (export "rethrows") (param i32) (result i32)
                (block $h (result exnref)
                  (try_table (result i32) (catch_all_ref $h) (call $check (local.get 0)))
                  (return))
                (throw_ref))
              (func $tail (param i32) (result i32)
                (block $h (try_table (catch_all $h) (return_call $check (local.get 0))))
                (i32.const -1))
              (func (export "tail") (param i32) (result i32)
                (block $o (try_table (catch_all $o) (return (call $tail (local.get 0)))))
                (i32.const -2)))
            """), in: store)
        // A tail call leaves its frame, clauses and all, even where the host makes
        // it as an ordinary call (found in review: the frame's own clause caught it).
        XCTAssertEqual(try instance.invoke("tail", [.i32(1)]), [.i32(UInt32(bitPattern: -2))])
        XCTAssertEqual(try instance.invoke("tail", [.i32(5)]), [.i32(6)])
        XCTAssertEqual(try instance.invoke("guarded", [.i32(5)]), [.i64(18)], "no exception: (5 + 1) * 3")
        XCTAssertEqual(try instance.invoke("guarded", [.i32(1)]), [.i64(93)], "caught: 100 + (-7)")
        for function in ["guarded", "rethrows"] {
            XCTAssertThrowsError(try instance.invoke(function, [.i32(2)]), function) { error in
                guard let exception = error as? WasmException else { return XCTFail("\(error)") }
                XCTAssertTrue(exception.tag === other, "uncaught, the host's own tag comes back")
            }
        }
        XCTAssertThrowsError(try instance.invoke("rethrows", [.i32(1)])) { error in
            guard let exception = error as? WasmException else { return XCTFail("\(error)") }
            XCTAssertTrue(exception.tag === failed)
            XCTAssertEqual(exception.values, [.i32(100), .i64(UInt64(bitPattern: -7))])
        }
        XCTAssertEqual(try instance.invoke("guarded", [.i32(7)]), [.i64(24)], "the store runs on")
        XCTAssertThrowsError(try WasmException(tag: failed, values: [.i32(1)]), "a payload short of the tag's types")
    }

    /// The code image depends on the module alone: the instances of one `Module`
    /// share it, even when made on several threads at once, and share nothing else
    /// (globals, memory, and the instance a table's function runs in are each
    /// their own).
    func testInstancesOfOneModuleShareItsCodeImageAndNothingElse() throws {
        let source = """
            (module
              (memory (export "memory") 1)
              (global $calls (export "calls") (mut i32) (i32.const 0))
              (table 1 funcref)
              (elem (i32.const 0) $bump)
              (type $unary (func (param i32) (result i32)))
              (func $bump (param i32) (result i32)
                (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
                (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (local.get 0)))
                (i32.load (i32.const 0)))
              (func (export "apply") (param i32) (result i32)
                (call_indirect (type $unary) (local.get 0) (i32.const 0))))
            """
        let module = try Module(engine: engine, wat: source)
        let first = try Linker().instantiate(module, in: Store(engine: engine))
        let second = try Linker().instantiate(module, in: Store(engine: engine))
        XCTAssertEqual(first.codeImageIdentity, second.codeImageIdentity)
        let apply = try first.function("apply")!.typed(parameters: Int32.self, results: Int32.self)
        let applySecond = try second.function("apply")!.typed(parameters: Int32.self, results: Int32.self)
        XCTAssertEqual(try apply(5), 5)
        XCTAssertEqual(try apply(6), 11)
        XCTAssertEqual(try applySecond(100), 100, "the second instance's memory is its own")
        XCTAssertEqual(first.global("calls")!.value, .i32(2))
        XCTAssertEqual(second.global("calls")!.value, .i32(1))
        XCTAssertEqual(try first.memory("memory")!.read(at: 0, count: 4), [11, 0, 0, 0])

        // Instantiated on several threads at once: one image, whoever built it first.
        nonisolated(unsafe) let identities = UnsafeMutableBufferPointer<ObjectIdentifier?>.allocate(capacity: 8)
        defer { identities.deallocate() }
        identities.initialize(repeating: nil)
        let fresh = try Module(engine: engine, wat: source), engine = self.engine
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            identities[i] = try? Linker().instantiate(fresh, in: Store(engine: engine)).codeImageIdentity
        }
        XCTAssertEqual(Set(identities.compactMap { $0 }).count, 1)
        XCTAssertEqual(identities.compactMap { $0 }.count, 8)

        // The lower API builds an image for its instance alone.
        let own = try Instance(module: module.compiled, store: Store(engine: engine), imports: [:])
        XCTAssertNotEqual(own.codeImageIdentity, first.codeImageIdentity)
        let ownApply = try own.function("apply")!.typed(parameters: Int32.self, results: Int32.self)
        XCTAssertEqual(try ownApply(7), 7)
    }

    /// A store, its instances and their memories are freed when the last handle
    /// to any of them goes (they kept each other alive before); a function taken
    /// from an instance keeps its store alive, and a function of another store
    /// cannot be imported.
    func testAStoreAndItsInstancesAreFreedWhenTheLastHandleGoes() throws {
        let source = """
            (module
              (memory (export "memory") 1)
              (table (export "table") 1 funcref)
              (elem (i32.const 0) $double)
              (func $double (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2))))
            """
        let module = try Module(engine: engine, wat: source)
        weak var store: Store?
        weak var memory: LinearMemory?
        do {
            let owned = Store(engine: engine)
            let instance = try Linker().instantiate(module, in: owned)
            var linker = Linker()
            linker.define("first", instance: instance)
            let second = try linker.instantiate(try Module(engine: engine, wat: """
                (module (import "first" "double" (func $double (param i32) (result i32)))
                        (func (export "quad") (param i32) (result i32) (call $double (call $double (local.get 0)))))
                """), in: owned)
            let quad = try second.function("quad")!.typed(parameters: Int32.self, results: Int32.self)
            XCTAssertEqual(try quad(3), 12)
            store = owned
            memory = instance.memory
        }
        XCTAssertNil(store, "the store outlived every handle")
        XCTAssertNil(memory, "the instance's memory outlived its store")

        let double: (Int32) throws -> Int32 = try {
            try Linker().instantiate(module, in: Store(engine: engine)).function("double")!.typed(parameters: Int32.self, results: Int32.self)
        }()
        XCTAssertEqual(try double(21), 42, "a function handle keeps its store alive")

        var linker = Linker()
        linker.define("first", instance: try Linker().instantiate(module, in: Store(engine: engine)))
        XCTAssertThrowsError(try linker.instantiate(try Module(engine: engine, wat: """
            (module (import "first" "double" (func (param i32) (result i32))))
            """), in: Store(engine: engine))) {
            XCTAssertEqual("\($0)", "first.double is a function of another store")
        }
    }

    /// Memories and tables a host makes for a module to import: limits that make no
    /// sense are refused, a huge maximum is clamped rather than trapped on, and the
    /// module sees what the host made.
    func testHostMadeMemoriesAndTablesAreCheckedNotTrusted() throws {
        XCTAssertNil(Memory(type: MemoryType(min: 2, max: 1)))
        XCTAssertNil(Memory(type: MemoryType(min: 70_000, max: nil)))
        XCTAssertNil(Table(type: TableType(elementType: .funcRef, limits: Limits(min: 20_000_000, max: nil))))
        XCTAssertNil(Table(type: TableType(elementType: .funcRef, limits: Limits(min: 3, max: 2))))
        let table = try XCTUnwrap(Table(type: TableType(elementType: .funcRef, limits: Limits(min: 1, max: UInt64.max))))
        XCTAssertEqual(table.count, 1)
        let memory = try XCTUnwrap(Memory(type: MemoryType(min: 1, max: 2)))
        try memory.write([42], at: 7)
        var linker = Linker()
        linker.define("host", "memory", .memory(memory))
        let instance = try linker.instantiate(try Module(engine: engine, wat: """
            (module (import "host" "memory" (memory 1 2))
                    (func (export "peek") (result i32) (i32.load8_u (i32.const 7))))
            """), in: Store(engine: engine))
        let peek = try instance.function("peek")!.typed(results: Int32.self)
        XCTAssertEqual(try peek(), 42)
    }

    #if InterpreterSIMD
    /// v128 values cross the API both ways: arguments, results (two slots each, between
    /// scalars), a host function's parameter and result, and globals.
    func testV128ValuesThroughCallsHostFunctionsAndGlobals() throws {
        let module = try Module(engine: engine, wat: """
            (module
              (import "host" "swap" (func $swap (param v128) (result v128)))
              (global (export "g") (mut v128) (v128.const i32x4 1 2 3 4))
              (func (export "mix") (param i32 v128 i64) (result i64 v128 i32)
                (local.get 2)
                (call $swap (i32x4.add (local.get 1) (global.get 0)))
                (local.get 0))
              (func (export "set") (param v128) (global.set 0 (local.get 0))))
            """)
        var linker = Linker()
        linker.defineFunction("host", "swap", parameters: [.v128], results: [.v128]) { _, arguments in
            guard case .v128(let low, let high) = arguments[0] else { return [] }
            return [.v128(low: high, high: low)]
        }
        let instance = try linker.instantiate(module, in: Store(engine: engine))
        XCTAssertEqual(instance.global("g")!.value, .v128(low: 0x0000_0002_0000_0001, high: 0x0000_0004_0000_0003))
        let results = try instance.function("mix")!.call([.i32(7), .v128(low: 0x0000_0010_0000_0020, high: 0x0000_0030_0000_0040), .i64(9)])
        // (0x20+1, 0x10+2, 0x40+3, 0x30+4), halves swapped by the host.
        XCTAssertEqual(results, [.i64(9), .v128(low: 0x0000_0034_0000_0043, high: 0x0000_0012_0000_0021), .i32(7)])
        _ = try instance.function("set")!.call([.v128(low: 5, high: 6)])
        XCTAssertEqual(instance.global("g")!.value, .v128(low: 5, high: 6))
        XCTAssertThrowsError(try instance.function("set")!.call([.i64(5)]), "a scalar is not a v128")
    }
    #else
    /// Without the `InterpreterSIMD` trait a module using SIMD is refused when compiled.
    func testSIMDModulesAreRefusedWithoutTheTrait() {
        XCTAssertThrowsError(try Module(engine: engine, wat: "(module (func (result i32) (i32x4.extract_lane 0 (v128.const i32x4 1 2 3 4))))")) {
            XCTAssertTrue("\($0)".contains("built without the InterpreterSIMD trait"), "\($0)")
        }
        XCTAssertThrowsError(try Module(engine: engine, wat: "(module (global v128 (v128.const i64x2 0 0)))")) {
            XCTAssertTrue("\($0)".contains("built without the InterpreterSIMD trait"), "\($0)")
        }
    }
    #endif

    func testMemoryGlobalsAndTables() throws {
        let module = try Module(engine: engine, wat: """
            (module
              (memory (export "memory") 1 3)
              (global (export "counter") (mut i32) (i32.const 7))
              (global (export "fixed") i64 (i64.const 9))
              (table (export "table") 2 10 funcref)
              (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))
            """)
        let instance = try Linker().instantiate(module, in: Store(engine: engine))
        let memory = instance.memory("memory")!
        try memory.write([1, 2, 3], at: 100)
        XCTAssertEqual(try memory.read(at: 99, count: 5), [0, 1, 2, 3, 0])
        let load = try instance.function("load")!.typed(parameters: Int32.self, results: Int32.self)
        XCTAssertEqual(try load(101), 2)
        XCTAssertThrowsError(try memory.read(at: 65535, count: 2))
        XCTAssertThrowsError(try memory.write([1], at: -1))
        memory.withUnsafeMutableBytes { bytes in
            XCTAssertEqual(bytes.count, 65536)
            bytes[200] = 77
        }
        XCTAssertEqual(try load(200), 77)
        XCTAssertEqual(memory.grow(by: 2), 1)
        XCTAssertNil(memory.grow(by: 1), "past the maximum")
        XCTAssertEqual(memory.pages, 3)

        let counter = instance.global("counter")!
        XCTAssertEqual(counter.value, .i32(7))
        try counter.set(.i32(8))
        XCTAssertEqual(counter.value, .i32(8))
        XCTAssertThrowsError(try counter.set(.i64(8)))
        XCTAssertThrowsError(try instance.global("fixed")!.set(.i64(1)))

        let table = instance.table("table")!
        XCTAssertEqual(table.count, 2)
        XCTAssertTrue(try table.isNull(at: 1))
        XCTAssertThrowsError(try table.isNull(at: 2))
        XCTAssertEqual(table.grow(by: 3), 2)
        XCTAssertEqual(table.count, 5)
    }

    /// What a host makes for a module through the API alone: a global (checked
    /// against its type), a function; and what the API tells of a module: why it
    /// failed to compile, its artifact's target, its bytecode as text.
    func testHostMadeGlobalsFunctionsAndWhatTheAPITellsOfAModule() throws {
        XCTAssertThrowsError(try Global(type: GlobalType(mutability: .constant, valueType: .i32), value: .i64(1)))
        let base = try Global(type: GlobalType(mutability: .variable, valueType: .i32), value: .i32(40))
        var linker = Linker()
        linker.define("host", "base", .global(base))
        linker.define("host", "two", .function(Function(type: FunctionType(parameters: [], results: [.i32])) { _, _ in [.i32(2)] }))
        let engine = Engine()
        let module = try Module(engine: engine, wat: """
            (module (import "host" "base" (global $base (mut i32))) (import "host" "two" (func $two (result i32)))
              (func (export "answer") (result i32) (i32.add (global.get $base) (call $two))))
            """)
        let answer = try linker.instantiate(module, in: Store(engine: engine)).function("answer")!.typed(results: Int32.self)
        XCTAssertEqual(try answer(), 42)
        try base.set(.i32(0))
        XCTAssertEqual(try answer(), 2, "the module reads the host's global, not a copy")

        XCTAssertThrowsError(try Module(engine: engine, bytes: [0, 0x61, 0x73, 0x6d, 2, 0, 0, 0])) {
            XCTAssertEqual(($0 as? ModuleError)?.kind, .malformed)
        }
        XCTAssertThrowsError(try Module(engine: engine, wat: "(module (func (result i32) (i64.const 0)))")) {
            XCTAssertEqual(($0 as? ModuleError)?.kind, .invalid)
        }
        XCTAssertFalse(Module.isArtifact(try wat2wasm("(module)")))
        for target in Target.allCases {
            let artifact = try Module(engine: Engine(Config(target: target)), wat: "(module (func (export \"f\")))").serialize()
            XCTAssertTrue(Module.isArtifact(artifact))
            XCTAssertEqual(Module.artifactTarget(artifact), target)
            let loaded = try Module(engine: Engine(Config(target: target)), deserializing: artifact)
            XCTAssertEqual(loaded.target, target)
            XCTAssertEqual(loaded.definedFunctionCount, 1)
            XCTAssertEqual(try loaded.disassembly(function: "f")?.contains("\npush_frame 0\nret\n"), true, (try? loaded.disassembly()) ?? "")
            XCTAssertNil(try loaded.disassembly(function: "g"))
        }
    }

    func testOneInstanceExportsToAnotherThroughTheLinker() throws {
        let library = try Module(engine: engine, wat: """
            (module (func (export "inc") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))
            """)
        let client = try Module(engine: engine, wat: """
            (module (import "lib" "inc" (func $inc (param i32) (result i32)))
              (func (export "plus_two") (param i32) (result i32) (call $inc (call $inc (local.get 0)))))
            """)
        let store = Store(engine: engine)
        var linker = Linker()
        linker.define("lib", instance: try linker.instantiate(library, in: store))
        let instance = try linker.instantiate(client, in: store)
        let plus_two = try instance.function("plus_two")!.typed(parameters: Int32.self, results: Int32.self)
        XCTAssertEqual(try plus_two(40), 42)
    }

    func testWASIThroughTheLinker() throws {
        var linker = Linker()
        linker.defineWASI(try WASIHost(args: ["x"]))
        let module = try Module(engine: engine, wat: """
            (module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory 1) (func (export "_start") (call $exit (i32.const 9))))
            """)
        let instance = try linker.instantiate(module, in: Store(engine: engine))
        XCTAssertThrowsError(try instance.function("_start")!.call([])) { error in
            XCTAssertEqual((error as? WASIExit)?.code, 9)
        }
    }
}

final class EmbeddingLimitsTests: XCTestCase {
    func testRecursionIsBoundedByTheConfiguredStack() throws {
        let engine = Engine(Config(stackSize: 16 * 1024))
        let module = try Module(engine: engine, wat: "(module (func $f (export \"f\") (param i32) (result i32) (call $f (local.get 0))))")
        let instance = try Linker().instantiate(module, in: Store(engine: engine))
        XCTAssertThrowsError(try instance.function("f")!.call([.i32(1)])) { error in
            XCTAssertEqual((error as? Trap)?.message, "call stack exhausted")
        }
    }

    func testMemoryLimit() throws {
        let engine = Engine(Config(maximumMemoryPages: 4))
        let grow = try Module(engine: engine, wat: "(module (memory 2) (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0))))")
        let instance = try Linker().instantiate(grow, in: Store(engine: engine))
        XCTAssertEqual(try instance.function("grow")!.call([.i32(2)]), [.i32(2)])
        XCTAssertEqual(try instance.function("grow")!.call([.i32(1)]), [.i32(UInt32.max)], "past the store's limit")
        let big = try Module(engine: engine, wat: "(module (memory 5))")
        XCTAssertThrowsError(try Linker().instantiate(big, in: Store(engine: engine)))
        // A store that allows more than 4 GiB: a 32-bit memory still stops at 65,536
        // pages (found in review: the store's limit alone bounded it), a 64-bit one not.
        let roomy = Engine(Config(maximumMemoryPages: 70_000))
        let both = try Module(engine: roomy, wat: """
            (module (memory $a 65535) (memory $b i64 65535)
              (func (export "grow32") (param i32) (result i32) (memory.grow $a (local.get 0)))
              (func (export "grow64") (param i64) (result i64) (memory.grow $b (local.get 0))))
            """)
        let wide = try Linker().instantiate(both, in: Store(engine: roomy))
        XCTAssertEqual(try wide.invoke("grow32", [.i32(2)]), [.i32(UInt32.max)])
        XCTAssertEqual(try wide.invoke("grow32", [.i32(1)]), [.i32(65535)])
        XCTAssertEqual(try wide.invoke("grow64", [.i64(2)]), [.i64(65535)])
        XCTAssertEqual(try wide.invoke("grow64", [.i64(70_000)]), [.i64(UInt64.max)], "past the store's limit")
    }

    /// Found in session 14: a chain of calls between two instances (each hop a
    /// nested run of the loop on the host thread) 9,500 deep overflowed the
    /// thread's native stack and crashed the process, whatever the VM stack's
    /// size. Now a nested call that would leave under 256 KiB of native stack
    /// traps "call stack exhausted", and the store goes on.
    func testDeepCallsBetweenInstancesTrapInsteadOfOverflowingTheNativeStack() throws {
        let engine = Engine(Config(stackSize: 256 << 20))
        let store = Store(engine: engine)
        var linker = Linker()
        linker.define("pong", instance: try linker.instantiate(try Module(engine: engine, wat: """
            (module
              (table (export "t") 1 funcref)
              (type $ft (func (param i32) (result i32)))
              (func (export "g") (param i32) (result i32)
                (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 8))
                  (else (call_indirect (type $ft) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0))))))
            """), in: store))
        let ping = try linker.instantiate(try Module(engine: engine, wat: """
            (module
              (import "pong" "g" (func $g (param i32) (result i32)))
              (import "pong" "t" (table $t 1 funcref))
              (elem (table $t) (i32.const 0) func $f)
              (func $f (export "f") (param i32) (result i32)
                (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 7))
                  (else (call $g (i32.sub (local.get 0) (i32.const 1)))))))
            """), in: store)
        XCTAssertEqual(try ping.invoke("f", [.i32(100)]), [.i32(7)])
        XCTAssertThrowsError(try ping.invoke("f", [.i32(1_000_000)])) { error in
            XCTAssertEqual((error as? Trap)?.message, "call stack exhausted")
        }
        XCTAssertEqual(try ping.invoke("f", [.i32(101)]), [.i32(8)], "the store runs on after the trap")
    }

    /// Issue 19: a store's resource limiter (Wasmtime's `ResourceLimiter`,
    /// `StoreLimits`) bounds what its instances' memories and tables are made
    /// with and grow to, on both loops, and one set later applies too.
    func testAStoresResourceLimiterBoundsMemoriesAndTables() throws {
        for dispatch in Config.Dispatch.tailLoopIsSafe ? [Config.Dispatch.match, .tail] : [.match] {
            let engine = Engine(Config(dispatch: dispatch))
            let module = try Module(engine: engine, wat: """
                (module (memory (export "memory") 1) (table 2 funcref)
                  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
                  (func (export "tgrow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))
                """)
            let store = Store(engine: engine)
            store.limiter = StoreLimits(memorySize: 3 * 65536, tableElements: 5)
            let instance = try Linker().instantiate(module, in: store)
            let grow = try instance.function("grow")!.typed(parameters: Int32.self, results: Int32.self)
            let tgrow = try instance.function("tgrow")!.typed(parameters: Int32.self, results: Int32.self)
            XCTAssertEqual(try grow(2), 1)
            XCTAssertEqual(try grow(1), -1, "past the limiter's 3 pages")
            XCTAssertEqual(instance.memory("memory")!.grow(by: 1), nil, "the host's growth is asked too")
            XCTAssertEqual(instance.memory("memory")!.pages, 3)
            XCTAssertEqual(try tgrow(3), 2)
            XCTAssertEqual(try tgrow(1), -1, "past the limiter's 5 entries")
            // Made past the limits: refused at instantiation, with the reason.
            let big = try Module(engine: engine, wat: "(module (memory 4))")
            XCTAssertThrowsError(try Linker().instantiate(big, in: store)) {
                XCTAssertEqual("\($0)", "the store's resource limiter refused a memory of 4 pages")
            }
            let wide = try Module(engine: engine, wat: "(module (table 6 funcref))")
            XCTAssertThrowsError(try Linker().instantiate(wide, in: store)) {
                XCTAssertEqual("\($0)", "the store's resource limiter refused a table of 6 entries")
            }
            // A limiter of the host's own, set after instantiation: asked with
            // the sizes and the declared maximum (nil when there is none).
            final class Recorder: ResourceLimiter {
                var asked: [String] = []
                func memoryGrowing(current: Int, desired: Int, maximum: Int?) -> Bool {
                    asked.append("memory \(current) -> \(desired) of \(maximum.map(String.init) ?? "none")")
                    return desired <= 4 * 65536
                }
                func tableGrowing(current: Int, desired: Int, maximum: Int?) -> Bool {
                    asked.append("table \(current) -> \(desired) of \(maximum.map(String.init) ?? "none")")
                    return true
                }
            }
            let recorder = Recorder()
            store.limiter = recorder
            XCTAssertEqual(try grow(1), 3)
            XCTAssertEqual(try grow(1), -1)
            XCTAssertEqual(try tgrow(10), 5)
            let bounded = try Module(engine: engine, wat: "(module (memory 1 2))")
            _ = try Linker().instantiate(bounded, in: store)
            XCTAssertEqual(recorder.asked, ["memory 196608 -> 262144 of none", "memory 262144 -> 327680 of none",
                                            "table 5 -> 15 of none", "memory 0 -> 65536 of 131072"])
        }
    }

    func testOtherTargetsCompileButAreRefusedForRunning() throws {
        for other in Target.allCases where other != .host {
            let engine = Engine(Config(target: other))
            let module = try Module(engine: engine, wat: "(module (func (export \"f\")))")
            XCTAssertThrowsError(try Linker().instantiate(module, in: Store(engine: engine))) {
                XCTAssertEqual("\($0)", "the module was compiled for \(other.rawValue), but this machine runs \(Target.host.rawValue)")
            }
            XCTAssertThrowsError(try Module(engine: Engine(), deserializing: module.serialize())) {
                XCTAssertEqual(($0 as? ModuleError)?.kind, .wrongTarget)
            }
        }
    }

    func testATrapInsideAHostCallInsideWasmInsideAHostCall() throws {
        // Swift -> wasm "outer" -> host "reenter" -> wasm "inner" -> division by zero.
        let engine = Engine()
        let store = Store(engine: engine)
        let module = try Module(engine: engine, wat: """
            (module
              (import "host" "reenter" (func $reenter (param i32) (result i32)))
              (func (export "outer") (param i32) (result i32) (call $reenter (local.get 0)))
              (func (export "inner") (param i32) (result i32) (i32.div_u (i32.const 100) (local.get 0))))
            """)
        var innerFunction: Function?
        var linker = Linker()
        linker.defineFunction("host", "reenter") { (x: Int32) -> Int32 in
            Int32(try innerFunction!.call([x.value])[0])
        }
        let instance = try linker.instantiate(module, in: store)
        innerFunction = instance.function("inner")
        let outer = try instance.function("outer")!.typed(parameters: Int32.self, results: Int32.self)
        XCTAssertEqual(try outer(4), 25)
        XCTAssertThrowsError(try outer(0)) { error in
            XCTAssertEqual((error as? Trap)?.code, .integerDivisionByZero)
        }
        XCTAssertEqual(try outer(5), 20, "the store is usable after the trap")
    }
}
