import SheaveBytecode

/// The hot state of the interpreter and the home of every op's handler.
///
/// Both dispatch loops run the same handlers: the match loop keeps one
/// `Executor` in local variables for the whole run; the tail loop rebuilds it
/// from each handler's arguments (which costs nothing: it is the same registers).
struct Executor {
    /// The next op to run.
    var pc: UnsafeRawPointer
    /// The frame pointer: register n is the 8 bytes at `fp + 8n`.
    var fp: UnsafeMutableRawPointer
    /// The top of the link stack: `links[0]` is the current frame's return pc,
    /// `links[8]` its caller's fp. It grows down towards the frames.
    var links: UnsafeMutableRawPointer
    /// Base of linear memory 0. Valid for `memorySize` bytes; every access is
    /// bounds-checked against `memorySize` before it is made.
    var memory: UnsafeMutableRawPointer
    let vm: UnsafeMutablePointer<VMState>
    /// The first byte of the current op, recorded by ops that may stop: a trap reports it.
    var start: UnsafeRawPointer
    /// The accumulators: the last x value and the last f64 an op wrote (`setX32`,
    /// `setX64`, `setF64`, `loadF64`), carried to the next handler in host
    /// registers beside the copy in the slot. Only an accumulator form of an op
    /// reads one, and only where the op before it wrote the register it reads
    /// (`CodeImage`); anywhere else they are stale.
    var xacc: UInt64
    var facc: Double
    /// The value of slot `xaccSlot` (`faccSlot`) as the op sees it, what a form
    /// reads: the accumulator as it came in, or what the op has written to that
    /// slot since. An op may write a register and then read another
    /// (`br_xmov_if_xnez32` moves, then tests its condition), and the write sets
    /// `xacc`; or read the one it wrote. (Dead code in every op that does neither.)
    var xaccIn: UInt64
    var faccIn: Double
    /// The slot whose value `xacc` (`facc`) holds for this op, or -1: set only by
    /// the accumulator forms of the tail loop (`tail_…_xacc_…`). A write to that
    /// slot updates `xaccIn` (`setX64`, `setF64`); the operand a form reads is
    /// marked where it is decoded (`xaccField`). Everywhere else it is the
    /// constant -1, and the compare folds away (a register index is never negative).
    var xaccSlot: Int
    var faccSlot: Int
    /// Where, from the op's first byte, the operand `xaccSlot` (`faccSlot`) came
    /// from lies: the operand decoded there is marked `inAccumulator` and reads
    /// `xaccIn` (`faccIn`); every other operand reads its slot, which holds the same
    /// value when it names the same register (every write goes to the slot). A
    /// constant in each form, -1 elsewhere (no operand lies there), so no read
    /// compares register numbers.
    var xaccField: Int
    var faccField: Int
    /// True only in the keeping forms (`tail_…_keep`): the op writes its x result
    /// to its slot alone and leaves `xacc` as it was. A constant false elsewhere.
    var keepsXAcc: Bool

    @inline(__always)
    init(pc: UnsafeRawPointer, fp: UnsafeMutableRawPointer, links: UnsafeMutableRawPointer,
         memory: UnsafeMutableRawPointer, vm: UnsafeMutablePointer<VMState>, xacc: UInt64 = 0, facc: Double = 0) {
        self.pc = pc
        self.fp = fp
        self.links = links
        self.memory = memory
        self.vm = vm
        self.start = pc
        self.xacc = xacc
        self.facc = facc
        self.xaccIn = xacc
        self.faccIn = facc
        self.xaccSlot = -1
        self.xaccField = -1
        self.faccField = -1
        self.faccSlot = -1
        self.keepsXAcc = false
    }

    /// The size of linear memory 0 in bytes. Read from the VM state at each check
    /// (an operand of the compare, no extra instruction on x86) rather than carried
    /// in a register: the six argument registers carry pc, fp, links, memory, the
    /// VM and the handler table (docs/design.md).
    @inline(__always) var memorySize: Int { vm.pointee.memorySize }

    /// The match loop has no accumulator forms: every op reads its slots. Said again
    /// before each op, so that the optimizer sees the constants in the handlers it
    /// inlines into the loop and drops the accumulator compares.
    @inline(__always) mutating func matchLoopReadsSlots() {
        xaccSlot = -1
        xaccField = -1
        faccSlot = -1
        faccField = -1
        keepsXAcc = false
    }

    // MARK: Registers
    //
    // A register number is a slot index in the current frame. The compiler
    // (or the artifact verifier) guarantees every register an op names lies
    // inside the frame that `push_frame` checked against the stack's end.

    @inline(__always) func x32(_ r: XReg) -> UInt32 { UInt32(truncatingIfNeeded: x64(r)) }
    @inline(__always) func x64(_ r: XReg) -> UInt64 {
        r.inAccumulator ? xaccIn : fp.load(fromByteOffset: Int(r.index) &<< 3, as: UInt64.self)
    }
    @inline(__always) func s32(_ r: XReg) -> Int32 { Int32(bitPattern: x32(r)) }
    @inline(__always) func s64(_ r: XReg) -> Int64 { Int64(bitPattern: x64(r)) }

    /// Writes a 32-bit result, zero-extended: i32 values always have a zero upper half.
    @inline(__always) mutating func setX32(_ r: XReg, _ value: UInt32) { setX64(r, UInt64(value)) }
    /// Writes an x value to its slot and (but in a keeping form) to the integer accumulator.
    @inline(__always) mutating func setX64(_ r: XReg, _ value: UInt64) {
        if !keepsXAcc { xacc = value }
        if Int(r.index) == xaccSlot { xaccIn = value }
        fp.storeBytes(of: value, toByteOffset: Int(r.index) &<< 3, as: UInt64.self)
    }
    @inline(__always) mutating func setX32(_ r: XReg, _ value: Int32) { setX32(r, UInt32(bitPattern: value)) }
    @inline(__always) mutating func setX64(_ r: XReg, _ value: Int64) { setX64(r, UInt64(bitPattern: value)) }
    @inline(__always) mutating func setBool(_ r: XReg, _ value: Bool) { setX64(r, UInt64(value ? 1 : 0)) }

    @inline(__always) func f32(_ r: FReg) -> Float {
        guard r.inAccumulator else {
            return Float(bitPattern: UInt32(truncatingIfNeeded: fp.load(fromByteOffset: Int(r.index) &<< 3, as: UInt64.self)))
        }
        // The low 32 bits of the accumulator, as the slot holds them.
        #if _endian(little)
        return unsafeBitCast(faccIn, to: SIMD2<Float>.self)[0]
        #else
        return Float(bitPattern: UInt32(truncatingIfNeeded: faccIn.bitPattern))
        #endif
    }
    @inline(__always) func f64(_ r: FReg) -> Double {
        r.inAccumulator ? faccIn : Double(bitPattern: fp.load(fromByteOffset: Int(r.index) &<< 3, as: UInt64.self))
    }
    @inline(__always) func f32Bits(_ r: FReg) -> UInt32 {
        UInt32(truncatingIfNeeded: fp.load(fromByteOffset: Int(r.index) &<< 3, as: UInt64.self))
    }
    @inline(__always) func f64Bits(_ r: FReg) -> UInt64 {
        fp.load(fromByteOffset: Int(r.index) &<< 3, as: UInt64.self)
    }
    /// Writes an f32 and a zero upper half as one 8-byte store from the float
    /// register (on a little-endian host): with the bits moved to an integer
    /// register first, the next float op's load of the slot was forwarded across
    /// register domains, which costs latency on every float dependency.
    /// The accumulator gets the slot's 8 bytes, so an f64 form reading it would see
    /// what the slot holds.
    @inline(__always) mutating func setF32(_ r: FReg, _ value: Float) {
        #if _endian(little)
        let bits = SIMD2<Float>(value, 0)
        facc = unsafeBitCast(bits, to: Double.self)
        if Int(r.index) == faccSlot { faccIn = facc }
        fp.storeBytes(of: bits, toByteOffset: Int(r.index) &<< 3, as: SIMD2<Float>.self)
        #else
        facc = Double(bitPattern: UInt64(value.bitPattern))
        if Int(r.index) == faccSlot { faccIn = facc }
        setF32Bits(r, value.bitPattern)
        #endif
    }
    /// Writes an f64 result to its slot and to the float accumulator.
    @inline(__always) mutating func setF64(_ r: FReg, _ value: Double) {
        facc = value
        if Int(r.index) == faccSlot { faccIn = value }
        fp.storeBytes(of: value, toByteOffset: Int(r.index) &<< 3, as: Double.self)
    }
    @inline(__always) func setF32Bits(_ r: FReg, _ bits: UInt32) {
        fp.storeBytes(of: UInt64(bits), toByteOffset: Int(r.index) &<< 3, as: UInt64.self)
    }
    @inline(__always) func setF64Bits(_ r: FReg, _ bits: UInt64) {
        fp.storeBytes(of: bits, toByteOffset: Int(r.index) &<< 3, as: UInt64.self)
    }

    // MARK: Leaving the loop

    /// Stops the run loop with `reason`: records where (`exit`), then throws.
    /// Every handler stops through this one out-of-line function, which gets all
    /// it needs as arguments: a `throw` in a handler calls the runtime's
    /// `swift_willThrowTypedImpl`, and with the handler's state still needed after
    /// that call, its fast path saved and restored five callee-saved registers.
    /// Now nothing is live after the call (the tail loop's `catch` only returns),
    /// and a handler with few live values has no prologue on its fast path
    /// (docs/design.md says which still have one, and why).
    @inline(__always)
    func stop(_ reason: Stop) throws(Stop) -> Never {
        let at = reason.recordsItsOp ? start : pc
        try Self.stop(at: at, fp: fp, links: links, memory: memory, vm: vm, reason)
    }

    /// The parameters come in the order of a tail handler's arguments, so that a
    /// handler's slow path finds them in the registers they arrived in: with any
    /// other order LLVM shuffled three registers on the way in and out of every
    /// memory handler's fast path.
    @inline(never)
    static func stop(at pc: UnsafeRawPointer, fp: UnsafeMutableRawPointer, links: UnsafeMutableRawPointer,
                     memory: UnsafeMutableRawPointer, vm: UnsafeMutablePointer<VMState>, _ reason: Stop) throws(Stop) -> Never {
        vm.pointee.pc = pc
        vm.pointee.fp = fp
        vm.pointee.links = links
        vm.pointee.stop = reason
        throw reason
    }

    /// Records why the loop stopped and where, for `VM.run` to read.
    @inline(__always)
    func exit(_ stop: Stop) {
        vm.pointee.pc = stop.recordsItsOp ? start : pc
        vm.pointee.fp = fp
        vm.pointee.links = links
        vm.pointee.stop = stop
    }

    /// Tail loop: continue with the handler of the op at `pc`, whose address is
    /// in front of the op (`CodeImage`).
    @inline(__always)
    func dispatchNext() {
        let handler = pc.loadUnaligned(as: TailHandler.self)
        return handler(pc, fp, links, memory, UnsafeMutableRawPointer(vm), xacc, facc)
    }
}

/// Tail loop: an opcode no op has.
func tailInvalidOpcode(_ pc: UnsafeRawPointer, _ fp: UnsafeMutableRawPointer, _ links: UnsafeMutableRawPointer, _ memory: UnsafeMutableRawPointer, _ vm: UnsafeMutableRawPointer, _ xacc: UInt64, _ facc: Double) {
    Executor(pc: pc, fp: fp, links: links, memory: memory, vm: vm.assumingMemoryBound(to: VMState.self))
        .exit(.trap(.invalidOpcode))
}

/// Tail loop: a SIMD op in an interpreter built without the `InterpreterSIMD` trait.
func tailDisabledOpcode(_ pc: UnsafeRawPointer, _ fp: UnsafeMutableRawPointer, _ links: UnsafeMutableRawPointer, _ memory: UnsafeMutableRawPointer, _ vm: UnsafeMutableRawPointer, _ xacc: UInt64, _ facc: Double) {
    Executor(pc: pc, fp: fp, links: links, memory: memory, vm: vm.assumingMemoryBound(to: VMState.self))
        .exit(.trap(.disabledOpcode))
}
