;; Written by hand for issue 20: tail calls between instances run in constant
;; stack space (a million hops would otherwise exhaust the stack); the whole
;; script passes `wasmtime wast` (Wasmtime 49.0.3).

(module $A
  (type $t (func (param i64) (result i32)))
  (table (export "table") 1 funcref)
  (func $even (export "even") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 1))
      (else (return_call_indirect (type $t) (i64.sub (local.get 0) (i64.const 1)) (i32.const 0)))))
  ;; Entered by a call, not from the host: the first hop nests once, the rest do not.
  (func (export "even_via_call") (param i64) (result i32) (i32.add (call $even (local.get 0)) (i32.const 10))))
(register "A" $A)

(module $B
  (type $t (func (param i64) (result i32)))
  (import "A" "table" (table 1 funcref))
  (import "A" "even" (func $even (type $t)))
  (elem (i32.const 0) func $odd)
  (func $odd (export "odd") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 0))
      (else (return_call $even (i64.sub (local.get 0) (i64.const 1))))))
  (func $ref (export "odd_by_ref") (param i64) (result i32)
    (return_call_ref $t (local.get 0) (ref.func $odd)))
  (elem declare func $odd))

(assert_return (invoke $A "even" (i64.const 1000000)) (i32.const 1))
(assert_return (invoke $A "even" (i64.const 1000001)) (i32.const 0))
(assert_return (invoke $B "odd" (i64.const 1000001)) (i32.const 1))
(assert_return (invoke $A "even_via_call" (i64.const 1000000)) (i32.const 11))
(assert_return (invoke $B "odd_by_ref" (i64.const 999999)) (i32.const 1))

;; A tail call to a host function from the entry frame, and from deeper.
(module
  (import "spectest" "print_i32" (func $print (param i32)))
  (func $tail (export "tail") (param i32) (return_call $print (local.get 0)))
  (func (export "deeper") (param i32) (call $tail (local.get 0))))
(assert_return (invoke "tail" (i32.const 7)))
(assert_return (invoke "deeper" (i32.const 8)))
