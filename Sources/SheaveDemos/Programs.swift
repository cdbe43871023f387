import SheaveBytecode

/// Hand-assembled programs: the demos of `sheave demo`, the dispatch benchmark,
/// and the interpreter's tests, written before any WebAssembly front end exists.
///
/// Conventions: a function's arguments arrive in x0, x1, ...; its results are
/// left in x0, x1, ...; a call's `frame` operand n puts the callee's x0 at the
/// caller's slot n (the link goes on the VM's link stack, not in the frame).
public enum Programs {
    /// A bytecode image and the offsets of its functions.
    public struct Program {
        /// The bytecode.
        public let code: [UInt8]
        /// The offset of each function in `code`, by name.
        public let functions: [String: Int]
    }

    /// Host function ids used by `hostLoop`.
    public static let hostTriple: UInt32 = 7

    /// `fib(n)` by naive recursion, on i32.
    public static func fib() -> Program {
        var e = Encoder()
        let fib = e.makeLabel(), small = e.makeLabel()
        e.bind(fib)
        e.pushFrame(3)                          // x0 n, x1 fib(n-1), x2 callee's x0
        e.brIfXult32I32(XReg(0), 2, small)      // n < 2: return n
        e.xadd32I32(XReg(2), XReg(0), -1)
        e.call(fib, 2)                          // x2 = fib(n - 1)
        e.xmov(XReg(1), XReg(2))
        e.xadd32I32(XReg(2), XReg(0), -2)
        e.call(fib, 2)                          // x2 = fib(n - 2)
        e.xadd32(XReg(0), XReg(1), XReg(2))
        e.ret()
        e.bind(small)
        e.ret()
        return Program(code: try! e.finish(), functions: ["fib": 0])
    }

    /// `fib(n)` compiled as for a fixed register file (Pulley's model): the same
    /// algorithm plus the moves such a machine needs around each call — saving
    /// the callee-saved register on entry and restoring it on exit, moving the
    /// argument into the callee's x0 and the result out of it. Each function
    /// still gets its own window here, so only the extra moves are measured.
    public static func fibFixedRegisterStyle() -> Program {
        var e = Encoder()
        let fib = e.makeLabel(), small = e.makeLabel()
        e.bind(fib)
        e.pushFrame(8)                          // x0 n, x1 callee-saved, x2 n copy, x3 scratch, x4 spill, x7 callee x0
        e.xmov(XReg(4), XReg(1))                // save callee-saved x1
        e.xmov(XReg(2), XReg(0))                // n into a callee-saved register
        e.brIfXult32I32(XReg(2), 2, small)
        e.xadd32I32(XReg(3), XReg(2), -1)
        e.xmov(XReg(7), XReg(3))                // argument move
        e.call(fib, 7)
        e.xmov(XReg(1), XReg(7))                // result move
        e.xadd32I32(XReg(3), XReg(2), -2)
        e.xmov(XReg(7), XReg(3))                // argument move
        e.call(fib, 7)
        e.xmov(XReg(3), XReg(7))                // result move
        e.xadd32(XReg(0), XReg(1), XReg(3))
        e.xmov(XReg(1), XReg(4))                // restore callee-saved x1
        e.ret()
        e.bind(small)
        e.xmov(XReg(1), XReg(4))
        e.ret()
        return Program(code: try! e.finish(), functions: ["fib": 0])
    }

    /// `count(n)`: a loop of two ops per iteration (add, compare-and-branch); returns n (n >= 1).
    public static func countLoop() -> Program {
        var e = Encoder()
        let loop = e.makeLabel()
        e.pushFrame(2)
        e.xconst32(XReg(1), 0)
        e.bind(loop)
        e.xadd32I32(XReg(1), XReg(1), 1)
        e.brIfXult32(XReg(1), XReg(0), loop)
        e.xmov(XReg(0), XReg(1))
        e.ret()
        return Program(code: try! e.finish(), functions: ["count": 0])
    }

    /// `sum(n)`: the sum of the first n little-endian u32s of memory, wrapping.
    public static func sumMemory() -> Program {
        var e = Encoder()
        let loop = e.makeLabel(), done = e.makeLabel()
        e.pushFrame(5)                          // x0 n, x1 address, x2 sum, x3 end, x4 loaded
        e.xconst32(XReg(1), 0)
        e.xconst32(XReg(2), 0)
        e.xshl32U8(XReg(3), XReg(0), 2)
        e.brIfXeq32(XReg(1), XReg(3), done)
        e.bind(loop)
        e.xload32(XReg(4), XReg(1), 0)
        e.xadd32(XReg(2), XReg(2), XReg(4))
        e.xadd32I32(XReg(1), XReg(1), 4)
        e.brIfXult32(XReg(1), XReg(3), loop)
        e.bind(done)
        e.xmov(XReg(0), XReg(2))
        e.ret()
        return Program(code: try! e.finish(), functions: ["sum": 0])
    }

    /// `div(a, b)`: signed i32 division; traps on b == 0 and on INT32_MIN / -1.
    public static func divide() -> Program {
        var e = Encoder()
        e.pushFrame(2)
        e.xdiv32S(XReg(0), XReg(0), XReg(1))
        e.ret()
        return Program(code: try! e.finish(), functions: ["div": 0])
    }

    /// `hostLoop(n)`: the sum over i in 0..<n of host function `hostTriple`(i).
    public static func hostLoop() -> Program {
        var e = Encoder()
        let loop = e.makeLabel(), done = e.makeLabel()
        e.pushFrame(4)                          // x0 n, x1 i, x2 sum, x3 host slot
        e.xconst32(XReg(1), 0)
        e.xconst32(XReg(2), 0)
        e.bind(loop)
        e.brIfXeq32(XReg(1), XReg(0), done)
        e.xmov(XReg(3), XReg(1))
        e.callHost(hostTriple, 3, 1)
        e.xadd32(XReg(2), XReg(2), XReg(3))
        e.xadd32I32(XReg(1), XReg(1), 1)
        e.jump(loop)
        e.bind(done)
        e.xmov(XReg(0), XReg(2))
        e.ret()
        return Program(code: try! e.finish(), functions: ["hostLoop": 0])
    }

    /// `recurse()`: calls itself forever; must end in a stack-overflow trap.
    public static func runawayRecursion() -> Program {
        var e = Encoder()
        let f = e.makeLabel()
        e.bind(f)
        e.pushFrame(2)
        e.call(f, 2)
        e.ret()
        return Program(code: try! e.finish(), functions: ["recurse": 0])
    }
}
