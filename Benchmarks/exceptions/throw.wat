;; What a caught exception costs (issue 21): `run N DEPTH` throws N exceptions,
;; each from DEPTH calls below the try_table that catches it, and returns the
;; sum of their payloads. `plain N DEPTH` makes the same calls and returns the
;; same sum without throwing: the difference is the throw, the search and the landing.
(module
  (tag $found (param i32))
  (func $down (param $n i32) (param $depth i32) (result i32)
    (if (i32.eqz (local.get $depth)) (then (throw $found (local.get $n))))
    (i32.add (call $down (local.get $n) (i32.sub (local.get $depth) (i32.const 1))) (i32.const 0)))
  (func $flat (param $n i32) (param $depth i32) (result i32)
    (if (result i32) (i32.eqz (local.get $depth)) (then (local.get $n))
      (else (i32.add (call $flat (local.get $n) (i32.sub (local.get $depth) (i32.const 1))) (i32.const 0)))))
  (func (export "run") (param $n i32) (param $depth i32) (result i32)
    (local $sum i32)
    (loop $next
      (block $h (result i32)
        (try_table (result i32) (catch $found $h) (call $down (local.get $n) (local.get $depth))))
      (local.set $sum (i32.add (local.get $sum)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum))
  (func (export "plain") (param $n i32) (param $depth i32) (result i32)
    (local $sum i32)
    (loop $next
      (local.set $sum (i32.add (local.get $sum) (call $flat (local.get $n) (local.get $depth))))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum)))
