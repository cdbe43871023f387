;; Written by hand for issue 21's first steps (tags, throw, uncaught exceptions);
;; the whole script passes `wasmtime wast` (Wasmtime 49.0.3).

(module $thrower
  (tag $e (export "e") (param i32 i64 f64))
  (tag $empty (export "empty"))
  (func $inner (param i32) (throw $e (local.get 0) (i64.const -5) (f64.const 2.5)))
  (func (export "deep") (param i32) (result i32) (call $inner (local.get 0)) (i32.const 9))
  (func (export "maybe") (param i32) (result i32)
    (if (local.get 0) (then (throw $empty)))
    (i32.const 7)))
(register "thrower" $thrower)

(assert_exception (invoke "deep" (i32.const 42)))
(assert_exception (invoke "maybe" (i32.const 1)))
(assert_return (invoke "maybe" (i32.const 0)) (i32.const 7))

;; An exception thrown in another instance passes through this one's frames.
(module
  (import "thrower" "deep" (func $deep (param i32) (result i32)))
  (import "thrower" "e" (tag $e (param i32 i64 f64)))
  (func (export "through") (param i32) (result i32) (i32.add (call $deep (local.get 0)) (i32.const 1)))
  (func (export "own") (throw $e (i32.const 1) (i64.const 2) (f64.const 3))))
(assert_exception (invoke "through" (i32.const 3)))
(assert_exception (invoke "own"))

(assert_invalid (module (tag $t (param i32)) (func (throw $t))) "type mismatch")
(assert_invalid (module (func (throw 0))) "unknown tag")
