;; Issue 18.4: fd_write with iovs_len = 0xFFFFFFFF. Was: four billion iterations, even with --fuel 1000.
;; Now: EFAULT (21) at once (the array lies outside memory); the program exits with the errno.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (func (export "_start") (call $exit (call $fd_write (i32.const 1) (i32.const 0) (i32.const -1) (i32.const 16)))))
