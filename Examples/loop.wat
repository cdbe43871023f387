;; A tight loop: swift run -c release sheave run --invoke sum Examples/loop.wat 100000000
(module
  (func (export "sum") (param $n i32) (result i64) (local $i i32) (local $acc i64)
    (loop $next
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)))
