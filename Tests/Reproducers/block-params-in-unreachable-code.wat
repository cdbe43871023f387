;; Issue 18.1: the compiler crashed (SIGILL) on a block with parameters in unreachable code.
(module (func (export "f") unreachable (block (param i32) drop)))
