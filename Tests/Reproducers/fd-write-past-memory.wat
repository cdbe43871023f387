;; Issue 18.2: an iovec past the end of memory. Was: zeros written to the file, then a trap.
;; Now: EFAULT (21), nothing written; the program exits with the errno.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (data (i32.const 100) "hello\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 6))
    (i32.store (i32.const 8) (i32.const 65530)) (i32.store (i32.const 12) (i32.const 100))
    (call $exit (call $fd_write (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 16)))))
