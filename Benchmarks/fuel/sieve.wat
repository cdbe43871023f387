;; Sieve of Eratosthenes over n bytes of memory, repeated r times; returns the primes below n.
(module
  (memory 16)
  (func (export "sieve") (param $n i32) (param $r i32) (result i32) (local $i i32) (local $j i32) (local $count i32)
    (loop $round
      (memory.fill (i32.const 0) (i32.const 1) (local.get $n))
      (local.set $count (i32.const 0))
      (local.set $i (i32.const 2))
      (block $done
        (loop $outer
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (if (i32.load8_u (local.get $i))
            (then
              (local.set $count (i32.add (local.get $count) (i32.const 1)))
              (local.set $j (i32.mul (local.get $i) (local.get $i)))
              (block $inner_done
                (loop $inner
                  (br_if $inner_done (i32.ge_u (local.get $j) (local.get $n)))
                  (i32.store8 (local.get $j) (i32.const 0))
                  (local.set $j (i32.add (local.get $j) (local.get $i)))
                  (br $inner)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $outer)))
      (local.set $r (i32.sub (local.get $r) (i32.const 1)))
      (br_if $round (i32.gt_u (local.get $r) (i32.const 0))))
    (local.get $count)))
