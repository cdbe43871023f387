;; Issue 18.4: memory.grow by 65,535 pages. Was: 30 s and 4 GB (realloc and memset).
;; Now: one mprotect; the program touches the last byte and exits with the old size (1).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (func (export "_start") (local $old i32)
    (local.set $old (memory.grow (i32.const 65535)))
    (i32.store8 (i32.const -1) (i32.const 7))
    (call $exit (i32.add (local.get $old) (i32.sub (i32.load8_u (i32.const -1)) (i32.const 7))))))
