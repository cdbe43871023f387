;; Prints a greeting through WASI: swift run -c release sheave run Examples/hello.wat
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "Hello from Sheave!\n")
  (func (export "_start")
    ;; An iovec at 0: the text at 16, 19 bytes long.
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 19))
    ;; fd_write(stdout, iovs = 0, iovs_len = 1, nwritten at 8)
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
