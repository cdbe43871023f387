;; Issue 18.2: fd_read into an iovec past the end of memory. Was: input consumed into scratch, then a trap.
;; Now: EFAULT (21), no input consumed; the program exits with the errno.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 65530)) (i32.store (i32.const 4) (i32.const 100))
    (call $exit (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))))
