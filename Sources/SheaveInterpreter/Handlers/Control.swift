import Atomics
import SheaveBytecode

// Control: branches, calls, returns, frames and traps.
//
// Frames and links. A call's frame operand says where the callee's frame
// starts, counted in slots from the caller's fp. The callee's arguments are
// already there (the caller wrote them) and its results are left there, so
// nothing is copied. The link (return pc, caller's fp) goes on the link stack,
// which grows down from the end of the VM's stack towards the frames; it is
// not in the frame, so a callee's frame may start anywhere. A return pc of 0
// marks a frame entered from the host.

extension Executor {
    @inline(__always) mutating func nop() {}

    @inline(__always) mutating func trap(_ code: TrapCode) throws(Stop) {
        try stop(.trap(code))
    }

    @inline(__always) mutating func ret() throws(Stop) {
        let returnPC = links.load(as: UInt.self)
        guard let target = UnsafeRawPointer(bitPattern: returnPC) else { try stop(.returned) }
        pc = target
        fp = links.load(fromByteOffset: 8, as: UnsafeMutableRawPointer.self)
        links = links.advanced(by: 16)
    }

    @inline(__always) mutating func jump(_ offset: BranchTarget) { pc = offset.address }

    // Loop ends: the induction step and the test of its result in one op. The sum
    // is stored before the right operand is read, as the two ops would.
    @inline(__always) mutating func brXadd32I32Nez(_ dst: XReg, _ a: XReg, _ imm: Int32, _ offset: BranchTarget) {
        let sum = x32(a) &+ UInt32(truncatingIfNeeded: Int32(imm))
        setX32(dst, sum)
        if sum != 0 { pc = offset.address }
    }
    @inline(__always) mutating func brXadd32I32Ne(_ dst: XReg, _ a: XReg, _ imm: Int32, _ c: XReg, _ offset: BranchTarget) {
        let sum = x32(a) &+ UInt32(truncatingIfNeeded: Int32(imm))
        setX32(dst, sum)
        if sum != x32(c) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd32I32NeI32(_ dst: XReg, _ a: XReg, _ imm: Int32, _ limit: Int32, _ offset: BranchTarget) {
        let sum = x32(a) &+ UInt32(truncatingIfNeeded: Int32(imm))
        setX32(dst, sum)
        if sum != UInt32(truncatingIfNeeded: Int32(limit)) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd32I32Slt(_ dst: XReg, _ a: XReg, _ imm: Int32, _ c: XReg, _ offset: BranchTarget) {
        let sum = x32(a) &+ UInt32(truncatingIfNeeded: Int32(imm))
        setX32(dst, sum)
        if Int32(bitPattern: sum) < s32(c) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd32I32Ult(_ dst: XReg, _ a: XReg, _ imm: Int32, _ c: XReg, _ offset: BranchTarget) {
        let sum = x32(a) &+ UInt32(truncatingIfNeeded: Int32(imm))
        setX32(dst, sum)
        if sum < x32(c) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd32Nez(_ dst: XReg, _ a: XReg, _ b: XReg, _ offset: BranchTarget) {
        let sum = x32(a) &+ x32(b)
        setX32(dst, sum)
        if sum != 0 { pc = offset.address }
    }
    @inline(__always) mutating func brXadd32Ne(_ dst: XReg, _ a: XReg, _ b: XReg, _ c: XReg, _ offset: BranchTarget) {
        let sum = x32(a) &+ x32(b)
        setX32(dst, sum)
        if sum != x32(c) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd32NeI32(_ dst: XReg, _ a: XReg, _ b: XReg, _ limit: Int32, _ offset: BranchTarget) {
        let sum = x32(a) &+ x32(b)
        setX32(dst, sum)
        if sum != UInt32(truncatingIfNeeded: Int32(limit)) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd32Slt(_ dst: XReg, _ a: XReg, _ b: XReg, _ c: XReg, _ offset: BranchTarget) {
        let sum = x32(a) &+ x32(b)
        setX32(dst, sum)
        if Int32(bitPattern: sum) < s32(c) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd32Ult(_ dst: XReg, _ a: XReg, _ b: XReg, _ c: XReg, _ offset: BranchTarget) {
        let sum = x32(a) &+ x32(b)
        setX32(dst, sum)
        if sum < x32(c) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd64I32Nez(_ dst: XReg, _ a: XReg, _ imm: Int32, _ offset: BranchTarget) {
        let sum = x64(a) &+ UInt64(truncatingIfNeeded: Int64(imm))
        setX64(dst, sum)
        if sum != 0 { pc = offset.address }
    }
    @inline(__always) mutating func brXadd64I32Ne(_ dst: XReg, _ a: XReg, _ imm: Int32, _ c: XReg, _ offset: BranchTarget) {
        let sum = x64(a) &+ UInt64(truncatingIfNeeded: Int64(imm))
        setX64(dst, sum)
        if sum != x64(c) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd64I32NeI32(_ dst: XReg, _ a: XReg, _ imm: Int32, _ limit: Int32, _ offset: BranchTarget) {
        let sum = x64(a) &+ UInt64(truncatingIfNeeded: Int64(imm))
        setX64(dst, sum)
        if sum != UInt64(truncatingIfNeeded: Int64(limit)) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd64I32Slt(_ dst: XReg, _ a: XReg, _ imm: Int32, _ c: XReg, _ offset: BranchTarget) {
        let sum = x64(a) &+ UInt64(truncatingIfNeeded: Int64(imm))
        setX64(dst, sum)
        if Int64(bitPattern: sum) < s64(c) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd64I32Ult(_ dst: XReg, _ a: XReg, _ imm: Int32, _ c: XReg, _ offset: BranchTarget) {
        let sum = x64(a) &+ UInt64(truncatingIfNeeded: Int64(imm))
        setX64(dst, sum)
        if sum < x64(c) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd64Nez(_ dst: XReg, _ a: XReg, _ b: XReg, _ offset: BranchTarget) {
        let sum = x64(a) &+ x64(b)
        setX64(dst, sum)
        if sum != 0 { pc = offset.address }
    }
    @inline(__always) mutating func brXadd64Ne(_ dst: XReg, _ a: XReg, _ b: XReg, _ c: XReg, _ offset: BranchTarget) {
        let sum = x64(a) &+ x64(b)
        setX64(dst, sum)
        if sum != x64(c) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd64NeI32(_ dst: XReg, _ a: XReg, _ b: XReg, _ limit: Int32, _ offset: BranchTarget) {
        let sum = x64(a) &+ x64(b)
        setX64(dst, sum)
        if sum != UInt64(truncatingIfNeeded: Int64(limit)) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd64Slt(_ dst: XReg, _ a: XReg, _ b: XReg, _ c: XReg, _ offset: BranchTarget) {
        let sum = x64(a) &+ x64(b)
        setX64(dst, sum)
        if Int64(bitPattern: sum) < s64(c) { pc = offset.address }
    }
    @inline(__always) mutating func brXadd64Ult(_ dst: XReg, _ a: XReg, _ b: XReg, _ c: XReg, _ offset: BranchTarget) {
        let sum = x64(a) &+ x64(b)
        setX64(dst, sum)
        if sum < x64(c) { pc = offset.address }
    }

    // A move, or a bit test, and the branch right after it, in one op, in the
    // two ops' order (the branch sees the move's or the test's result).
    @inline(__always) mutating func brXmovIfXnez32(_ dst: XReg, _ src: XReg, _ cond: XReg, _ offset: BranchTarget) {
        setX64(dst, x64(src))
        if x32(cond) != 0 { pc = offset.address }
    }
    @inline(__always) mutating func brXconst32(_ dst: XReg, _ imm: Int32, _ offset: BranchTarget) {
        setX32(dst, imm)
        pc = offset.address
    }
    @inline(__always) mutating func brXmov(_ dst: XReg, _ src: XReg, _ offset: BranchTarget) {
        setX64(dst, x64(src))
        pc = offset.address
    }
    @inline(__always) mutating func brXmovIfXne32I32(_ dst: XReg, _ src: XReg, _ a: XReg, _ imm: Int32, _ offset: BranchTarget) {
        setX64(dst, x64(src))
        if s32(a) != imm { pc = offset.address }
    }
    @inline(__always) mutating func brXand32I32EqI32(_ dst: XReg, _ src: XReg, _ mask: Int32, _ imm: Int32, _ offset: BranchTarget) {
        bitTest(dst, src, mask, offset) { $0 == UInt32(bitPattern: imm) }
    }
    @inline(__always) mutating func brXand32I32NeI32(_ dst: XReg, _ src: XReg, _ mask: Int32, _ imm: Int32, _ offset: BranchTarget) {
        bitTest(dst, src, mask, offset) { $0 != UInt32(bitPattern: imm) }
    }
    @inline(__always) mutating func brXand32I32UltI32(_ dst: XReg, _ src: XReg, _ mask: Int32, _ imm: Int32, _ offset: BranchTarget) {
        bitTest(dst, src, mask, offset) { $0 < UInt32(bitPattern: imm) }
    }
    @inline(__always) mutating func brXand32I32UleI32(_ dst: XReg, _ src: XReg, _ mask: Int32, _ imm: Int32, _ offset: BranchTarget) {
        bitTest(dst, src, mask, offset) { $0 <= UInt32(bitPattern: imm) }
    }
    /// `dst = src & mask`, then the branch when `taken` holds for it.
    @inline(__always) mutating func bitTest(_ dst: XReg, _ src: XReg, _ mask: Int32, _ offset: BranchTarget, _ taken: (UInt32) -> Bool) {
        let bits = x32(src) & UInt32(bitPattern: mask)
        setX32(dst, bits)
        if taken(bits) { pc = offset.address }
    }

    @inline(__always) mutating func brIfXnez32(_ cond: XReg, _ offset: BranchTarget) { if x32(cond) != 0 { pc = offset.address } }
    @inline(__always) mutating func brIfXeqz32(_ cond: XReg, _ offset: BranchTarget) { if x32(cond) == 0 { pc = offset.address } }
    @inline(__always) mutating func brIfXnez64(_ cond: XReg, _ offset: BranchTarget) { if x64(cond) != 0 { pc = offset.address } }
    @inline(__always) mutating func brIfXeqz64(_ cond: XReg, _ offset: BranchTarget) { if x64(cond) == 0 { pc = offset.address } }

    @inline(__always) mutating func brIfXeq32(_ a: XReg, _ b: XReg, _ offset: BranchTarget) { if x32(a) == x32(b) { pc = offset.address } }
    @inline(__always) mutating func brIfXne32(_ a: XReg, _ b: XReg, _ offset: BranchTarget) { if x32(a) != x32(b) { pc = offset.address } }
    @inline(__always) mutating func brIfXslt32(_ a: XReg, _ b: XReg, _ offset: BranchTarget) { if s32(a) < s32(b) { pc = offset.address } }
    @inline(__always) mutating func brIfXsle32(_ a: XReg, _ b: XReg, _ offset: BranchTarget) { if s32(a) <= s32(b) { pc = offset.address } }
    @inline(__always) mutating func brIfXult32(_ a: XReg, _ b: XReg, _ offset: BranchTarget) { if x32(a) < x32(b) { pc = offset.address } }
    @inline(__always) mutating func brIfXule32(_ a: XReg, _ b: XReg, _ offset: BranchTarget) { if x32(a) <= x32(b) { pc = offset.address } }
    @inline(__always) mutating func brIfXeq64(_ a: XReg, _ b: XReg, _ offset: BranchTarget) { if x64(a) == x64(b) { pc = offset.address } }
    @inline(__always) mutating func brIfXne64(_ a: XReg, _ b: XReg, _ offset: BranchTarget) { if x64(a) != x64(b) { pc = offset.address } }
    @inline(__always) mutating func brIfXslt64(_ a: XReg, _ b: XReg, _ offset: BranchTarget) { if s64(a) < s64(b) { pc = offset.address } }
    @inline(__always) mutating func brIfXsle64(_ a: XReg, _ b: XReg, _ offset: BranchTarget) { if s64(a) <= s64(b) { pc = offset.address } }
    @inline(__always) mutating func brIfXult64(_ a: XReg, _ b: XReg, _ offset: BranchTarget) { if x64(a) < x64(b) { pc = offset.address } }
    @inline(__always) mutating func brIfXule64(_ a: XReg, _ b: XReg, _ offset: BranchTarget) { if x64(a) <= x64(b) { pc = offset.address } }

    @inline(__always) mutating func brIfXeq32I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if s32(a) == imm { pc = offset.address } }
    @inline(__always) mutating func brIfXne32I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if s32(a) != imm { pc = offset.address } }
    @inline(__always) mutating func brIfXslt32I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if s32(a) < imm { pc = offset.address } }
    @inline(__always) mutating func brIfXsle32I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if s32(a) <= imm { pc = offset.address } }
    @inline(__always) mutating func brIfXsgt32I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if s32(a) > imm { pc = offset.address } }
    @inline(__always) mutating func brIfXsge32I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if s32(a) >= imm { pc = offset.address } }
    @inline(__always) mutating func brIfXult32I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if x32(a) < UInt32(bitPattern: imm) { pc = offset.address } }
    @inline(__always) mutating func brIfXule32I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if x32(a) <= UInt32(bitPattern: imm) { pc = offset.address } }
    @inline(__always) mutating func brIfXugt32I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if x32(a) > UInt32(bitPattern: imm) { pc = offset.address } }
    @inline(__always) mutating func brIfXuge32I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if x32(a) >= UInt32(bitPattern: imm) { pc = offset.address } }
    @inline(__always) mutating func brIfXeq64I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if s64(a) == Int64(imm) { pc = offset.address } }
    @inline(__always) mutating func brIfXne64I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if s64(a) != Int64(imm) { pc = offset.address } }
    @inline(__always) mutating func brIfXslt64I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if s64(a) < Int64(imm) { pc = offset.address } }
    @inline(__always) mutating func brIfXsle64I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if s64(a) <= Int64(imm) { pc = offset.address } }
    @inline(__always) mutating func brIfXsgt64I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if s64(a) > Int64(imm) { pc = offset.address } }
    @inline(__always) mutating func brIfXsge64I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if s64(a) >= Int64(imm) { pc = offset.address } }
    @inline(__always) mutating func brIfXult64I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if x64(a) < UInt64(bitPattern: Int64(imm)) { pc = offset.address } }
    @inline(__always) mutating func brIfXule64I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if x64(a) <= UInt64(bitPattern: Int64(imm)) { pc = offset.address } }
    @inline(__always) mutating func brIfXugt64I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if x64(a) > UInt64(bitPattern: Int64(imm)) { pc = offset.address } }
    @inline(__always) mutating func brIfXuge64I32(_ a: XReg, _ imm: Int32, _ offset: BranchTarget) { if x64(a) >= UInt64(bitPattern: Int64(imm)) { pc = offset.address } }

    @inline(__always) mutating func brTable32(_ index: XReg, _ targets: BranchTableRef) {
        // An index past the end selects the default, the last of count + 1 offsets.
        let i = min(x32(index), targets.count)
        let offset = targets.offsets.loadUnaligned(fromByteOffset: Int(i) &<< 2, as: Int32.self)
        pc = targets.start.advanced(by: Int(offset))
    }

    @inline(__always) mutating func call(_ offset: BranchTarget, _ frame: UInt16) {
        enterFrame(at: frame)
        pc = offset.address
    }

    @inline(__always) mutating func callIndirect(_ table: UInt32, _ type: UInt32, _ index: XReg, _ frame: UInt16) throws(Stop) {
        try call(try indirectCallee(table, type, index), frame)
    }

    /// The function at `tables[table][index]`, which must have signature `type`.
    @inline(__always) func indirectCallee(_ table: UInt32, _ type: UInt32, _ index: XReg) throws(Stop) -> UnsafePointer<FunctionRef> {
        // The table and type operands are trusted (compiler or artifact verifier); the index is not.
        let state = vm.pointee.tables[Int(table)]
        let i = x64(index)  // an i32's upper half is zero: one check for 32- and 64-bit tables
        guard i < UInt64(truncatingIfNeeded: state.count) else { try stop(.trap(.tableOutOfBounds)) }
        let callee = try registered(state.entries[Int(truncatingIfNeeded: i)], null: .indirectCallToNull)
        let expected = vm.pointee.signatures[Int(type)]
        guard callee.pointee.signature == expected || TypeHierarchy.isSubtype(
            callee.pointee.signature, of: expected, depths: vm.pointee.typeDepths, chainStarts: vm.pointee.typeChainStarts,
            chains: vm.pointee.typeChains, count: vm.pointee.typeCount) else {
            try stop(.trap(.badSignature))
        }
        return callee
    }

    @inline(__always) mutating func callRef(_ ref: XReg, _ frame: UInt16) throws(Stop) {
        // Validation guarantees the referenced function has the expected signature.
        try call(try registered(x64(ref), null: .nullFunctionReference), frame)
    }

    /// A lazily compiled function's direct call: function `index` of this instance,
    /// through its reference (`index` is in range: the compiler named a function the
    /// module has, or the verifier checked it, and the context holds all of them). Until
    /// the callee is compiled, its reference's code is a stub (`lazy_entry`).
    @inline(__always) mutating func callFunc(_ index: UInt32, _ frame: UInt16) throws(Stop) {
        try call(try registered(vm.pointee.functionRefs[Int(index)], null: .nullFunctionReference), frame)
    }

    @inline(__always) mutating func returnCallFunc(_ index: UInt32, _ frame: UInt16, _ count: UInt16) throws(Stop) {
        try tailCall(try registered(vm.pointee.functionRefs[Int(index)], null: .nullFunctionReference), frame, count)
    }

    /// The registered function `reference` names. Null traps with `null`; a value
    /// naming no function (only forged bytecode or a careless host makes one)
    /// traps as a signature mismatch. One unsigned compare checks both.
    @inline(__always) func registered(_ reference: UInt64, null: TrapCode) throws(Stop) -> UnsafePointer<FunctionRef> {
        let k = reference &- 1
        guard k < UInt64(truncatingIfNeeded: vm.pointee.functionCount) else {
            try stop(.trap(reference == 0 ? null : .badSignature))
        }
        return UnsafePointer(vm.pointee.functions + Int(truncatingIfNeeded: k))
    }

    /// Calls the function a non-null reference names: directly when its code runs in
    /// the current context, else through the host, which switches contexts.
    @inline(__always) private mutating func call(_ callee: UnsafePointer<FunctionRef>, _ frame: UInt16) throws(Stop) {
        if let code = callee.pointee.code, callee.pointee.context == vm.pointee.context {
            enterFrame(at: frame)
            pc = code
        } else {
            try callHost(callee.pointee.hostID, frame, callee.pointee.slots)
        }
    }

    /// The stub a lazily compiled function's reference runs until it is compiled:
    /// the call has entered the function's frame; the host compiles it and the run
    /// goes on at its first op (`Stop.compile`).
    @inline(__always) mutating func lazyEntry(_ index: UInt32) throws(Stop) {
        try stop(.compile(index))
    }

    // Tail calls. The arguments sit in the callee's window at `frame`, as for a
    // call; they move to the start of this frame, and the callee runs there with
    // this function's link, so it returns to this function's caller. `frame +
    // count` lies inside this frame (compiler, or artifact verifier: `count` is
    // a slot count after `frame`), and the two ranges may overlap (a move).
    @inline(__always) mutating func returnCall(_ offset: BranchTarget, _ frame: UInt16, _ count: UInt16) {
        moveArguments(frame, count)
        pc = offset.address
    }

    @inline(__always) mutating func returnCallIndirect(_ table: UInt32, _ type: UInt32, _ index: XReg, _ frame: UInt16, _ count: UInt16) throws(Stop) {
        try tailCall(try indirectCallee(table, type, index), frame, count)
    }

    @inline(__always) mutating func returnCallRef(_ ref: XReg, _ frame: UInt16, _ count: UInt16) throws(Stop) {
        try tailCall(try registered(x64(ref), null: .nullFunctionReference), frame, count)
    }

    /// Enters `callee` in place of this function when its code runs in this
    /// context. Else the host makes the call: in this one's place when the host
    /// entered this frame (`callHost`'s `replacing`), otherwise as any call (the
    /// stack grows by that one call) whose results the code after the op returns.
    @inline(__always) private mutating func tailCall(_ callee: UnsafePointer<FunctionRef>, _ frame: UInt16, _ count: UInt16) throws(Stop) {
        if let code = callee.pointee.code, callee.pointee.context == vm.pointee.context {
            moveArguments(frame, count)
            pc = code
        } else {
            try callHost(callee.pointee.hostID, frame, callee.pointee.slots, replacing: true)
        }
    }

    @inline(__always) mutating func throwException(_ tag: UInt32, _ frame: UInt16, _ slots: UInt16) throws(Stop) {
        // The payload is read from the slots at `frame` as a host call's arguments are.
        try handToHost(frame, slots)
        try stop(.thrown(tag))
    }

    @inline(__always) mutating func throwRef(_ exn: XReg) throws(Stop) {
        guard x64(exn) != 0 else { try stop(.trap(.nullExceptionReference)) }
        // The reference reaches `VM.run` as a one-slot payload: its own register.
        try handToHost(exn.index, 1)
        try stop(.rethrown)
    }

    @inline(__always) mutating func returnCallHost(_ id: UInt32, _ frame: UInt16, _ slots: UInt16) throws(Stop) {
        try callHost(id, frame, slots, replacing: true)
    }

    /// Gives the host the `slots` slots at `frame` (`VMState.hostFrame`, `hostSlots`):
    /// a host call's arguments and results, a throw's payload.
    @inline(__always) private mutating func handToHost(_ frame: UInt16, _ slots: UInt16) throws(Stop) {
        // The slots must lie below the link stack (a reference's slot count comes
        // from the callee, not from this frame's `push_frame`).
        let end = UInt(bitPattern: fp) &+ (UInt(frame) &<< 3) &+ (UInt(slots) &<< 3)
        guard end <= UInt(bitPattern: links) else { try stop(.trap(.stackOverflow)) }
        vm.pointee.hostFrame = fp.advanced(by: Int(frame) &<< 3)
        vm.pointee.hostSlots = Int(slots)
    }

    /// Slots `frame ..< frame + count` to `0 ..< count` (the ranges may overlap).
    @inline(__always) private mutating func moveArguments(_ frame: UInt16, _ count: UInt16) {
        fp.copyMemory(from: fp.advanced(by: Int(frame) &<< 3), byteCount: Int(count) &<< 3)
    }

    /// Stops the loop for the host to call function `id` with the `slots` slots at
    /// `frame`. `replacing`: a tail call, which ends this call instead when the host
    /// entered this frame (its link returns to the host, pc 0) and the host takes
    /// tail calls (`VMState.tailCallsLeave`): so a chain of tail calls between
    /// instances runs in constant stack space.
    @inline(__always) mutating func callHost(_ id: UInt32, _ frame: UInt16, _ slots: UInt16) throws(Stop) {
        try callHost(id, frame, slots, replacing: false)
    }

    @inline(__always) mutating func callHost(_ id: UInt32, _ frame: UInt16, _ slots: UInt16, replacing: Bool) throws(Stop) {
        try handToHost(frame, slots)
        if replacing && vm.pointee.tailCallsLeave && links.load(as: UInt.self) == 0 { try stop(.tailCall(id)) }
        try stop(.hostCall(id))
    }

    @inline(__always) mutating func checkpoint(_ cost: UInt32) throws(Stop) {
        let fuel = vm.pointee.fuel &- Int64(cost)
        vm.pointee.fuel = fuel
        if fuel < 0 || vm.pointee.interrupt.load(ordering: .relaxed) != 0 {
            try checkpointStop()
        }
    }

    /// The rare half of `checkpoint` (`VMState.checkpointStop`): an interruption or
    /// fuel run out stops the loop after the checkpoint, where `run` resumes if the
    /// host lets it (`VM.invoke`); the fuel stays in debt meanwhile, so that what
    /// the host adds pays it first.
    private mutating func checkpointStop() throws(Stop) {
        if let code = vm.pointee.checkpointStop() { try stop(.checkpoint(code)) }
    }

    @inline(__always) mutating func pushFrame(_ size: UInt32) throws(Stop) {
        // The frame, and room for one more link (the next call's), must lie
        // below the link stack. Compare as integers: `fp + 8 * size` may lie
        // past the allocation.
        let end = UInt(bitPattern: fp) &+ (UInt(size) &<< 3) &+ 16
        guard end <= UInt(bitPattern: links) else { try stop(.trap(.stackOverflow)) }
    }

    @inline(__always) mutating func pushFrameZero(_ size: UInt32, _ first: UInt16, _ count: UInt16) throws(Stop) {
        try pushFrame(size)
        xzero(first, count)
    }

    /// Pushes the link and makes the frame `frame` slots above the current one current.
    /// The link's 16 bytes are free: the caller's `push_frame` checked them.
    @inline(__always) private mutating func enterFrame(at frame: UInt16) {
        links = links.advanced(by: -16)
        links.storeBytes(of: UInt(bitPattern: pc), as: UInt.self)
        links.storeBytes(of: fp, toByteOffset: 8, as: UnsafeMutableRawPointer.self)
        fp = fp.advanced(by: Int(frame) &<< 3)
    }
}
