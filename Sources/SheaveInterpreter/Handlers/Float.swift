import SheaveBytecode
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Square roots as `sqrtsd`/`sqrtss`. On Linux, `squareRoot()` goes through a C
/// shim of the standard library (`_stdlib_squareRoot`) that LLVM does not inline
/// into a C-convention handler: `fsqrt64` called it, and saved six registers and
/// three hot arguments around the call. libm's `sqrt` is a known library call
/// that LLVM expands to the instruction, calling libm only for a negative
/// operand (for errno; the result is the same NaN). Elsewhere `squareRoot()`
/// is the instruction already.
@inline(__always) func squareRoot(_ x: Double) -> Double {
    #if canImport(Glibc) || canImport(Musl)
    return sqrt(x)
    #else
    return x.squareRoot()
    #endif
}
@inline(__always) func squareRoot(_ x: Float) -> Float {
    #if canImport(Glibc) || canImport(Musl)
    return sqrtf(x)
    #else
    return x.squareRoot()
    #endif
}

// Float arithmetic and comparisons. Sign operations (abs, neg, copysign) work
// on bits so NaN payloads pass through unchanged, as Wasm requires.

extension Executor {
    /// A float value's move. As an 8-byte vector it stays in a float register: an
    /// integer move (`xmov`) makes the float ops on either side forward their slot
    /// across register domains, a latency on every float dependency.
    @inline(__always) mutating func fmov(_ dst: FReg, _ src: FReg) {
        let value = fp.load(fromByteOffset: Int(src.index) &<< 3, as: SIMD2<Float>.self)
        fp.storeBytes(of: value, toByteOffset: Int(dst.index) &<< 3, as: SIMD2<Float>.self)
    }
    @inline(__always) mutating func fconst32(_ dst: FReg, _ imm: UInt32) { setF32Bits(dst, imm) }
    @inline(__always) mutating func fconst64(_ dst: FReg, _ imm: UInt64) { setF64Bits(dst, imm) }

    // MARK: A product and the op that uses it (each rounded as the two ops round)

    @inline(__always) mutating func fmul32Mul(_ dst: FReg, _ a: FReg, _ b: FReg, _ c: FReg) { let p = f32(a) * f32(b); setF32(dst, p * f32(c)) }
    @inline(__always) mutating func fmul32Add(_ dst: FReg, _ a: FReg, _ b: FReg, _ c: FReg) { let p = f32(a) * f32(b); setF32(dst, p + f32(c)) }
    @inline(__always) mutating func fmul32Sub(_ dst: FReg, _ a: FReg, _ b: FReg, _ c: FReg) { let p = f32(a) * f32(b); setF32(dst, p - f32(c)) }
    @inline(__always) mutating func fmul32Rsub(_ dst: FReg, _ a: FReg, _ b: FReg, _ c: FReg) { let p = f32(a) * f32(b); setF32(dst, f32(c) - p) }
    @inline(__always) mutating func fmul64Mul(_ dst: FReg, _ a: FReg, _ b: FReg, _ c: FReg) { let p = f64(a) * f64(b); setF64(dst, p * f64(c)) }
    @inline(__always) mutating func fmul64Add(_ dst: FReg, _ a: FReg, _ b: FReg, _ c: FReg) { let p = f64(a) * f64(b); setF64(dst, p + f64(c)) }
    @inline(__always) mutating func fmul64Sub(_ dst: FReg, _ a: FReg, _ b: FReg, _ c: FReg) { let p = f64(a) * f64(b); setF64(dst, p - f64(c)) }
    @inline(__always) mutating func fmul64Rsub(_ dst: FReg, _ a: FReg, _ b: FReg, _ c: FReg) { let p = f64(a) * f64(b); setF64(dst, f64(c) - p) }

    // MARK: f32

    @inline(__always) mutating func fadd32(_ dst: FReg, _ src1: FReg, _ src2: FReg) { setF32(dst, f32(src1) + f32(src2)) }
    @inline(__always) mutating func fsub32(_ dst: FReg, _ src1: FReg, _ src2: FReg) { setF32(dst, f32(src1) - f32(src2)) }
    @inline(__always) mutating func fmul32(_ dst: FReg, _ src1: FReg, _ src2: FReg) { setF32(dst, f32(src1) * f32(src2)) }
    @inline(__always) mutating func fdiv32(_ dst: FReg, _ src1: FReg, _ src2: FReg) { setF32(dst, f32(src1) / f32(src2)) }
    @inline(__always) mutating func fmin32(_ dst: FReg, _ src1: FReg, _ src2: FReg) { setF32(dst, wasmMin(f32(src1), f32(src2))) }
    @inline(__always) mutating func fmax32(_ dst: FReg, _ src1: FReg, _ src2: FReg) { setF32(dst, wasmMax(f32(src1), f32(src2))) }
    @inline(__always) mutating func fcopysign32(_ dst: FReg, _ src1: FReg, _ src2: FReg) {
        setF32Bits(dst, (f32Bits(src1) & 0x7FFF_FFFF) | (f32Bits(src2) & 0x8000_0000))
    }
    @inline(__always) mutating func fabs32(_ dst: FReg, _ src: FReg) { setF32Bits(dst, f32Bits(src) & 0x7FFF_FFFF) }
    @inline(__always) mutating func fneg32(_ dst: FReg, _ src: FReg) { setF32Bits(dst, f32Bits(src) ^ 0x8000_0000) }
    @inline(__always) mutating func fsqrt32(_ dst: FReg, _ src: FReg) { setF32(dst, squareRoot(f32(src))) }
    @inline(__always) mutating func fceil32(_ dst: FReg, _ src: FReg) { setF32(dst, f32(src).rounded(.up)) }
    @inline(__always) mutating func ffloor32(_ dst: FReg, _ src: FReg) { setF32(dst, f32(src).rounded(.down)) }
    @inline(__always) mutating func ftrunc32(_ dst: FReg, _ src: FReg) { setF32(dst, f32(src).rounded(.towardZero)) }
    @inline(__always) mutating func fnearest32(_ dst: FReg, _ src: FReg) { setF32(dst, f32(src).rounded(.toNearestOrEven)) }
    @inline(__always) mutating func feq32(_ dst: XReg, _ a: FReg, _ b: FReg) { setBool(dst, f32(a) == f32(b)) }
    @inline(__always) mutating func fne32(_ dst: XReg, _ a: FReg, _ b: FReg) { setBool(dst, f32(a) != f32(b)) }
    @inline(__always) mutating func flt32(_ dst: XReg, _ a: FReg, _ b: FReg) { setBool(dst, f32(a) < f32(b)) }
    @inline(__always) mutating func fle32(_ dst: XReg, _ a: FReg, _ b: FReg) { setBool(dst, f32(a) <= f32(b)) }

    // MARK: f64

    @inline(__always) mutating func fadd64(_ dst: FReg, _ src1: FReg, _ src2: FReg) { setF64(dst, f64(src1) + f64(src2)) }
    @inline(__always) mutating func fsub64(_ dst: FReg, _ src1: FReg, _ src2: FReg) { setF64(dst, f64(src1) - f64(src2)) }
    @inline(__always) mutating func fmul64(_ dst: FReg, _ src1: FReg, _ src2: FReg) { setF64(dst, f64(src1) * f64(src2)) }
    @inline(__always) mutating func fdiv64(_ dst: FReg, _ src1: FReg, _ src2: FReg) { setF64(dst, f64(src1) / f64(src2)) }
    @inline(__always) mutating func fmin64(_ dst: FReg, _ src1: FReg, _ src2: FReg) { setF64(dst, wasmMin(f64(src1), f64(src2))) }
    @inline(__always) mutating func fmax64(_ dst: FReg, _ src1: FReg, _ src2: FReg) { setF64(dst, wasmMax(f64(src1), f64(src2))) }
    @inline(__always) mutating func fcopysign64(_ dst: FReg, _ src1: FReg, _ src2: FReg) {
        setF64Bits(dst, (f64Bits(src1) & 0x7FFF_FFFF_FFFF_FFFF) | (f64Bits(src2) & 0x8000_0000_0000_0000))
    }
    @inline(__always) mutating func fabs64(_ dst: FReg, _ src: FReg) { setF64Bits(dst, f64Bits(src) & 0x7FFF_FFFF_FFFF_FFFF) }
    @inline(__always) mutating func fneg64(_ dst: FReg, _ src: FReg) { setF64Bits(dst, f64Bits(src) ^ 0x8000_0000_0000_0000) }
    @inline(__always) mutating func fsqrt64(_ dst: FReg, _ src: FReg) { setF64(dst, squareRoot(f64(src))) }
    @inline(__always) mutating func fceil64(_ dst: FReg, _ src: FReg) { setF64(dst, f64(src).rounded(.up)) }
    @inline(__always) mutating func ffloor64(_ dst: FReg, _ src: FReg) { setF64(dst, f64(src).rounded(.down)) }
    @inline(__always) mutating func ftrunc64(_ dst: FReg, _ src: FReg) { setF64(dst, f64(src).rounded(.towardZero)) }
    @inline(__always) mutating func fnearest64(_ dst: FReg, _ src: FReg) { setF64(dst, f64(src).rounded(.toNearestOrEven)) }
    @inline(__always) mutating func feq64(_ dst: XReg, _ a: FReg, _ b: FReg) { setBool(dst, f64(a) == f64(b)) }
    @inline(__always) mutating func fne64(_ dst: XReg, _ a: FReg, _ b: FReg) { setBool(dst, f64(a) != f64(b)) }
    @inline(__always) mutating func flt64(_ dst: XReg, _ a: FReg, _ b: FReg) { setBool(dst, f64(a) < f64(b)) }
    @inline(__always) mutating func fle64(_ dst: XReg, _ a: FReg, _ b: FReg) { setBool(dst, f64(a) <= f64(b)) }
}

/// Wasm's `min`: NaN when either operand is NaN (a NaN from the operands,
/// quieted by the addition), and -0 below +0.
@inline(__always) func wasmMin<T: BinaryFloatingPoint>(_ a: T, _ b: T) -> T {
    if a.isNaN || b.isNaN { return a + b }
    if a == b { return a.sign == .minus ? a : b }  // only ±0 differ here
    return a < b ? a : b
}

/// Wasm's `max`: NaN when either operand is NaN, and +0 above -0.
@inline(__always) func wasmMax<T: BinaryFloatingPoint>(_ a: T, _ b: T) -> T {
    if a.isNaN || b.isNaN { return a + b }
    if a == b { return a.sign == .minus ? b : a }
    return a > b ? a : b
}
