;; The other half of calls-between-instances-ping.wat: its table holds ping's f.
(module
  (table (export "t") 1 funcref)
  (type $ft (func (param i32) (result i32)))
  (func (export "g") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 8))
      (else (call_indirect (type $ft) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0))))))
