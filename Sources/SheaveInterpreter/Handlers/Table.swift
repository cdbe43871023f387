import SheaveBytecode

// References, tables and bulk memory. A reference is 8 bytes: 0 is null, a
// funcref is the address of a `FunctionRef`, an externref the host's value + 1.
// Every range computed from registers is checked in 64 bits before anything is
// read or written. Immediates (table, segment, function indices) are trusted:
// the compiler validated each against the module, and the execution context
// holds exactly the module's tables, segments and functions.

extension Executor {
    @inline(__always) mutating func refFunc(_ dst: XReg, _ index: UInt32) {
        setX64(dst, vm.pointee.functionRefs[Int(index)])
    }

    /// Checks `start + count <= limit`, without overflow. Indices, addresses and
    /// counts are read in all 64 bits: an i32's upper half is zero, so one check
    /// serves 32- and 64-bit tables and memories.
    @inline(__always) func inBounds(_ start: UInt64, _ count: UInt64, _ limit: Int) -> Bool {
        let (end, overflow) = start.addingReportingOverflow(count)
        return !overflow && end <= UInt64(truncatingIfNeeded: limit)
    }

    @inline(__always) mutating func tableGet(_ dst: XReg, _ table: UInt32, _ index: XReg) throws(Stop) {
        let state = vm.pointee.tables[Int(table)]
        let i = x64(index)
        guard i < UInt64(truncatingIfNeeded: state.count) else { try stop(.trap(.tableAccessOutOfBounds)) }
        setX64(dst, state.entries[Int(truncatingIfNeeded: i)])
    }

    @inline(__always) mutating func tableSet(_ table: UInt32, _ index: XReg, _ value: XReg) throws(Stop) {
        let state = vm.pointee.tables[Int(table)]
        let i = x64(index)
        guard i < UInt64(truncatingIfNeeded: state.count) else { try stop(.trap(.tableAccessOutOfBounds)) }
        state.entries[Int(truncatingIfNeeded: i)] = x64(value)
    }

    @inline(__always) mutating func tableSize(_ dst: XReg, _ table: UInt32) {
        setX64(dst, UInt64(truncatingIfNeeded: vm.pointee.tables[Int(table)].count))
    }

    @inline(__always) mutating func tableGrow(_ dst: XReg, _ table: UInt32, _ value: XReg, _ delta: XReg) {
        let old = Self.growTable(vm, Int(table), by: x64(delta), value: x64(value))
        setX64(dst, UInt64(bitPattern: Int64(old)))  // -1 (failure): of the table's width, below
    }

    /// Grows a table and re-reads every table and memory of the context; returns the
    /// old size, or -1 as the table's index type has it (0xFFFF_FFFF for a 32-bit
    /// table). Out of line, so the handler touches no object (see `growMemory`).
    @inline(never)
    static func growTable(_ vm: UnsafeMutablePointer<VMState>, _ index: Int, by delta: UInt64, value: UInt64) -> Int {
        let object = vm.pointee.tables[index].object.takeUnretainedValue()
        guard delta <= UInt64(Int.max), let old = object.grow(by: Int(delta), value: value) else { return object.is64 ? -1 : Int(UInt32.max) }
        VM.refresh(vm)
        return old
    }

    @inline(__always) mutating func tableFill(_ table: UInt32, _ start: XReg, _ value: XReg, _ count: XReg) throws(Stop) {
        let state = vm.pointee.tables[Int(table)]
        let s = x64(start), n = x64(count)
        guard inBounds(s, n, state.count) else { try stop(.trap(.tableAccessOutOfBounds)) }
        (state.entries + Int(s)).update(repeating: x64(value), count: Int(n))
    }

    @inline(__always) mutating func tableCopy(_ dstTable: UInt32, _ srcTable: UInt32, _ dst: XReg, _ src: XReg, _ count: XReg) throws(Stop) {
        let to = vm.pointee.tables[Int(dstTable)], from = vm.pointee.tables[Int(srcTable)]
        let d = x64(dst), s = x64(src), n = x64(count)
        guard inBounds(d, n, to.count), inBounds(s, n, from.count) else { try stop(.trap(.tableAccessOutOfBounds)) }
        UnsafeMutableRawPointer(to.entries + Int(d)).copyMemory(from: from.entries + Int(s), byteCount: Int(n) * 8)
    }

    @inline(__always) mutating func tableInit(_ table: UInt32, _ segment: UInt32, _ dst: XReg, _ src: XReg, _ count: XReg) throws(Stop) {
        let to = vm.pointee.tables[Int(table)], from = vm.pointee.elements[Int(segment)]
        let d = x64(dst), s = x64(src), n = x64(count)
        guard inBounds(d, n, to.count), inBounds(s, n, from.count) else { try stop(.trap(.tableAccessOutOfBounds)) }
        guard n > 0, let base = from.base else { return }
        UnsafeMutableRawPointer(to.entries + Int(d)).copyMemory(from: base + Int(s) * 8, byteCount: Int(n) * 8)
    }

    @inline(__always) mutating func elemDrop(_ segment: UInt32) {
        vm.pointee.elements[Int(segment)].count = 0
    }

    /// Checks `start + count <= limit` for 32-bit operands (memory 0's fast ops).
    @inline(__always) func inBounds(_ start: UInt32, _ count: UInt32, _ limit: Int) -> Bool {
        UInt64(start) &+ UInt64(count) <= UInt64(truncatingIfNeeded: limit)
    }

    @inline(__always) mutating func memoryFill(_ dst: XReg, _ value: XReg, _ count: XReg) throws(Stop) {
        let d = x32(dst), n = x32(count)
        guard inBounds(d, n, memorySize) else { try stop(.trap(.memoryOutOfBounds)) }
        (memory + Int(d)).initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: x64(value)), count: Int(n))
    }

    @inline(__always) mutating func memoryCopy(_ dst: XReg, _ src: XReg, _ count: XReg) throws(Stop) {
        let d = x32(dst), s = x32(src), n = x32(count)
        guard inBounds(d, n, memorySize), inBounds(s, n, memorySize) else { try stop(.trap(.memoryOutOfBounds)) }
        (memory + Int(d)).copyMemory(from: memory + Int(s), byteCount: Int(n))  // memmove: overlap-safe
    }

    @inline(__always) mutating func memoryInit(_ segment: UInt32, _ dst: XReg, _ src: XReg, _ count: XReg) throws(Stop) {
        let from = vm.pointee.dataSegments[Int(segment)]
        let d = x32(dst), s = x32(src), n = x32(count)
        guard inBounds(d, n, memorySize), inBounds(s, n, from.count) else { try stop(.trap(.memoryOutOfBounds)) }
        guard n > 0, let base = from.base else { return }
        (memory + Int(d)).copyMemory(from: base + Int(s), byteCount: Int(n))
    }

    // Any memory (the `_m` forms): 64-bit operands, checked without overflow
    // before they are converted (so every `Int(truncatingIfNeeded:)` below is exact).
    @inline(__always) mutating func memoryFillM(_ index: UInt32, _ dst: XReg, _ value: XReg, _ count: XReg) throws(Stop) {
        let to = vm.pointee.memories[Int(index)]
        let d = x64(dst), n = x64(count)
        guard inBounds(d, n, to.byteCount) else { try stop(.trap(.memoryOutOfBounds)) }
        (to.base + Int(truncatingIfNeeded: d)).initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: x64(value)), count: Int(truncatingIfNeeded: n))
    }

    @inline(__always) mutating func memoryCopyM(_ dstMemory: UInt32, _ srcMemory: UInt32, _ dst: XReg, _ src: XReg, _ count: XReg) throws(Stop) {
        let to = vm.pointee.memories[Int(dstMemory)], from = vm.pointee.memories[Int(srcMemory)]
        let d = x64(dst), s = x64(src), n = x64(count)
        guard inBounds(d, n, to.byteCount), inBounds(s, n, from.byteCount) else { try stop(.trap(.memoryOutOfBounds)) }
        (to.base + Int(truncatingIfNeeded: d)).copyMemory(from: from.base + Int(truncatingIfNeeded: s), byteCount: Int(truncatingIfNeeded: n))  // memmove
    }

    @inline(__always) mutating func memoryInitM(_ index: UInt32, _ segment: UInt32, _ dst: XReg, _ src: XReg, _ count: XReg) throws(Stop) {
        let to = vm.pointee.memories[Int(index)], from = vm.pointee.dataSegments[Int(segment)]
        let d = x64(dst), s = x64(src), n = x64(count)
        guard inBounds(d, n, to.byteCount), inBounds(s, n, from.count) else { try stop(.trap(.memoryOutOfBounds)) }
        guard n > 0, let base = from.base else { return }
        (to.base + Int(truncatingIfNeeded: d)).copyMemory(from: base + Int(truncatingIfNeeded: s), byteCount: Int(truncatingIfNeeded: n))
    }

    @inline(__always) mutating func dataDrop(_ segment: UInt32) {
        vm.pointee.dataSegments[Int(segment)].count = 0
    }
}
