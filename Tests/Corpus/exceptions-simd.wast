;; Written by hand for issue 21: a v128 in an exception's payload (two slots),
;; caught with its neighbour; apart from exceptions.wast because a build without
;; SIMD refuses it. The script passes `wasmtime wast` (Wasmtime 49.0.3).
(module
  (tag $v (param v128 i32))
  (func $throw (param i32) (throw $v (v128.const i64x2 0x1111 0x2222) (local.get 0)))
  (func (export "vector") (param i32) (result i64)
    (local $x i32) (local $w v128)
    (block $h (result v128 i32)
      (try_table (catch $v $h) (call $throw (local.get 0)))
      (unreachable))
    (local.set $x) (local.set $w)
    (i64.add (i64x2.extract_lane 1 (local.get $w)) (i64.extend_i32_u (local.get $x))))
  (func (export "ref") (param i32) (result i64)
    (local $x i32) (local $w v128)
    (block $h (result v128 i32 exnref)
      (try_table (catch_ref $v $h) (call $throw (local.get 0)))
      (unreachable))
    (drop) (local.set $x) (local.set $w)
    (i64.add (i64x2.extract_lane 0 (local.get $w)) (i64.extend_i32_u (local.get $x)))))
(assert_return (invoke "vector" (i32.const 9)) (i64.const 8747))
(assert_return (invoke "ref" (i32.const 1)) (i64.const 4370))
