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

;; Catching (issue 21): a handler in wasm, in this frame or in a caller's, in
;; this instance or another; payloads of several types (a v128 one: exceptions-simd.wast); exnrefs passed between
;; instances and thrown again; landings at a loop's head and at the function's end.
(module $catcher
  (import "thrower" "deep" (func $deep (param i32) (result i32)))
  (import "thrower" "e" (tag $e (param i32 i64 f64)))
  (import "thrower" "empty" (tag $empty))
  (tag $pair (param i32 i64))
  (tag $count (param i32))

  ;; Thrown in another instance, caught here with its payload.
  (func (export "across") (param i32) (result f64)
    (local $a i32) (local $b i64) (local $c f64)
    (block $h (result i32 i64 f64)
      (try_table (result f64) (catch $e $h)
        (f64.convert_i32_s (call $deep (local.get 0))))
      (return))
    (local.set $c) (local.set $b) (local.set $a)
    (f64.add (local.get $c) (f64.add (f64.convert_i64_s (local.get $b)) (f64.convert_i32_s (local.get $a)))))

  ;; Thrown 200 frames down, caught at the top; the stack is whole afterwards.
  (func $down (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then (throw $count (i32.const 77))))
    (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "recurse") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $count $h) (call $down (local.get 0)))
      (return))
    (i32.add (call $down2 (i32.const 50))))
  (func $down2 (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1000))
      (else (i32.add (call $down2 (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))

  ;; The landing branches to a loop's head: thrown five times, caught each time.
  (func (export "retry") (result i32)
    (local $n i32)
    (loop $again
      (block $h
        (try_table (catch_all $h)
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (if (i32.lt_u (local.get $n) (i32.const 5)) (then (throw $count (local.get $n)))))
        (return (i32.mul (local.get $n) (i32.const 10))))
      (br $again))
    (unreachable))

  ;; The clause's label is the function's: its values are the results.
  (func (export "to-function") (param i32) (result i32 i64)
    (try_table (catch $pair 0)
      (if (local.get 0) (then (throw $pair (i32.const 5) (i64.const -6)))))
    (i32.const 1) (i64.const 2))

  ;; Constants read in a loop (the frame's constant pool) around a catch.
  (func (export "pooled") (param i32) (result i32)
    (local $sum i32) (local $i i32)
    (loop $l
      (block $h (result i32)
        (try_table (result i32) (catch $count $h)
          (if (i32.eq (i32.and (local.get $i) (i32.const 3)) (i32.const 3))
            (then (throw $count (i32.mul (local.get $i) (i32.const 1000)))))
          (i32.add (local.get $i) (i32.const 7))))
      (local.set $sum (i32.add (local.get $sum)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
    (local.get $sum))

  ;; catch_all_ref, then the exnref thrown again: caught by tag in the caller.
  (func $wrap (param i32) (result i32)
    (block $h (result exnref)
      (try_table (result i32) (catch_all_ref $h) (call $deep (local.get 0)))
      (return))
    (throw_ref))
  (func (export "rethrown") (param i32) (result i32)
    (block $h (result i32 i64 f64)
      (try_table (result i32) (catch $e $h) (call $wrap (local.get 0)))
      (return))
    (drop) (drop))
  (func (export "get-exn") (result exnref)
    (local $x exnref)
    (block $h (result i32 i64 exnref)
      (try_table (catch_ref $pair $h) (throw $pair (i32.const 3) (i64.const 4)))
      (unreachable))
    (local.set $x) (drop) (drop) (local.get $x))
  ;; Through a table and a function reference.
  (type $t (func (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $down)
  (elem declare func $down)
  (func (export "indirect") (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $count $h) (call_indirect (type $t) (i32.const 3) (i32.const 0)))
      (return))
    (i32.add (i32.const 1))
    (block $h2 (result i32)
      (try_table (result i32) (catch $count $h2) (call_ref $t (i32.const 2) (ref.func $down)))
      (return))
    (i32.add))
  ;; A catch_all that does not see a trap.
  (func (export "trap-passes") (result i32)
    (block $h
      (try_table (catch_all $h) (drop (i32.div_u (i32.const 1) (i32.const 0))))
      (return (i32.const 1)))
    (i32.const 2))
)
(register "catcher" $catcher)

(assert_return (invoke "across" (i32.const 40)) (f64.const 37.5))
(assert_return (invoke "recurse" (i32.const 200)) (i32.const 1127))
(assert_return (invoke "retry") (i32.const 50))
(assert_return (invoke "to-function" (i32.const 1)) (i32.const 5) (i64.const -6))
(assert_return (invoke "to-function" (i32.const 0)) (i32.const 1) (i64.const 2))
(assert_return (invoke "pooled" (i32.const 10)) (i32.const 10091))
(assert_return (invoke "rethrown" (i32.const 8)) (i32.const 8))
(assert_return (invoke "indirect") (i32.const 155))
(assert_trap (invoke "trap-passes") "integer divide by zero")

;; An exnref made by one instance, thrown again by another and caught by tag there.
(module
  (import "catcher" "get-exn" (func $get (result exnref)))
  (import "thrower" "empty" (tag $empty))
  (func (export "foreign-exn") (result i32)
    (block $h (result exnref)
      (try_table (result exnref) (catch_all_ref $h) (throw_ref (call $get)))
      (unreachable))
    (drop) (i32.const 12))
  (func (export "foreign-exn-uncaught") (block $h (try_table (catch $empty $h) (throw_ref (call $get)))))
  (func (export "null-exn") (throw_ref (ref.null exn))))
(assert_return (invoke "foreign-exn") (i32.const 12))
(assert_exception (invoke "foreign-exn-uncaught"))
(assert_trap (invoke "null-exn") "null exception reference")

;; A tail call the host makes as an ordinary call (its callee is another
;; instance's): an exception the callee throws is not caught by the calling
;; frame's own clauses, which a tail call leaves, but by its caller's. (Found in review.)
(module
  (import "thrower" "deep" (func $deep (param i32) (result i32)))
  (func $inner (export "inner") (param i32) (result i32)
    (block $h (try_table (catch_all $h) (return_call $deep (local.get 0))))
    (i32.const 1))
  (func (export "tail-in-try") (param i32) (result i32)
    (block $o (try_table (catch_all $o) (return (call $inner (local.get 0)))))
    (i32.const 2)))
(assert_return (invoke "tail-in-try" (i32.const 5)) (i32.const 2))
(assert_exception (invoke "inner" (i32.const 5)))
