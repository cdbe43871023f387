;; Issue 18.2: random_get(0, 0xFFFFFFFF). Was: 4 GiB of scratch calloc'ed (fatalError under a memory limit).
;; Now: EFAULT (21) at once; the program exits with the errno.
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (func (export "_start") (call $exit (call $random_get (i32.const 0) (i32.const -1)))))
