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

    /// Checks `start + count <= limit`, without overflow.
    @inline(__always) func inBounds(_ start: UInt32, _ count: UInt32, _ limit: Int) -> Bool {
        UInt64(start) &+ UInt64(count) <= UInt64(truncatingIfNeeded: limit)
    }

    @inline(__always) mutating func tableGet(_ dst: XReg, _ table: UInt32, _ index: XReg) throws(Stop) {
        let state = vm.pointee.tables[Int(table)]
        let i = x32(index)
        guard Int(i) < state.count else { try stop(.trap(.tableAccessOutOfBounds)) }
        setX64(dst, state.entries[Int(i)])
    }

    @inline(__always) mutating func tableSet(_ table: UInt32, _ index: XReg, _ value: XReg) throws(Stop) {
        let state = vm.pointee.tables[Int(table)]
        let i = x32(index)
        guard Int(i) < state.count else { try stop(.trap(.tableAccessOutOfBounds)) }
        state.entries[Int(i)] = x64(value)
    }

    @inline(__always) mutating func tableSize(_ dst: XReg, _ table: UInt32) {
        setX32(dst, UInt32(truncatingIfNeeded: vm.pointee.tables[Int(table)].count))
    }

    @inline(__always) mutating func tableGrow(_ dst: XReg, _ table: UInt32, _ value: XReg, _ delta: XReg) {
        let old = Self.growTable(vm.pointee.tables + Int(table), by: Int(x32(delta)), value: x64(value))
        setX32(dst, UInt32(truncatingIfNeeded: old))  // -1 (failure) becomes 0xFFFF_FFFF
    }

    /// Grows a table and updates its state; returns the old size, or -1. Out of line,
    /// so the handler touches no object (see `growMemory`).
    @inline(never)
    static func growTable(_ state: UnsafeMutablePointer<TableState>, by delta: Int, value: UInt64) -> Int {
        let object = state.pointee.object.takeUnretainedValue()
        guard let old = object.grow(by: delta, value: value) else { return -1 }
        state.pointee.entries = object.entries
        state.pointee.count = object.count
        return old
    }

    @inline(__always) mutating func tableFill(_ table: UInt32, _ start: XReg, _ value: XReg, _ count: XReg) throws(Stop) {
        let state = vm.pointee.tables[Int(table)]
        let s = x32(start), n = x32(count)
        guard inBounds(s, n, state.count) else { try stop(.trap(.tableAccessOutOfBounds)) }
        (state.entries + Int(s)).update(repeating: x64(value), count: Int(n))
    }

    @inline(__always) mutating func tableCopy(_ dstTable: UInt32, _ srcTable: UInt32, _ dst: XReg, _ src: XReg, _ count: XReg) throws(Stop) {
        let to = vm.pointee.tables[Int(dstTable)], from = vm.pointee.tables[Int(srcTable)]
        let d = x32(dst), s = x32(src), n = x32(count)
        guard inBounds(d, n, to.count), inBounds(s, n, from.count) else { try stop(.trap(.tableAccessOutOfBounds)) }
        UnsafeMutableRawPointer(to.entries + Int(d)).copyMemory(from: from.entries + Int(s), byteCount: Int(n) * 8)
    }

    @inline(__always) mutating func tableInit(_ table: UInt32, _ segment: UInt32, _ dst: XReg, _ src: XReg, _ count: XReg) throws(Stop) {
        let to = vm.pointee.tables[Int(table)], from = vm.pointee.elements[Int(segment)]
        let d = x32(dst), s = x32(src), n = x32(count)
        guard inBounds(d, n, to.count), inBounds(s, n, from.count) else { try stop(.trap(.tableAccessOutOfBounds)) }
        guard n > 0, let base = from.base else { return }
        UnsafeMutableRawPointer(to.entries + Int(d)).copyMemory(from: base + Int(s) * 8, byteCount: Int(n) * 8)
    }

    @inline(__always) mutating func elemDrop(_ segment: UInt32) {
        vm.pointee.elements[Int(segment)].count = 0
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

    @inline(__always) mutating func dataDrop(_ segment: UInt32) {
        vm.pointee.dataSegments[Int(segment)].count = 0
    }
}
