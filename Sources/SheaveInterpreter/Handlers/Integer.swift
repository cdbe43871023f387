import SheaveBytecode

// Integer arithmetic, comparisons and width changes. Wasm's wrapping
// arithmetic uses Swift's &-operators: no overflow checks on the hot path.
// Shift and rotate amounts are taken modulo the width (&<< and &>> mask).

extension Executor {
    // MARK: Moves and constants

    @inline(__always) mutating func xmov(_ dst: XReg, _ src: XReg) { setX64(dst, x64(src)) }
    @inline(__always) mutating func xmul32AddI32(_ dst: XReg, _ src: XReg, _ mul: Int32, _ add: Int32) {
        setX32(dst, x32(src) &* UInt32(bitPattern: mul) &+ UInt32(bitPattern: add))
    }
    @inline(__always) mutating func xmul32Add(_ dst: XReg, _ a: XReg, _ b: XReg, _ c: XReg) { setX32(dst, x32(a) &* x32(b) &+ x32(c)) }
    @inline(__always) mutating func xadd32Add(_ dst: XReg, _ a: XReg, _ b: XReg, _ c: XReg) { setX32(dst, x32(a) &+ x32(b) &+ x32(c)) }
    @inline(__always) mutating func xmul32AddAdd(_ dst: XReg, _ a: XReg, _ b: XReg, _ c: XReg, _ d: XReg) {
        setX32(dst, x32(a) &* x32(b) &+ x32(c) &+ x32(d))
    }
    @inline(__always) mutating func xmul64AddI32(_ dst: XReg, _ src: XReg, _ mul: Int32, _ add: Int32) {
        setX64(dst, x64(src) &* UInt64(bitPattern: Int64(mul)) &+ UInt64(bitPattern: Int64(add)))
    }
    @inline(__always) mutating func xconst32(_ dst: XReg, _ imm: Int32) { setX32(dst, imm) }
    @inline(__always) mutating func xconst64(_ dst: XReg, _ imm: Int64) { setX64(dst, imm) }
    @inline(__always) mutating func xselect(_ dst: XReg, _ cond: XReg, _ a: XReg, _ b: XReg) {
        setX64(dst, pick(x32(cond) != 0, x64(a), x64(b)))
    }

    /// `first` if `condition`, else `second`, through a mask: both registers are
    /// loaded before the condition is known. Written as `condition ? x64(a) : x64(b)`
    /// (or as a mask the optimizer can see through), LLVM selects between the two
    /// register numbers and loads once, after the compare: two dependent loads
    /// (the register number, then the register) on the select's critical path,
    /// which loops.c's Collatz step waits on every iteration. XOR with a zero it
    /// cannot know keeps the mask a mask; the load of it does not wait on anything.
    @inline(__always) func pick(_ condition: Bool, _ first: UInt64, _ second: UInt64) -> UInt64 {
        let mask = (0 &- UInt64(condition ? 1 : 0)) ^ vm.pointee.opaqueZero
        return (first & mask) | (second & ~mask)
    }

    // MARK: 32-bit

    @inline(__always) mutating func xadd32(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX32(dst, x32(src1) &+ x32(src2)) }
    @inline(__always) mutating func xsub32(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX32(dst, x32(src1) &- x32(src2)) }
    @inline(__always) mutating func xmul32(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX32(dst, x32(src1) &* x32(src2)) }
    @inline(__always) mutating func xand32(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX32(dst, x32(src1) & x32(src2)) }
    @inline(__always) mutating func xor32(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX32(dst, x32(src1) | x32(src2)) }
    @inline(__always) mutating func xxor32(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX32(dst, x32(src1) ^ x32(src2)) }
    @inline(__always) mutating func xshl32(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX32(dst, x32(src1) &<< x32(src2)) }
    @inline(__always) mutating func xshr32S(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX32(dst, s32(src1) &>> s32(src2)) }
    @inline(__always) mutating func xshr32U(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX32(dst, x32(src1) &>> x32(src2)) }
    @inline(__always) mutating func xrotl32(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX32(dst, rotl(x32(src1), x32(src2))) }
    @inline(__always) mutating func xrotr32(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX32(dst, rotl(x32(src1), 0 &- x32(src2))) }

    @inline(__always) mutating func xdiv32S(_ dst: XReg, _ src1: XReg, _ src2: XReg) throws(Stop) {
        let a = s32(src1), b = s32(src2)
        guard b != 0 else { try stop(.trap(.integerDivisionByZero)) }
        guard !(a == .min && b == -1) else { try stop(.trap(.integerOverflow)) }
        setX32(dst, a / b)
    }
    @inline(__always) mutating func xdiv32U(_ dst: XReg, _ src1: XReg, _ src2: XReg) throws(Stop) {
        let b = x32(src2)
        guard b != 0 else { try stop(.trap(.integerDivisionByZero)) }
        setX32(dst, x32(src1) / b)
    }
    @inline(__always) mutating func xrem32S(_ dst: XReg, _ src1: XReg, _ src2: XReg) throws(Stop) {
        let a = s32(src1), b = s32(src2)
        guard b != 0 else { try stop(.trap(.integerDivisionByZero)) }
        setX32(dst, b == -1 ? 0 : a % b)  // Int32.min % -1 would overflow; the answer is 0.
    }
    @inline(__always) mutating func xrem32U(_ dst: XReg, _ src1: XReg, _ src2: XReg) throws(Stop) {
        let b = x32(src2)
        guard b != 0 else { try stop(.trap(.integerDivisionByZero)) }
        setX32(dst, x32(src1) % b)
    }

    @inline(__always) mutating func xeqz32(_ dst: XReg, _ src: XReg) { setBool(dst, x32(src) == 0) }
    @inline(__always) mutating func xclz32(_ dst: XReg, _ src: XReg) { setX32(dst, UInt32(x32(src).leadingZeroBitCount)) }
    @inline(__always) mutating func xctz32(_ dst: XReg, _ src: XReg) { setX32(dst, UInt32(x32(src).trailingZeroBitCount)) }
    @inline(__always) mutating func xpopcnt32(_ dst: XReg, _ src: XReg) { setX32(dst, UInt32(x32(src).nonzeroBitCount)) }

    @inline(__always) mutating func xeq32(_ dst: XReg, _ a: XReg, _ b: XReg) { setBool(dst, x32(a) == x32(b)) }
    @inline(__always) mutating func xne32(_ dst: XReg, _ a: XReg, _ b: XReg) { setBool(dst, x32(a) != x32(b)) }
    @inline(__always) mutating func xslt32(_ dst: XReg, _ a: XReg, _ b: XReg) { setBool(dst, s32(a) < s32(b)) }
    @inline(__always) mutating func xsle32(_ dst: XReg, _ a: XReg, _ b: XReg) { setBool(dst, s32(a) <= s32(b)) }
    @inline(__always) mutating func xult32(_ dst: XReg, _ a: XReg, _ b: XReg) { setBool(dst, x32(a) < x32(b)) }
    @inline(__always) mutating func xule32(_ dst: XReg, _ a: XReg, _ b: XReg) { setBool(dst, x32(a) <= x32(b)) }

    // MARK: 64-bit

    @inline(__always) mutating func xadd64(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX64(dst, x64(src1) &+ x64(src2)) }
    @inline(__always) mutating func xsub64(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX64(dst, x64(src1) &- x64(src2)) }
    @inline(__always) mutating func xmul64(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX64(dst, x64(src1) &* x64(src2)) }
    @inline(__always) mutating func xand64(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX64(dst, x64(src1) & x64(src2)) }
    @inline(__always) mutating func xor64(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX64(dst, x64(src1) | x64(src2)) }
    @inline(__always) mutating func xxor64(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX64(dst, x64(src1) ^ x64(src2)) }
    @inline(__always) mutating func xshl64(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX64(dst, x64(src1) &<< x64(src2)) }
    @inline(__always) mutating func xshr64S(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX64(dst, s64(src1) &>> s64(src2)) }
    @inline(__always) mutating func xshr64U(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX64(dst, x64(src1) &>> x64(src2)) }
    @inline(__always) mutating func xrotl64(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX64(dst, rotl(x64(src1), x64(src2))) }
    @inline(__always) mutating func xrotr64(_ dst: XReg, _ src1: XReg, _ src2: XReg) { setX64(dst, rotl(x64(src1), 0 &- x64(src2))) }

    @inline(__always) mutating func xdiv64S(_ dst: XReg, _ src1: XReg, _ src2: XReg) throws(Stop) {
        let a = s64(src1), b = s64(src2)
        guard b != 0 else { try stop(.trap(.integerDivisionByZero)) }
        guard !(a == .min && b == -1) else { try stop(.trap(.integerOverflow)) }
        setX64(dst, a / b)
    }
    @inline(__always) mutating func xdiv64U(_ dst: XReg, _ src1: XReg, _ src2: XReg) throws(Stop) {
        let b = x64(src2)
        guard b != 0 else { try stop(.trap(.integerDivisionByZero)) }
        setX64(dst, x64(src1) / b)
    }
    @inline(__always) mutating func xrem64S(_ dst: XReg, _ src1: XReg, _ src2: XReg) throws(Stop) {
        let a = s64(src1), b = s64(src2)
        guard b != 0 else { try stop(.trap(.integerDivisionByZero)) }
        setX64(dst, b == -1 ? 0 : a % b)  // Int64.min % -1 would overflow; the answer is 0.
    }
    @inline(__always) mutating func xrem64U(_ dst: XReg, _ src1: XReg, _ src2: XReg) throws(Stop) {
        let b = x64(src2)
        guard b != 0 else { try stop(.trap(.integerDivisionByZero)) }
        setX64(dst, x64(src1) % b)
    }

    @inline(__always) mutating func xeqz64(_ dst: XReg, _ src: XReg) { setBool(dst, x64(src) == 0) }
    @inline(__always) mutating func xclz64(_ dst: XReg, _ src: XReg) { setX64(dst, UInt64(x64(src).leadingZeroBitCount)) }
    @inline(__always) mutating func xctz64(_ dst: XReg, _ src: XReg) { setX64(dst, UInt64(x64(src).trailingZeroBitCount)) }
    @inline(__always) mutating func xpopcnt64(_ dst: XReg, _ src: XReg) { setX64(dst, UInt64(x64(src).nonzeroBitCount)) }

    @inline(__always) mutating func xeq64(_ dst: XReg, _ a: XReg, _ b: XReg) { setBool(dst, x64(a) == x64(b)) }
    @inline(__always) mutating func xne64(_ dst: XReg, _ a: XReg, _ b: XReg) { setBool(dst, x64(a) != x64(b)) }
    @inline(__always) mutating func xslt64(_ dst: XReg, _ a: XReg, _ b: XReg) { setBool(dst, s64(a) < s64(b)) }
    @inline(__always) mutating func xsle64(_ dst: XReg, _ a: XReg, _ b: XReg) { setBool(dst, s64(a) <= s64(b)) }
    @inline(__always) mutating func xult64(_ dst: XReg, _ a: XReg, _ b: XReg) { setBool(dst, x64(a) < x64(b)) }
    @inline(__always) mutating func xule64(_ dst: XReg, _ a: XReg, _ b: XReg) { setBool(dst, x64(a) <= x64(b)) }

    // MARK: Immediate forms

    @inline(__always) mutating func xzero(_ first: UInt16, _ count: UInt16) {
        // first + count <= the frame size that push_frame checked: the compiler emits
        // it for the declared locals, and the artifact verifier checks it (`@frame`,
        // `@slots` operands). A plain loop of stores: counts are small.
        var slot = fp.advanced(by: Int(first) &<< 3)
        for _ in 0..<count {
            slot.storeBytes(of: UInt64(0), as: UInt64.self)
            slot = slot.advanced(by: 8)
        }
    }
    @inline(__always) mutating func xadd32Shl(_ dst: XReg, _ base: XReg, _ index: XReg, _ shift: UInt8) {
        setX32(dst, x32(base) &+ (x32(index) &<< UInt32(shift & 31)))
    }
    @inline(__always) mutating func xxor32Shl(_ dst: XReg, _ a: XReg, _ b: XReg, _ shift: UInt8) { setX32(dst, x32(a) ^ (x32(b) &<< UInt32(shift & 31))) }
    @inline(__always) mutating func xxor32ShrU(_ dst: XReg, _ a: XReg, _ b: XReg, _ shift: UInt8) { setX32(dst, x32(a) ^ (x32(b) &>> UInt32(shift & 31))) }
    @inline(__always) mutating func xxor64Shl(_ dst: XReg, _ a: XReg, _ b: XReg, _ shift: UInt8) { setX64(dst, x64(a) ^ (x64(b) &<< UInt64(shift & 63))) }
    @inline(__always) mutating func xxor64ShrU(_ dst: XReg, _ a: XReg, _ b: XReg, _ shift: UInt8) { setX64(dst, x64(a) ^ (x64(b) &>> UInt64(shift & 63))) }
    @inline(__always) mutating func xselectAndI32(_ dst: XReg, _ src: XReg, _ mask: Int32, _ a: XReg, _ b: XReg) {
        setX64(dst, pick(x32(src) & UInt32(bitPattern: mask) != 0, x64(a), x64(b)))
    }
    @inline(__always) mutating func xselectAndXorI32(_ dst: XReg, _ src: XReg, _ mask: Int32, _ imm: Int32, _ b: XReg) {
        // Through `pick`'s mask, as every select: the bit is data (a CRC's), and a branch on it mispredicts.
        let value = UInt64(x32(b))
        setX64(dst, pick(x32(src) & UInt32(bitPattern: mask) != 0, value ^ UInt64(UInt32(bitPattern: imm)), value))
    }
    @inline(__always) mutating func xselect64(_ dst: XReg, _ cond: XReg, _ a: XReg, _ b: XReg) { setX64(dst, pick(x64(cond) != 0, x64(a), x64(b))) }
    @inline(__always) mutating func xshr32UAnd(_ dst: XReg, _ src: XReg, _ shift: UInt8, _ mask: Int32) {
        setX32(dst, (x32(src) &>> UInt32(shift & 31)) & UInt32(bitPattern: mask))
    }
    @inline(__always) mutating func xadd32I32(_ dst: XReg, _ src: XReg, _ imm: Int32) { setX32(dst, x32(src) &+ UInt32(bitPattern: imm)) }
    @inline(__always) mutating func xadd64I64(_ dst: XReg, _ src: XReg, _ imm: Int64) { setX64(dst, x64(src) &+ UInt64(bitPattern: imm)) }
    @inline(__always) mutating func xmul64I64(_ dst: XReg, _ src: XReg, _ imm: Int64) { setX64(dst, x64(src) &* UInt64(bitPattern: imm)) }
    @inline(__always) mutating func xand64I64(_ dst: XReg, _ src: XReg, _ imm: Int64) { setX64(dst, x64(src) & UInt64(bitPattern: imm)) }
    @inline(__always) mutating func xor64I64(_ dst: XReg, _ src: XReg, _ imm: Int64) { setX64(dst, x64(src) | UInt64(bitPattern: imm)) }
    @inline(__always) mutating func xxor64I64(_ dst: XReg, _ src: XReg, _ imm: Int64) { setX64(dst, x64(src) ^ UInt64(bitPattern: imm)) }
    @inline(__always) mutating func xmul32I32(_ dst: XReg, _ src: XReg, _ imm: Int32) { setX32(dst, x32(src) &* UInt32(bitPattern: imm)) }
    @inline(__always) mutating func xand32I32(_ dst: XReg, _ src: XReg, _ imm: Int32) { setX32(dst, x32(src) & UInt32(bitPattern: imm)) }
    @inline(__always) mutating func xor32I32(_ dst: XReg, _ src: XReg, _ imm: Int32) { setX32(dst, x32(src) | UInt32(bitPattern: imm)) }
    @inline(__always) mutating func xxor32I32(_ dst: XReg, _ src: XReg, _ imm: Int32) { setX32(dst, x32(src) ^ UInt32(bitPattern: imm)) }
    @inline(__always) mutating func xshl32U8(_ dst: XReg, _ src: XReg, _ imm: UInt8) { setX32(dst, x32(src) &<< UInt32(imm)) }
    @inline(__always) mutating func xshr32SU8(_ dst: XReg, _ src: XReg, _ imm: UInt8) { setX32(dst, s32(src) &>> Int32(imm)) }
    @inline(__always) mutating func xshr32UU8(_ dst: XReg, _ src: XReg, _ imm: UInt8) { setX32(dst, x32(src) &>> UInt32(imm)) }
    @inline(__always) mutating func xeq32I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, s32(a) == imm) }
    @inline(__always) mutating func xne32I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, s32(a) != imm) }
    @inline(__always) mutating func xslt32I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, s32(a) < imm) }
    @inline(__always) mutating func xsle32I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, s32(a) <= imm) }
    @inline(__always) mutating func xsgt32I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, s32(a) > imm) }
    @inline(__always) mutating func xsge32I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, s32(a) >= imm) }
    @inline(__always) mutating func xult32I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, x32(a) < UInt32(bitPattern: imm)) }
    @inline(__always) mutating func xule32I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, x32(a) <= UInt32(bitPattern: imm)) }
    @inline(__always) mutating func xugt32I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, x32(a) > UInt32(bitPattern: imm)) }
    @inline(__always) mutating func xuge32I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, x32(a) >= UInt32(bitPattern: imm)) }

    @inline(__always) mutating func xadd64I32(_ dst: XReg, _ src: XReg, _ imm: Int32) { setX64(dst, x64(src) &+ sext(imm)) }
    @inline(__always) mutating func xmul64I32(_ dst: XReg, _ src: XReg, _ imm: Int32) { setX64(dst, x64(src) &* sext(imm)) }
    @inline(__always) mutating func xand64I32(_ dst: XReg, _ src: XReg, _ imm: Int32) { setX64(dst, x64(src) & sext(imm)) }
    @inline(__always) mutating func xor64I32(_ dst: XReg, _ src: XReg, _ imm: Int32) { setX64(dst, x64(src) | sext(imm)) }
    @inline(__always) mutating func xxor64I32(_ dst: XReg, _ src: XReg, _ imm: Int32) { setX64(dst, x64(src) ^ sext(imm)) }
    @inline(__always) mutating func xshl64U8(_ dst: XReg, _ src: XReg, _ imm: UInt8) { setX64(dst, x64(src) &<< UInt64(imm)) }
    @inline(__always) mutating func xshr64SU8(_ dst: XReg, _ src: XReg, _ imm: UInt8) { setX64(dst, s64(src) &>> Int64(imm)) }
    @inline(__always) mutating func xshr64UU8(_ dst: XReg, _ src: XReg, _ imm: UInt8) { setX64(dst, x64(src) &>> UInt64(imm)) }
    @inline(__always) mutating func xeq64I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, s64(a) == Int64(imm)) }
    @inline(__always) mutating func xne64I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, s64(a) != Int64(imm)) }
    @inline(__always) mutating func xslt64I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, s64(a) < Int64(imm)) }
    @inline(__always) mutating func xsle64I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, s64(a) <= Int64(imm)) }
    @inline(__always) mutating func xsgt64I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, s64(a) > Int64(imm)) }
    @inline(__always) mutating func xsge64I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, s64(a) >= Int64(imm)) }
    @inline(__always) mutating func xult64I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, x64(a) < sext(imm)) }
    @inline(__always) mutating func xule64I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, x64(a) <= sext(imm)) }
    @inline(__always) mutating func xugt64I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, x64(a) > sext(imm)) }
    @inline(__always) mutating func xuge64I32(_ dst: XReg, _ a: XReg, _ imm: Int32) { setBool(dst, x64(a) >= sext(imm)) }

    // MARK: Width changes

    @inline(__always) mutating func xzext3264(_ dst: XReg, _ src: XReg) { setX32(dst, x32(src)) }
    @inline(__always) mutating func xsext3264(_ dst: XReg, _ src: XReg) { setX64(dst, Int64(s32(src))) }
    @inline(__always) mutating func xsext832(_ dst: XReg, _ src: XReg) { setX32(dst, Int32(Int8(truncatingIfNeeded: x64(src)))) }
    @inline(__always) mutating func xsext1632(_ dst: XReg, _ src: XReg) { setX32(dst, Int32(Int16(truncatingIfNeeded: x64(src)))) }
    @inline(__always) mutating func xsext864(_ dst: XReg, _ src: XReg) { setX64(dst, Int64(Int8(truncatingIfNeeded: x64(src)))) }
    @inline(__always) mutating func xsext1664(_ dst: XReg, _ src: XReg) { setX64(dst, Int64(Int16(truncatingIfNeeded: x64(src)))) }
}

/// Rotate left by `amount` modulo the width (&<< and &>> mask their amounts).
@inline(__always) func rotl<T: FixedWidthInteger & UnsignedInteger>(_ value: T, _ amount: T) -> T {
    (value &<< amount) | (value &>> (T(T.bitWidth) &- amount))
}

/// Sign-extends a 32-bit immediate to 64 bits.
@inline(__always) func sext(_ imm: Int32) -> UInt64 { UInt64(bitPattern: Int64(imm)) }
