;; Written by hand for issue 20 (multi-memory, memory64); the whole script
;; passes `wasmtime wast -W memory64=y,multi-memory=y` (Wasmtime 49.0.3).

;; One memory imported under two indices: growing it through one index must be
;; seen through the other (the interpreter caches each memory's size).
(module $exporter
  (memory (export "mem") 1 4))
(register "exporter" $exporter)
(module
  (import "exporter" "mem" (memory $a 1 4))
  (import "exporter" "mem" (memory $b 1 4))
  (func (export "grow_b_then_use_a") (result i32)
    (drop (memory.grow $b (i32.const 2)))
    (i32.store $a (i32.const 0x2fffc) (i32.const 0x12345678))
    (i32.add (i32.load $b (i32.const 0x2fffc)) (memory.size $a)))
  (func (export "size_a") (result i32) (memory.size $a)))
(assert_return (invoke "grow_b_then_use_a") (i32.const 0x1234567b))
(assert_return (invoke "size_a") (i32.const 3))

;; memory64: the effective address is computed in 64 bits and never wraps.
(module
  (memory i64 1)
  (func (export "load_at") (param i64) (result i64) (i64.load offset=16 (local.get 0)))
  (func (export "store_at") (param i64) (i64.store8 offset=0xffffffffffff0000 (local.get 0) (i64.const 7)))
  (func (export "last") (result i64) (i64.store (i64.const 0xfff8) (i64.const -2)) (i64.load (i64.const 0xfff8)))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "size") (result i64) (memory.size)))
(assert_trap (invoke "load_at" (i64.const -8)) "out of bounds memory access")
(assert_trap (invoke "load_at" (i64.const 0xfff0)) "out of bounds memory access")
(assert_return (invoke "load_at" (i64.const 0xffe0)) (i64.const 0))
(assert_trap (invoke "store_at" (i64.const 0x10000)) "out of bounds memory access")
(assert_trap (invoke "store_at" (i64.const -0xffff0000)) "out of bounds memory access")
(assert_return (invoke "last") (i64.const -2))
(assert_return (invoke "grow" (i64.const 0x100000000)) (i64.const -1))
(assert_return (invoke "grow" (i64.const -1)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 1)) (i64.const 1))
(assert_return (invoke "size") (i64.const 2))

;; A 32-bit memory other than memory 0 fails to grow with an i32 -1; a 64-bit
;; table with an i64 -1.
(module
  (memory 1)
  (memory $small 1 2)
  (table $t64 i64 1 2 funcref)
  (table $t32 1 2 funcref)
  (func (export "grow_small") (param i32) (result i32) (memory.grow $small (local.get 0)))
  (func (export "grow_t64") (param i64) (result i64) (table.grow $t64 (ref.null func) (local.get 0)))
  (func (export "grow_t32") (param i32) (result i32) (table.grow $t32 (ref.null func) (local.get 0)))
  (func (export "size_t64") (result i64) (table.size $t64)))
(assert_return (invoke "grow_small" (i32.const 5)) (i32.const -1))
(assert_return (invoke "grow_small" (i32.const 1)) (i32.const 1))
(assert_return (invoke "grow_t64" (i64.const 0x100000001)) (i64.const -1))
(assert_return (invoke "grow_t64" (i64.const 1)) (i64.const 1))
(assert_return (invoke "size_t64") (i64.const 2))
(assert_return (invoke "grow_t32" (i32.const 2)) (i32.const -1))

;; Bulk ops between a 32-bit and a 64-bit memory (the count is then an i32).
(module
  (memory $m32 1)
  (memory $m64 i64 1)
  (data (memory $m64) (i64.const 0xfffc) "\01\02\03\04")
  (func (export "copy_64_to_32") (param i32 i64 i32) (memory.copy $m32 $m64 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill_64") (param i64 i32 i64) (memory.fill $m64 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load32") (param i32) (result i32) (i32.load $m32 (local.get 0)))
  (func (export "load64") (param i64) (result i32) (i32.load $m64 (local.get 0))))
(assert_return (invoke "copy_64_to_32" (i32.const 8) (i64.const 0xfffc) (i32.const 4)))
(assert_return (invoke "load32" (i32.const 8)) (i32.const 0x04030201))
(assert_trap (invoke "copy_64_to_32" (i32.const 8) (i64.const 0xfffd) (i32.const 4)) "out of bounds memory access")
(assert_trap (invoke "fill_64" (i64.const -1) (i32.const 0) (i64.const 2)) "out of bounds memory access")
(assert_trap (invoke "fill_64" (i64.const 1) (i32.const 0) (i64.const -1)) "out of bounds memory access")
(assert_return (invoke "fill_64" (i64.const 0xfffe) (i32.const 0xaa) (i64.const 2)))
(assert_return (invoke "load64" (i64.const 0xfffc)) (i32.const 0xaaaa0201))

;; `module definition` and `module instance` (the wast-instance-commands group's
;; directives, without its exception tag): each instance has its own memory.
(module definition $M
  (memory (export "mem") 1)
  (func (export "bump") (result i32)
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (i32.load (i32.const 0))))
(module instance $I1 $M)
(module instance $I2 $M)
(register "I1" $I1)
(register "I2" $I2)
(assert_return (invoke $I1 "bump") (i32.const 1))
(assert_return (invoke $I1 "bump") (i32.const 2))
(assert_return (invoke $I2 "bump") (i32.const 1))
(module
  (import "I1" "mem" (memory $m1 1))
  (import "I2" "mem" (memory $m2 1))
  (func (export "both") (result i32) (i32.add (i32.load $m1 (i32.const 0)) (i32.mul (i32.load $m2 (i32.const 0)) (i32.const 10)))))
(assert_return (invoke "both") (i32.const 12))
