// Embedding Sheave in a Swift program: a module that imports a host function,
// called through a typed export. Run it with `swift run embedding-example`.
import Sheave

let wat = """
    (module
      (import "host" "log" (func $log (param i32)))
      (import "host" "scale" (func $scale (param i32) (result i32)))
      (func (export "sum_scaled") (param $n i32) (result i32) (local $i i32) (local $sum i32)
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $sum (i32.add (local.get $sum) (call $scale (local.get $i))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (call $log (local.get $sum))
        (local.get $sum)))
    """

let engine = Engine()
let module = try Module(engine: engine, wat: wat)
var linker = Linker()
linker.defineFunction("host", "log") { (value: Int32) in print("wasm says: \(value)") }
linker.defineFunction("host", "scale") { (value: Int32) -> Int32 in value * 10 }
let store = Store(engine: engine)
let instance = try linker.instantiate(module, in: store)
let sumScaled = try instance.function("sum_scaled")!.typed(parameters: Int32.self, results: Int32.self)
print("sum_scaled(5) = \(try sumScaled(5))")
