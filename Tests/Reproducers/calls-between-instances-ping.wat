;; Session 14: with calls-between-instances-pong.wat (sheave run --preload pong=… --invoke f … 1000000),
;; a chain of calls between two instances, each a nested run of the loop on the host
;; thread: 9,500 deep it overflowed the native stack and crashed. Now it traps.
(module
  (import "pong" "g" (func $g (param i32) (result i32)))
  (import "pong" "t" (table $t 1 funcref))
  (elem (table $t) (i32.const 0) func $f)
  (func $f (export "f") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 7)) (else (call $g (i32.sub (local.get 0) (i32.const 1)))))))
