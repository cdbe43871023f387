;; Issue 18.3: 65 in-bounds iovecs of 64 MiB each. Was: "arithmetic overflow" in WasmKit's WASI, the host crashed.
;; Now: a short write of 63 vectors; the program exits with nwritten / 64 MiB (63).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 65536)
  (func (export "_start") (local $i i32)
    (loop $fill
      (i32.store (i32.mul (local.get $i) (i32.const 8)) (i32.const 0))
      (i32.store offset=4 (i32.mul (local.get $i) (i32.const 8)) (i32.const 0x4000000))
      (br_if $fill (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 65))))
    (if (call $fd_write (i32.const 1) (i32.const 0) (i32.const 65) (i32.const 1024)) (then unreachable))
    (call $exit (i32.shr_u (i32.load (i32.const 1024)) (i32.const 26)))))
