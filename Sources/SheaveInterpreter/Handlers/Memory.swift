import SheaveBytecode

// Loads and stores on linear memory 0. Wasm memory is little-endian whatever
// the host. The effective address is zext(low32(addr)) + offset, computed in
// 64 bits so it cannot wrap, and checked against the memory's size once per
// access; only then is `memory` dereferenced.

extension Executor {
    /// The host address of an access of `size` bytes at `zext(base) + offset`, once
    /// checked against the memory's size. `base` is the i32 address operand, or one
    /// already computed (wrapping) by a fused add.
    ///
    /// `chained`: `base` comes from the accumulator, a value just computed or loaded
    /// (a chased pointer) that the access waits on. The address is then formed as
    /// `(memory + offset) + base`: the access waits on nothing after `base` but its
    /// zero-extension (not on the add of `offset` as well), at the price of adding
    /// `offset` twice, for the check and for the address; from a slot, `base +
    /// offset` serves both (chase.c 1.55 → 1.53 s; docs/design.md).
    @inline(__always) func checkedAddress(base: UInt32, _ offset: UInt32, size: Int, chained: Bool = false) throws(Stop) -> UnsafeMutableRawPointer {
        let ea = UInt64(base) &+ UInt64(offset)
        guard ea &+ UInt64(size) <= UInt64(truncatingIfNeeded: memorySize) else { try stop(.trap(.memoryOutOfBounds)) }
        return chained ? memory + Int(offset) + Int(base) : memory + Int(truncatingIfNeeded: ea)
    }

    @inline(__always) func load<T: FixedWidthInteger>(base: UInt32, _ offset: UInt32, as: T.Type, chained: Bool = false) throws(Stop) -> T {
        let at = try checkedAddress(base: base, offset, size: MemoryLayout<T>.size, chained: chained)
        return T(littleEndian: at.loadUnaligned(as: T.self))
    }

    @inline(__always) mutating func xload32Add(_ dst: XReg, _ a: XReg, _ b: XReg, _ offset: UInt32) throws(Stop) { setX32(dst, try load(base: x32(a) &+ x32(b), offset, as: UInt32.self)) }
    @inline(__always) mutating func xload32ShlAddI32(_ dst: XReg, _ index: XReg, _ shift: UInt8, _ imm: Int32, _ offset: UInt32) throws(Stop) {
        setX32(dst, try load(base: (x32(index) &<< UInt32(shift)) &+ UInt32(bitPattern: imm), offset, as: UInt32.self))
    }
    @inline(__always) mutating func xload32AddShl(_ dst: XReg, _ base: XReg, _ index: XReg, _ shift: UInt8, _ offset: UInt32) throws(Stop) {
        setX32(dst, try load(base: x32(base) &+ (x32(index) &<< UInt32(shift)), offset, as: UInt32.self))
    }
    @inline(__always) mutating func xload32AddI32(_ dst: XReg, _ a: XReg, _ imm: Int32, _ offset: UInt32) throws(Stop) { setX32(dst, try load(base: x32(a) &+ UInt32(bitPattern: imm), offset, as: UInt32.self)) }
    @inline(__always) mutating func xload8U32Add(_ dst: XReg, _ a: XReg, _ b: XReg, _ offset: UInt32) throws(Stop) { setX32(dst, UInt32(try load(base: x32(a) &+ x32(b), offset, as: UInt8.self))) }
    @inline(__always) mutating func xload8U32AddI32(_ dst: XReg, _ a: XReg, _ imm: Int32, _ offset: UInt32) throws(Stop) { setX32(dst, UInt32(try load(base: x32(a) &+ UInt32(bitPattern: imm), offset, as: UInt8.self))) }
    @inline(__always) mutating func xload16S32Add(_ dst: XReg, _ a: XReg, _ b: XReg, _ offset: UInt32) throws(Stop) { setX32(dst, Int32(try load(base: x32(a) &+ x32(b), offset, as: Int16.self))) }
    @inline(__always) mutating func xload16S32AddI32(_ dst: XReg, _ a: XReg, _ imm: Int32, _ offset: UInt32) throws(Stop) { setX32(dst, Int32(try load(base: x32(a) &+ UInt32(bitPattern: imm), offset, as: Int16.self))) }
    @inline(__always) mutating func xload16U32Add(_ dst: XReg, _ a: XReg, _ b: XReg, _ offset: UInt32) throws(Stop) { setX32(dst, UInt32(try load(base: x32(a) &+ x32(b), offset, as: UInt16.self))) }
    @inline(__always) mutating func xload16U32AddI32(_ dst: XReg, _ a: XReg, _ imm: Int32, _ offset: UInt32) throws(Stop) { setX32(dst, UInt32(try load(base: x32(a) &+ UInt32(bitPattern: imm), offset, as: UInt16.self))) }
    @inline(__always) mutating func fload32Add(_ dst: FReg, _ a: XReg, _ b: XReg, _ offset: UInt32) throws(Stop) { setF32(dst, try loadF32(base: x32(a) &+ x32(b), offset)) }
    @inline(__always) mutating func fload32AddI32(_ dst: FReg, _ a: XReg, _ imm: Int32, _ offset: UInt32) throws(Stop) { setF32(dst, try loadF32(base: x32(a) &+ UInt32(bitPattern: imm), offset)) }
    @inline(__always) mutating func fload64Add(_ dst: FReg, _ a: XReg, _ b: XReg, _ offset: UInt32) throws(Stop) { try loadF64(dst, base: x32(a) &+ x32(b), offset) }
    @inline(__always) mutating func fload64AddI32(_ dst: FReg, _ a: XReg, _ imm: Int32, _ offset: UInt32) throws(Stop) { try loadF64(dst, base: x32(a) &+ UInt32(bitPattern: imm), offset) }

    @inline(__always) func load<T: FixedWidthInteger>(_ addr: XReg, _ offset: UInt32, as: T.Type) throws(Stop) -> T {
        try load(base: x32(addr), offset, as: T.self, chained: addr.inAccumulator)
    }

    /// An f32 from memory, kept in a float register on a little-endian host: read
    /// as bits, the value went through an integer register into its slot, and the
    /// float op reading the slot next had its load forwarded across register
    /// domains (and `fload64` was merged with `xload64`).
    @inline(__always) func loadF32(base: UInt32, _ offset: UInt32) throws(Stop) -> Float {
        #if _endian(little)
        let at = try checkedAddress(base: base, offset, size: 4)
        return at.loadUnaligned(as: Float.self)
        #else
        return Float(bitPattern: try load(base: base, offset, as: UInt32.self))
        #endif
    }

    /// A float to memory, from a float register on a little-endian host (see `loadF32`).
    @inline(__always) func storeFloat(_ addr: XReg, _ offset: UInt32, _ value: Double) throws(Stop) {
        #if _endian(little)
        let at = try checkedAddress(base: x32(addr), offset, size: 8)
        at.storeBytes(of: value, as: Double.self)
        #else
        try store(addr, offset, value.bitPattern)
        #endif
    }
    @inline(__always) func storeFloat(_ addr: XReg, _ offset: UInt32, _ value: Float) throws(Stop) {
        #if _endian(little)
        let at = try checkedAddress(base: x32(addr), offset, size: 4)
        at.storeBytes(of: value, as: Float.self)
        #else
        try store(addr, offset, value.bitPattern)
        #endif
    }

    @inline(__always) func store<T: FixedWidthInteger>(_ addr: XReg, _ offset: UInt32, _ value: T) throws(Stop) {
        let at = try checkedAddress(base: x32(addr), offset, size: MemoryLayout<T>.size)
        at.storeBytes(of: value.littleEndian, as: T.self)
    }

    @inline(__always) mutating func xload8S32(_ dst: XReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { setX32(dst, Int32(try load(addr, offset, as: Int8.self))) }
    @inline(__always) mutating func xload8U32(_ dst: XReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { setX32(dst, UInt32(try load(addr, offset, as: UInt8.self))) }
    @inline(__always) mutating func xload16S32(_ dst: XReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { setX32(dst, Int32(try load(addr, offset, as: Int16.self))) }
    @inline(__always) mutating func xload16U32(_ dst: XReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { setX32(dst, UInt32(try load(addr, offset, as: UInt16.self))) }
    @inline(__always) mutating func xload32(_ dst: XReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { setX32(dst, try load(addr, offset, as: UInt32.self)) }
    @inline(__always) mutating func xload8S64(_ dst: XReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { setX64(dst, Int64(try load(addr, offset, as: Int8.self))) }
    @inline(__always) mutating func xload8U64(_ dst: XReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { setX64(dst, UInt64(try load(addr, offset, as: UInt8.self))) }
    @inline(__always) mutating func xload16S64(_ dst: XReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { setX64(dst, Int64(try load(addr, offset, as: Int16.self))) }
    @inline(__always) mutating func xload16U64(_ dst: XReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { setX64(dst, UInt64(try load(addr, offset, as: UInt16.self))) }
    @inline(__always) mutating func xload32S64(_ dst: XReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { setX64(dst, Int64(try load(addr, offset, as: Int32.self))) }
    @inline(__always) mutating func xload32U64(_ dst: XReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { setX64(dst, UInt64(try load(addr, offset, as: UInt32.self))) }
    // A float sum or difference and its store, in one op (the result still written to `dst`).
    @inline(__always) mutating func fadd64Store(_ dst: FReg, _ a: FReg, _ b: FReg, _ addr: XReg, _ offset: UInt32) throws(Stop) {
        let value = f64(a) + f64(b)
        setF64(dst, value)
        try storeFloat(addr, offset, value)
    }
    @inline(__always) mutating func fsub64Store(_ dst: FReg, _ a: FReg, _ b: FReg, _ addr: XReg, _ offset: UInt32) throws(Stop) {
        let value = f64(a) - f64(b)
        setF64(dst, value)
        try storeFloat(addr, offset, value)
    }

    // A load and the branch on whether it read zero, in one op.
    @inline(__always) mutating func brXload32IfXnez32(_ dst: XReg, _ addr: XReg, _ offset: UInt32, _ target: BranchTarget) throws(Stop) {
        try loadTest(dst, try load(addr, offset, as: UInt32.self), target) { $0 != 0 }
    }
    @inline(__always) mutating func brXload32IfXeqz32(_ dst: XReg, _ addr: XReg, _ offset: UInt32, _ target: BranchTarget) throws(Stop) {
        try loadTest(dst, try load(addr, offset, as: UInt32.self), target) { $0 == 0 }
    }
    @inline(__always) mutating func brXload8U32IfXnez32(_ dst: XReg, _ addr: XReg, _ offset: UInt32, _ target: BranchTarget) throws(Stop) {
        try loadTest(dst, UInt32(try load(addr, offset, as: UInt8.self)), target) { $0 != 0 }
    }
    @inline(__always) mutating func brXload8U32IfXeqz32(_ dst: XReg, _ addr: XReg, _ offset: UInt32, _ target: BranchTarget) throws(Stop) {
        try loadTest(dst, UInt32(try load(addr, offset, as: UInt8.self)), target) { $0 == 0 }
    }
    /// Keeps the loaded `value` in `dst`, then branches when `taken` holds for it.
    @inline(__always) mutating func loadTest(_ dst: XReg, _ value: UInt32, _ target: BranchTarget, _ taken: (UInt32) -> Bool) throws(Stop) {
        setX32(dst, value)
        if taken(value) { pc = target.address }
    }

    @inline(__always) mutating func xload64(_ dst: XReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { setX64(dst, try load(addr, offset, as: UInt64.self)) }
    @inline(__always) mutating func fload32(_ dst: FReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { setF32(dst, try loadF32(base: x32(addr), offset)) }
    @inline(__always) mutating func fload64(_ dst: FReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { try loadF64(dst, base: x32(addr), offset) }

    /// An f64 from memory into a register slot. On a little-endian host it moves as
    /// a pair of f32 lanes: an f64 loaded only to be stored is moved through an
    /// integer register by the optimizer (and `fload64` was merged with `xload64`);
    /// a vector stays in a float register, as the float ops reading the slot expect.
    @inline(__always) mutating func loadF64(_ dst: FReg, base: UInt32, _ offset: UInt32) throws(Stop) {
        #if _endian(little)
        let at = try checkedAddress(base: base, offset, size: 8)
        let value = at.loadUnaligned(as: SIMD2<Float>.self)
        facc = unsafeBitCast(value, to: Double.self)
        if Int(dst.index) == faccSlot { faccIn = facc }
        fp.storeBytes(of: value, toByteOffset: Int(dst.index) &<< 3, as: SIMD2<Float>.self)
        #else
        setF64(dst, Double(bitPattern: try load(base: base, offset, as: UInt64.self)))
        #endif
    }

    @inline(__always) mutating func xstore8(_ addr: XReg, _ offset: UInt32, _ src: XReg) throws(Stop) { try store(addr, offset, UInt8(truncatingIfNeeded: x64(src))) }
    @inline(__always) mutating func xstore16(_ addr: XReg, _ offset: UInt32, _ src: XReg) throws(Stop) { try store(addr, offset, UInt16(truncatingIfNeeded: x64(src))) }
    @inline(__always) mutating func xstore32(_ addr: XReg, _ offset: UInt32, _ src: XReg) throws(Stop) { try store(addr, offset, x32(src)) }
    @inline(__always) mutating func xadd32I32Mem(_ addr: XReg, _ offset: UInt32, _ imm: Int32) throws(Stop) {
        let at = try checkedAddress(base: x32(addr), offset, size: 4)
        let value = UInt32(littleEndian: at.loadUnaligned(as: UInt32.self)) &+ UInt32(bitPattern: imm)
        at.storeBytes(of: value.littleEndian, as: UInt32.self)
    }
    @inline(__always) mutating func xstore64(_ addr: XReg, _ offset: UInt32, _ src: XReg) throws(Stop) { try store(addr, offset, x64(src)) }
    @inline(__always) mutating func fstore32(_ addr: XReg, _ offset: UInt32, _ src: FReg) throws(Stop) { try storeFloat(addr, offset, f32(src)) }
    @inline(__always) mutating func fstore64(_ addr: XReg, _ offset: UInt32, _ src: FReg) throws(Stop) { try storeFloat(addr, offset, f64(src)) }

    @inline(__always) mutating func xstore8I32(_ addr: XReg, _ offset: UInt32, _ imm: Int32) throws(Stop) { try store(addr, offset, UInt8(truncatingIfNeeded: imm)) }
    @inline(__always) mutating func xstore16I32(_ addr: XReg, _ offset: UInt32, _ imm: Int32) throws(Stop) { try store(addr, offset, UInt16(truncatingIfNeeded: imm)) }
    @inline(__always) mutating func xstore32I32(_ addr: XReg, _ offset: UInt32, _ imm: Int32) throws(Stop) { try store(addr, offset, UInt32(bitPattern: imm)) }
    @inline(__always) mutating func xstore64I32(_ addr: XReg, _ offset: UInt32, _ imm: Int32) throws(Stop) { try store(addr, offset, UInt64(bitPattern: Int64(imm))) }

    @inline(__always) mutating func xmovXload32Xchg(_ dst: XReg, _ ptr: XReg, _ src: XReg, _ offset: UInt32, _ value: XReg) throws(Stop) {
        let pointer = x64(src)
        setX64(ptr, pointer)
        try exchange32(dst, base: UInt32(truncatingIfNeeded: pointer), offset, value)
    }
    @inline(__always) mutating func xload8U32Via(_ dst: XReg, _ addr: XReg, _ at: UInt32, _ offset: UInt32) throws(Stop) {
        setX32(dst, UInt32(try loadVia(addr, at, offset, as: UInt8.self)))
    }
    @inline(__always) mutating func xload16U32Via(_ dst: XReg, _ addr: XReg, _ at: UInt32, _ offset: UInt32) throws(Stop) {
        setX32(dst, UInt32(try loadVia(addr, at, offset, as: UInt16.self)))
    }
    /// The `T` at `pointer + offset`, `pointer` the u32 at `addr + at`, with one place
    /// that stops: with two (a check for each load), the path to the stop had two
    /// ways in and LLVM saved registers on entry, on the fast path too. When the
    /// first address is out of bounds the pointer is read from the frame instead
    /// (slot 0, there in every frame that has registers) and the op stops below.
    @inline(__always) func loadVia<T: FixedWidthInteger>(_ addr: XReg, _ at: UInt32, _ offset: UInt32, as: T.Type) throws(Stop) -> T {
        let size = UInt64(truncatingIfNeeded: memorySize)
        let first = UInt64(x32(addr)) &+ UInt64(at)
        let firstInBounds = first &+ 4 <= size
        let source = firstInBounds ? UnsafeRawPointer(memory) + Int(truncatingIfNeeded: first) : UnsafeRawPointer(fp)
        let second = UInt64(UInt32(littleEndian: source.loadUnaligned(as: UInt32.self))) &+ UInt64(offset)
        let secondInBounds = second &+ UInt64(MemoryLayout<T>.size) <= size
        guard firstInBounds && secondInBounds else { try stop(.trap(.memoryOutOfBounds)) }
        return T(littleEndian: memory.loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: second), as: T.self))
    }
    @inline(__always) mutating func xload32Xchg(_ dst: XReg, _ addr: XReg, _ offset: UInt32, _ src: XReg) throws(Stop) {
        try exchange32(dst, base: x32(addr), offset, src)
    }
    /// `dst` = the u32 at `base + offset`, then that u32 = `value` (read after `dst`
    /// is written): one bounds check serves both, as they touch the same 4 bytes.
    @inline(__always) mutating func exchange32(_ dst: XReg, base: UInt32, _ offset: UInt32, _ value: XReg) throws(Stop) {
        let at = try checkedAddress(base: base, offset, size: 4)
        setX32(dst, UInt32(littleEndian: at.loadUnaligned(as: UInt32.self)))
        at.storeBytes(of: x32(value).littleEndian, as: UInt32.self)
    }
    @inline(__always) mutating func xstore8I32Step(_ dst: XReg, _ offset: UInt32, _ imm: Int32, _ step: XReg) throws(Stop) {
        let address = x32(dst)
        try store(dst, offset, UInt8(truncatingIfNeeded: imm))
        setX32(dst, address &+ x32(step))
    }

    @inline(__always) mutating func memorySize(_ dst: XReg, _ index: UInt32) {
        setX64(dst, UInt64(truncatingIfNeeded: vm.pointee.memories[Int(index)].byteCount / LinearMemory.pageSize))
    }

    @inline(__always) mutating func memoryGrow(_ dst: XReg, _ delta: XReg, _ index: UInt32) {
        let old = Self.growMemory(vm, Int(index), by: x64(delta))
        // Growing may move memory 0: reload its base (its size is read from `vm`).
        memory = vm.pointee.memory
        setX64(dst, UInt64(bitPattern: Int64(old)))  // -1 (failure): of the memory's width, below
    }

    /// Grows memory `index` and re-reads every memory and table of the context;
    /// returns the old size in pages, or -1 as the memory's address type has it
    /// (0xFFFF_FFFF for a 32-bit memory). Out of line, so the handler itself
    /// touches no object (no retain or release after its tail call would keep
    /// that call from being a jump).
    @inline(never)
    static func growMemory(_ vm: UnsafeMutablePointer<VMState>, _ index: Int, by delta: UInt64) -> Int {
        let object = vm.pointee.memories[index].object.takeUnretainedValue()
        guard delta <= UInt64(Int.max), let old = object.grow(by: Int(delta)) else { return object.is64 ? -1 : Int(UInt32.max) }
        VM.refresh(vm)
        return old
    }
}

// Loads and stores on any memory, with 64-bit addresses (multi-memory, memory64):
// the `_m` ops. The effective address is addr + offset in 64 bits; a sum past
// 2^64 traps, as does one whose access would end past the memory's size.
extension Executor {
    /// The host address of an access of `size` bytes at `x64(addr) + offset` in
    /// memory `index` (trusted: the compiler or the verifier checked it), once
    /// checked against that memory's size.
    @inline(__always) func checkedAddress(_ addr: XReg, _ offset: UInt64, memory index: UInt32, size: Int) throws(Stop) -> UnsafeMutableRawPointer {
        let state = vm.pointee.memories[Int(index)]
        let (ea, overflow) = x64(addr).addingReportingOverflow(offset)
        let limit = UInt64(truncatingIfNeeded: state.byteCount)
        guard !overflow, ea <= limit, limit &- ea >= UInt64(size) else { try stop(.trap(.memoryOutOfBounds)) }
        return state.base + Int(truncatingIfNeeded: ea)
    }
    @inline(__always) func load<T: FixedWidthInteger>(_ addr: XReg, _ offset: UInt64, _ index: UInt32, as: T.Type) throws(Stop) -> T {
        T(littleEndian: try checkedAddress(addr, offset, memory: index, size: MemoryLayout<T>.size).loadUnaligned(as: T.self))
    }
    @inline(__always) func store<T: FixedWidthInteger>(_ addr: XReg, _ offset: UInt64, _ index: UInt32, _ value: T) throws(Stop) {
        try checkedAddress(addr, offset, memory: index, size: MemoryLayout<T>.size).storeBytes(of: value.littleEndian, as: T.self)
    }

    @inline(__always) mutating func xload8S32M(_ dst: XReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) { setX32(dst, Int32(try load(addr, offset, index, as: Int8.self))) }
    @inline(__always) mutating func xload8U32M(_ dst: XReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) { setX32(dst, UInt32(try load(addr, offset, index, as: UInt8.self))) }
    @inline(__always) mutating func xload16S32M(_ dst: XReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) { setX32(dst, Int32(try load(addr, offset, index, as: Int16.self))) }
    @inline(__always) mutating func xload16U32M(_ dst: XReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) { setX32(dst, UInt32(try load(addr, offset, index, as: UInt16.self))) }
    @inline(__always) mutating func xload32M(_ dst: XReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) { setX32(dst, try load(addr, offset, index, as: UInt32.self)) }
    @inline(__always) mutating func xload8S64M(_ dst: XReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) { setX64(dst, Int64(try load(addr, offset, index, as: Int8.self))) }
    @inline(__always) mutating func xload8U64M(_ dst: XReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) { setX64(dst, UInt64(try load(addr, offset, index, as: UInt8.self))) }
    @inline(__always) mutating func xload16S64M(_ dst: XReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) { setX64(dst, Int64(try load(addr, offset, index, as: Int16.self))) }
    @inline(__always) mutating func xload16U64M(_ dst: XReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) { setX64(dst, UInt64(try load(addr, offset, index, as: UInt16.self))) }
    @inline(__always) mutating func xload32S64M(_ dst: XReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) { setX64(dst, Int64(try load(addr, offset, index, as: Int32.self))) }
    @inline(__always) mutating func xload32U64M(_ dst: XReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) { setX64(dst, UInt64(try load(addr, offset, index, as: UInt32.self))) }
    @inline(__always) mutating func xload64M(_ dst: XReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) { setX64(dst, try load(addr, offset, index, as: UInt64.self)) }
    @inline(__always) mutating func fload32M(_ dst: FReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) {
        setF32(dst, Float(bitPattern: try load(addr, offset, index, as: UInt32.self)))
    }
    @inline(__always) mutating func fload64M(_ dst: FReg, _ addr: XReg, _ offset: UInt64, _ index: UInt32) throws(Stop) {
        setF64(dst, Double(bitPattern: try load(addr, offset, index, as: UInt64.self)))
    }
    @inline(__always) mutating func xstore8M(_ addr: XReg, _ offset: UInt64, _ src: XReg, _ index: UInt32) throws(Stop) { try store(addr, offset, index, UInt8(truncatingIfNeeded: x64(src))) }
    @inline(__always) mutating func xstore16M(_ addr: XReg, _ offset: UInt64, _ src: XReg, _ index: UInt32) throws(Stop) { try store(addr, offset, index, UInt16(truncatingIfNeeded: x64(src))) }
    @inline(__always) mutating func xstore32M(_ addr: XReg, _ offset: UInt64, _ src: XReg, _ index: UInt32) throws(Stop) { try store(addr, offset, index, x32(src)) }
    @inline(__always) mutating func xstore64M(_ addr: XReg, _ offset: UInt64, _ src: XReg, _ index: UInt32) throws(Stop) { try store(addr, offset, index, x64(src)) }
    @inline(__always) mutating func fstore32M(_ addr: XReg, _ offset: UInt64, _ src: FReg, _ index: UInt32) throws(Stop) { try store(addr, offset, index, f32(src).bitPattern) }
    @inline(__always) mutating func fstore64M(_ addr: XReg, _ offset: UInt64, _ src: FReg, _ index: UInt32) throws(Stop) { try store(addr, offset, index, f64(src).bitPattern) }
}

// Globals: each is an 8-byte cell the instance owns (or imports), reached
// through the instance's table of cell pointers; the index is trusted.
extension Executor {
    @inline(__always) mutating func globalGet(_ dst: XReg, _ index: UInt32) {
        setX64(dst, vm.pointee.globals[Int(index)].pointee)
    }
    @inline(__always) mutating func globalSet(_ index: UInt32, _ src: XReg) {
        vm.pointee.globals[Int(index)].pointee = x64(src)
    }
}
