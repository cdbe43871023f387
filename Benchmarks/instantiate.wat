;; A small module for the instantiation benchmark (Benchmarks/CompileTime,
;; `instantiate`; Benchmarks/instantiate.py for Wasmtime): a few functions, one
;; memory with a data segment, a mutable global, a table with two entries.
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "instantiated, again and again")
  (global $calls (mut i32) (i32.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $add $fib)
  (type $binary (func (param i32 i32) (result i32)))
  (func $add (export "add") (param i32 i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.add (local.get 0) (local.get 1)))
  (func $fib (export "fib") (param i32 i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)) (i32.const 0))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)) (i32.const 0))))))
  (func $sum (export "sum") (param $from i32) (param $count i32) (result i32)
    (local $total i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $count)))
        (local.set $total (i32.add (local.get $total) (i32.load8_u (local.get $from))))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $next)))
    (local.get $total))
  (func (export "apply") (param i32 i32 i32) (result i32)
    (call_indirect (type $binary) (local.get 1) (local.get 2) (local.get 0))))
