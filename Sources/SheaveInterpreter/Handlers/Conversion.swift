import SheaveBytecode

// Conversions between integers and floats. The trapping forms check NaN
// (invalid conversion) and range (integer overflow) on the truncated value;
// the saturating forms clamp, and map NaN to 0.

extension Executor {
    @inline(__always) mutating func x32FromF32S(_ dst: XReg, _ src: FReg) throws(Stop) { setX32(dst, try truncate(f32(src), to: Int32.self)) }
    @inline(__always) mutating func x32FromF32U(_ dst: XReg, _ src: FReg) throws(Stop) { setX32(dst, try truncate(f32(src), to: UInt32.self)) }
    @inline(__always) mutating func x32FromF64S(_ dst: XReg, _ src: FReg) throws(Stop) { setX32(dst, try truncate(f64(src), to: Int32.self)) }
    @inline(__always) mutating func x32FromF64U(_ dst: XReg, _ src: FReg) throws(Stop) { setX32(dst, try truncate(f64(src), to: UInt32.self)) }
    @inline(__always) mutating func x64FromF32S(_ dst: XReg, _ src: FReg) throws(Stop) { setX64(dst, try truncate(f32(src), to: Int64.self)) }
    @inline(__always) mutating func x64FromF32U(_ dst: XReg, _ src: FReg) throws(Stop) { setX64(dst, try truncate(f32(src), to: UInt64.self)) }
    @inline(__always) mutating func x64FromF64S(_ dst: XReg, _ src: FReg) throws(Stop) { setX64(dst, try truncate(f64(src), to: Int64.self)) }
    @inline(__always) mutating func x64FromF64U(_ dst: XReg, _ src: FReg) throws(Stop) { setX64(dst, try truncate(f64(src), to: UInt64.self)) }

    @inline(__always) mutating func x32FromF32SSat(_ dst: XReg, _ src: FReg) { setX32(dst, saturate(f32(src), to: Int32.self)) }
    @inline(__always) mutating func x32FromF32USat(_ dst: XReg, _ src: FReg) { setX32(dst, saturate(f32(src), to: UInt32.self)) }
    @inline(__always) mutating func x32FromF64SSat(_ dst: XReg, _ src: FReg) { setX32(dst, saturate(f64(src), to: Int32.self)) }
    @inline(__always) mutating func x32FromF64USat(_ dst: XReg, _ src: FReg) { setX32(dst, saturate(f64(src), to: UInt32.self)) }
    @inline(__always) mutating func x64FromF32SSat(_ dst: XReg, _ src: FReg) { setX64(dst, saturate(f32(src), to: Int64.self)) }
    @inline(__always) mutating func x64FromF32USat(_ dst: XReg, _ src: FReg) { setX64(dst, saturate(f32(src), to: UInt64.self)) }
    @inline(__always) mutating func x64FromF64SSat(_ dst: XReg, _ src: FReg) { setX64(dst, saturate(f64(src), to: Int64.self)) }
    @inline(__always) mutating func x64FromF64USat(_ dst: XReg, _ src: FReg) { setX64(dst, saturate(f64(src), to: UInt64.self)) }

    @inline(__always) mutating func f32FromX32S(_ dst: FReg, _ src: XReg) { setF32(dst, Float(s32(src))) }
    @inline(__always) mutating func f32FromX32U(_ dst: FReg, _ src: XReg) { setF32(dst, Float(x32(src))) }
    @inline(__always) mutating func f32FromX64S(_ dst: FReg, _ src: XReg) { setF32(dst, Float(s64(src))) }
    @inline(__always) mutating func f32FromX64U(_ dst: FReg, _ src: XReg) { setF32(dst, Float(x64(src))) }
    @inline(__always) mutating func f64FromX32S(_ dst: FReg, _ src: XReg) { setF64(dst, Double(s32(src))) }
    @inline(__always) mutating func f64FromX32U(_ dst: FReg, _ src: XReg) { setF64(dst, Double(x32(src))) }
    @inline(__always) mutating func f64FromX64S(_ dst: FReg, _ src: XReg) { setF64(dst, Double(s64(src))) }
    @inline(__always) mutating func f64FromX64U(_ dst: FReg, _ src: XReg) { setF64(dst, Double(x64(src))) }

    @inline(__always) mutating func f32FromF64(_ dst: FReg, _ src: FReg) { setF32(dst, Float(f64(src))) }
    @inline(__always) mutating func f64FromF32(_ dst: FReg, _ src: FReg) { setF64(dst, Double(f32(src))) }
}

/// Truncates toward zero into `I`, trapping on NaN and on results out of range.
/// The bounds are powers of two, exact in every float format: the truncated
/// value must satisfy -2^(n-1) <= t < 2^(n-1) (signed) or 0 <= t < 2^n (unsigned).
extension Executor {
@inline(__always) func truncate<F: BinaryFloatingPoint, I: FixedWidthInteger>(_ value: F, to: I.Type) throws(Stop) -> I {
    guard !value.isNaN else { try stop(.trap(.badConversionToInteger)) }
    let t = value.rounded(.towardZero)
    let limit = F(sign: .plus, exponent: F.Exponent(I.bitWidth - (I.isSigned ? 1 : 0)), significand: 1)
    let lower: F = I.isSigned ? -limit : 0
    guard t >= lower && t < limit else { try stop(.trap(.integerOverflow)) }
    return I(t)
}

/// Truncates toward zero into `I`, clamping out-of-range values; NaN gives 0.
@inline(__always) func saturate<F: BinaryFloatingPoint, I: FixedWidthInteger>(_ value: F, to: I.Type) -> I {
    if value.isNaN { return 0 }
    let t = value.rounded(.towardZero)
    let limit = F(sign: .plus, exponent: F.Exponent(I.bitWidth - (I.isSigned ? 1 : 0)), significand: 1)
    if t >= limit { return .max }
    if I.isSigned ? t < -limit : t < 0 { return .min }
    return I(t)
}
}
