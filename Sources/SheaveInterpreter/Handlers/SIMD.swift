#if InterpreterSIMD
import SheaveBytecode

// 128-bit SIMD. A v register is two consecutive slots holding the vector in
// Wasm's byte order: lane 0 first, each lane little-endian. On a little-endian
// host that is the layout of Swift's SIMD types, so a lane view is one
// unaligned 16-byte load and the lane arithmetic below compiles to host vector
// instructions. Lane immediates are masked to the lane count: the compiler
// checks them, and the mask keeps a forged artifact from indexing past a vector.

#if _endian(big)
#error("the SIMD handlers assume a little-endian host: build without the InterpreterSIMD trait")
#endif

typealias I8x16 = SIMD16<Int8>
typealias U8x16 = SIMD16<UInt8>
typealias I16x8 = SIMD8<Int16>
typealias U16x8 = SIMD8<UInt16>
typealias I32x4 = SIMD4<Int32>
typealias U32x4 = SIMD4<UInt32>
typealias I64x2 = SIMD2<Int64>
typealias U64x2 = SIMD2<UInt64>
typealias F32x4 = SIMD4<Float>
typealias F64x2 = SIMD2<Double>

extension Executor {
    // MARK: Registers and lane views

    @inline(__always) func v<T: SIMD>(_ r: VReg, _: T.Type) -> T {
        fp.loadUnaligned(fromByteOffset: Int(r.index) &<< 3, as: T.self)
    }
    @inline(__always) func setV<T: SIMD>(_ r: VReg, _ value: T) {
        fp.storeBytes(of: value, toByteOffset: Int(r.index) &<< 3, as: T.self)
    }
    /// A lane-wise op of one vector.
    @inline(__always) func unary<T: SIMD>(_ dst: VReg, _ a: VReg, _ f: (T) -> T) {
        setV(dst, f(v(a, T.self)))
    }
    /// A lane-wise op of two vectors of the same shape.
    @inline(__always) func binary<T: SIMD>(_ dst: VReg, _ a: VReg, _ b: VReg, _ f: (T, T) -> T) {
        setV(dst, f(v(a, T.self), v(b, T.self)))
    }
    /// A lane-wise comparison: all ones where it holds, else zero (a mask's
    /// storage is exactly that: -1 or 0 in each lane).
    @inline(__always) func compare<T: SIMD>(_ dst: VReg, _ a: VReg, _ b: VReg, _ f: (T, T) -> SIMDMask<T.MaskStorage>) {
        setV(dst, f(v(a, T.self), v(b, T.self))._storage)
    }
    /// Builds a vector lane by lane.
    @inline(__always) func lanewise<T: SIMD>(_ dst: VReg, _: T.Type, _ f: (Int) -> T.Scalar) {
        var out = T()
        for i in out.indices { out[i] = f(i) }
        setV(dst, out)
    }

    // Conversions between lane types, lane by lane: the standard library's generic
    // SIMD conversions (`init(truncatingIfNeeded:)`, `init(clamping:)`) and
    // `pointwiseMin` stay calls here, and LLVM then folds handlers that differ only
    // in the function they call into one taking it as an argument, which costs the
    // tail loop its jump (.ci/check-tail-calls.sh). Subscripts inline.

    /// Lanes `first ..< first + To.scalarCount` of `x`, each widened (sign- or zero-extended by its type).
    @inline(__always) func widen<From: SIMD, To: SIMD>(_ x: From, from first: Int, _: To.Type) -> To
    where From.Scalar: FixedWidthInteger, To.Scalar: FixedWidthInteger {
        var out = To()
        for i in out.indices { out[i] = To.Scalar(truncatingIfNeeded: x[first + i]) }
        return out
    }
    /// The lanes of `a` then `b`, each saturated to the narrower lane type.
    @inline(__always) func narrow<From: SIMD, To: SIMD>(_ a: From, _ b: From, _: To.Type) -> To
    where From.Scalar: FixedWidthInteger, To.Scalar: FixedWidthInteger {
        var out = To()
        let half = From.scalarCount
        for i in 0..<half {
            out[i] = To.Scalar(clamping: a[i])
            out[half + i] = To.Scalar(clamping: b[i])
        }
        return out
    }
    /// `f(a, b)` computed lane by lane in `Int` and saturated to the lane type.
    @inline(__always) func saturating<T: SIMD>(_ a: T, _ b: T, _ f: (Int, Int) -> Int) -> T where T.Scalar: FixedWidthInteger {
        var out = T()
        for i in out.indices { out[i] = T.Scalar(clamping: f(Int(a[i]), Int(b[i]))) }
        return out
    }
    @inline(__always) func minimum<T: SIMD>(_ a: T, _ b: T) -> T where T.Scalar: Comparable { a.replacing(with: b, where: b .< a) }
    @inline(__always) func maximum<T: SIMD>(_ a: T, _ b: T) -> T where T.Scalar: Comparable { a.replacing(with: b, where: a .< b) }

    // MARK: Moves, constants, select, globals

    @inline(__always) mutating func vmov(_ dst: VReg, _ src: VReg) { setV(dst, v(src, U64x2.self)) }
    @inline(__always) mutating func v128Const(_ dst: VReg, _ low: UInt64, _ high: UInt64) { setV(dst, U64x2(low, high)) }
    @inline(__always) mutating func vselect(_ dst: VReg, _ cond: XReg, _ a: VReg, _ b: VReg) {
        setV(dst, x32(cond) != 0 ? v(a, U64x2.self) : v(b, U64x2.self))
    }
    /// Every global's cell is 16 bytes (`GlobalCell`), so a v128 access stays inside any cell.
    @inline(__always) mutating func vglobalGet(_ dst: VReg, _ index: UInt32) {
        setV(dst, UnsafeRawPointer(vm.pointee.globals[Int(index)]).loadUnaligned(as: U64x2.self))
    }
    @inline(__always) mutating func vglobalSet(_ index: UInt32, _ src: VReg) {
        UnsafeMutableRawPointer(vm.pointee.globals[Int(index)]).storeBytes(of: v(src, U64x2.self), as: U64x2.self)
    }

    // MARK: Memory
    //
    // Each vector access is written once, on a checked address: the memory-0 op
    // (`v128_load`) checks `zext(low32(addr)) + offset` against memory 0, its `_m`
    // form (`v128_load_m`) `addr + offset` in 64 bits against memories[index].

    @inline(__always) func at(_ addr: XReg, _ offset: UInt32, _ size: Int) throws(Stop) -> UnsafeMutableRawPointer {
        try checkedAddress(base: x32(addr), offset, size: size)
    }
    @inline(__always) func at(_ addr: XReg, _ offset: UInt64, _ index: UInt32, _ size: Int) throws(Stop) -> UnsafeMutableRawPointer {
        try checkedAddress(addr, offset, memory: index, size: size)
    }
    @inline(__always) func scalar<T: FixedWidthInteger>(_ at: UnsafeRawPointer, _: T.Type) -> T { T(littleEndian: at.loadUnaligned(as: T.self)) }

    @inline(__always) mutating func v128Load(_ dst: VReg, at: UnsafeRawPointer) { setV(dst, at.loadUnaligned(as: U64x2.self)) }
    @inline(__always) mutating func v128Load8x8S(_ dst: VReg, at: UnsafeRawPointer) { setV(dst, widen(at.loadUnaligned(as: SIMD8<Int8>.self), from: 0, I16x8.self)) }
    @inline(__always) mutating func v128Load8x8U(_ dst: VReg, at: UnsafeRawPointer) { setV(dst, widen(at.loadUnaligned(as: SIMD8<UInt8>.self), from: 0, U16x8.self)) }
    @inline(__always) mutating func v128Load16x4S(_ dst: VReg, at: UnsafeRawPointer) { setV(dst, I32x4(truncatingIfNeeded: at.loadUnaligned(as: SIMD4<Int16>.self))) }
    @inline(__always) mutating func v128Load16x4U(_ dst: VReg, at: UnsafeRawPointer) { setV(dst, U32x4(truncatingIfNeeded: at.loadUnaligned(as: SIMD4<UInt16>.self))) }
    @inline(__always) mutating func v128Load32x2S(_ dst: VReg, at: UnsafeRawPointer) { setV(dst, I64x2(truncatingIfNeeded: at.loadUnaligned(as: SIMD2<Int32>.self))) }
    @inline(__always) mutating func v128Load32x2U(_ dst: VReg, at: UnsafeRawPointer) { setV(dst, U64x2(truncatingIfNeeded: at.loadUnaligned(as: SIMD2<UInt32>.self))) }
    @inline(__always) mutating func v128Load8Splat(_ dst: VReg, at: UnsafeRawPointer) { setV(dst, U8x16(repeating: scalar(at, UInt8.self))) }
    @inline(__always) mutating func v128Load16Splat(_ dst: VReg, at: UnsafeRawPointer) { setV(dst, U16x8(repeating: scalar(at, UInt16.self))) }
    @inline(__always) mutating func v128Load32Splat(_ dst: VReg, at: UnsafeRawPointer) { setV(dst, U32x4(repeating: scalar(at, UInt32.self))) }
    @inline(__always) mutating func v128Load64Splat(_ dst: VReg, at: UnsafeRawPointer) { setV(dst, U64x2(repeating: scalar(at, UInt64.self))) }
    @inline(__always) mutating func v128Load32Zero(_ dst: VReg, at: UnsafeRawPointer) { setV(dst, U32x4(scalar(at, UInt32.self), 0, 0, 0)) }
    @inline(__always) mutating func v128Load64Zero(_ dst: VReg, at: UnsafeRawPointer) { setV(dst, U64x2(scalar(at, UInt64.self), 0)) }
    @inline(__always) func v128Store(_ src: VReg, at: UnsafeMutableRawPointer) { at.storeBytes(of: v(src, U64x2.self), as: U64x2.self) }
    /// `src` with lane `lane` (masked to the lane count) loaded from `at`.
    @inline(__always) mutating func loadLane<T: SIMD>(_ dst: VReg, _ src: VReg, _ lane: UInt8, at: UnsafeRawPointer, _: T.Type) where T.Scalar: FixedWidthInteger {
        var vector = v(src, T.self)
        vector[Int(lane) & (T.scalarCount - 1)] = scalar(at, T.Scalar.self)
        setV(dst, vector)
    }
    @inline(__always) func storeLane<T: SIMD>(_ src: VReg, _ lane: UInt8, at: UnsafeMutableRawPointer, _: T.Type) where T.Scalar: FixedWidthInteger {
        at.storeBytes(of: v(src, T.self)[Int(lane) & (T.scalarCount - 1)].littleEndian, as: T.Scalar.self)
    }

    @inline(__always) mutating func v128Load(_ dst: VReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { v128Load(dst, at: try at(addr, offset, 16)) }
    @inline(__always) mutating func v128Load8x8S(_ dst: VReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { v128Load8x8S(dst, at: try at(addr, offset, 8)) }
    @inline(__always) mutating func v128Load8x8U(_ dst: VReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { v128Load8x8U(dst, at: try at(addr, offset, 8)) }
    @inline(__always) mutating func v128Load16x4S(_ dst: VReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { v128Load16x4S(dst, at: try at(addr, offset, 8)) }
    @inline(__always) mutating func v128Load16x4U(_ dst: VReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { v128Load16x4U(dst, at: try at(addr, offset, 8)) }
    @inline(__always) mutating func v128Load32x2S(_ dst: VReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { v128Load32x2S(dst, at: try at(addr, offset, 8)) }
    @inline(__always) mutating func v128Load32x2U(_ dst: VReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { v128Load32x2U(dst, at: try at(addr, offset, 8)) }
    @inline(__always) mutating func v128Load8Splat(_ dst: VReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { v128Load8Splat(dst, at: try at(addr, offset, 1)) }
    @inline(__always) mutating func v128Load16Splat(_ dst: VReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { v128Load16Splat(dst, at: try at(addr, offset, 2)) }
    @inline(__always) mutating func v128Load32Splat(_ dst: VReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { v128Load32Splat(dst, at: try at(addr, offset, 4)) }
    @inline(__always) mutating func v128Load64Splat(_ dst: VReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { v128Load64Splat(dst, at: try at(addr, offset, 8)) }
    @inline(__always) mutating func v128Load32Zero(_ dst: VReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { v128Load32Zero(dst, at: try at(addr, offset, 4)) }
    @inline(__always) mutating func v128Load64Zero(_ dst: VReg, _ addr: XReg, _ offset: UInt32) throws(Stop) { v128Load64Zero(dst, at: try at(addr, offset, 8)) }
    @inline(__always) mutating func v128Store(_ addr: XReg, _ offset: UInt32, _ src: VReg) throws(Stop) { v128Store(src, at: try at(addr, offset, 16)) }
    @inline(__always) mutating func v128Load8Lane(_ dst: VReg, _ addr: XReg, _ offset: UInt32, _ src: VReg, _ lane: UInt8) throws(Stop) { loadLane(dst, src, lane, at: try at(addr, offset, 1), U8x16.self) }
    @inline(__always) mutating func v128Load16Lane(_ dst: VReg, _ addr: XReg, _ offset: UInt32, _ src: VReg, _ lane: UInt8) throws(Stop) { loadLane(dst, src, lane, at: try at(addr, offset, 2), U16x8.self) }
    @inline(__always) mutating func v128Load32Lane(_ dst: VReg, _ addr: XReg, _ offset: UInt32, _ src: VReg, _ lane: UInt8) throws(Stop) { loadLane(dst, src, lane, at: try at(addr, offset, 4), U32x4.self) }
    @inline(__always) mutating func v128Load64Lane(_ dst: VReg, _ addr: XReg, _ offset: UInt32, _ src: VReg, _ lane: UInt8) throws(Stop) { loadLane(dst, src, lane, at: try at(addr, offset, 8), U64x2.self) }
    @inline(__always) mutating func v128Store8Lane(_ addr: XReg, _ offset: UInt32, _ src: VReg, _ lane: UInt8) throws(Stop) { storeLane(src, lane, at: try at(addr, offset, 1), U8x16.self) }
    @inline(__always) mutating func v128Store16Lane(_ addr: XReg, _ offset: UInt32, _ src: VReg, _ lane: UInt8) throws(Stop) { storeLane(src, lane, at: try at(addr, offset, 2), U16x8.self) }
    @inline(__always) mutating func v128Store32Lane(_ addr: XReg, _ offset: UInt32, _ src: VReg, _ lane: UInt8) throws(Stop) { storeLane(src, lane, at: try at(addr, offset, 4), U32x4.self) }
    @inline(__always) mutating func v128Store64Lane(_ addr: XReg, _ offset: UInt32, _ src: VReg, _ lane: UInt8) throws(Stop) { storeLane(src, lane, at: try at(addr, offset, 8), U64x2.self) }

    @inline(__always) mutating func v128LoadM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ m: UInt32) throws(Stop) { v128Load(dst, at: try at(addr, offset, m, 16)) }
    @inline(__always) mutating func v128Load8x8SM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ m: UInt32) throws(Stop) { v128Load8x8S(dst, at: try at(addr, offset, m, 8)) }
    @inline(__always) mutating func v128Load8x8UM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ m: UInt32) throws(Stop) { v128Load8x8U(dst, at: try at(addr, offset, m, 8)) }
    @inline(__always) mutating func v128Load16x4SM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ m: UInt32) throws(Stop) { v128Load16x4S(dst, at: try at(addr, offset, m, 8)) }
    @inline(__always) mutating func v128Load16x4UM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ m: UInt32) throws(Stop) { v128Load16x4U(dst, at: try at(addr, offset, m, 8)) }
    @inline(__always) mutating func v128Load32x2SM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ m: UInt32) throws(Stop) { v128Load32x2S(dst, at: try at(addr, offset, m, 8)) }
    @inline(__always) mutating func v128Load32x2UM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ m: UInt32) throws(Stop) { v128Load32x2U(dst, at: try at(addr, offset, m, 8)) }
    @inline(__always) mutating func v128Load8SplatM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ m: UInt32) throws(Stop) { v128Load8Splat(dst, at: try at(addr, offset, m, 1)) }
    @inline(__always) mutating func v128Load16SplatM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ m: UInt32) throws(Stop) { v128Load16Splat(dst, at: try at(addr, offset, m, 2)) }
    @inline(__always) mutating func v128Load32SplatM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ m: UInt32) throws(Stop) { v128Load32Splat(dst, at: try at(addr, offset, m, 4)) }
    @inline(__always) mutating func v128Load64SplatM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ m: UInt32) throws(Stop) { v128Load64Splat(dst, at: try at(addr, offset, m, 8)) }
    @inline(__always) mutating func v128Load32ZeroM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ m: UInt32) throws(Stop) { v128Load32Zero(dst, at: try at(addr, offset, m, 4)) }
    @inline(__always) mutating func v128Load64ZeroM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ m: UInt32) throws(Stop) { v128Load64Zero(dst, at: try at(addr, offset, m, 8)) }
    @inline(__always) mutating func v128StoreM(_ addr: XReg, _ offset: UInt64, _ src: VReg, _ m: UInt32) throws(Stop) { v128Store(src, at: try at(addr, offset, m, 16)) }
    @inline(__always) mutating func v128Load8LaneM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ src: VReg, _ lane: UInt8, _ m: UInt32) throws(Stop) { loadLane(dst, src, lane, at: try at(addr, offset, m, 1), U8x16.self) }
    @inline(__always) mutating func v128Load16LaneM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ src: VReg, _ lane: UInt8, _ m: UInt32) throws(Stop) { loadLane(dst, src, lane, at: try at(addr, offset, m, 2), U16x8.self) }
    @inline(__always) mutating func v128Load32LaneM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ src: VReg, _ lane: UInt8, _ m: UInt32) throws(Stop) { loadLane(dst, src, lane, at: try at(addr, offset, m, 4), U32x4.self) }
    @inline(__always) mutating func v128Load64LaneM(_ dst: VReg, _ addr: XReg, _ offset: UInt64, _ src: VReg, _ lane: UInt8, _ m: UInt32) throws(Stop) { loadLane(dst, src, lane, at: try at(addr, offset, m, 8), U64x2.self) }
    @inline(__always) mutating func v128Store8LaneM(_ addr: XReg, _ offset: UInt64, _ src: VReg, _ lane: UInt8, _ m: UInt32) throws(Stop) { storeLane(src, lane, at: try at(addr, offset, m, 1), U8x16.self) }
    @inline(__always) mutating func v128Store16LaneM(_ addr: XReg, _ offset: UInt64, _ src: VReg, _ lane: UInt8, _ m: UInt32) throws(Stop) { storeLane(src, lane, at: try at(addr, offset, m, 2), U16x8.self) }
    @inline(__always) mutating func v128Store32LaneM(_ addr: XReg, _ offset: UInt64, _ src: VReg, _ lane: UInt8, _ m: UInt32) throws(Stop) { storeLane(src, lane, at: try at(addr, offset, m, 4), U32x4.self) }
    @inline(__always) mutating func v128Store64LaneM(_ addr: XReg, _ offset: UInt64, _ src: VReg, _ lane: UInt8, _ m: UInt32) throws(Stop) { storeLane(src, lane, at: try at(addr, offset, m, 8), U64x2.self) }

    // MARK: Bitwise

    @inline(__always) mutating func v128Not(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: U64x2) in ~x } }
    @inline(__always) mutating func v128And(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U64x2, y) in x & y } }
    @inline(__always) mutating func v128Andnot(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U64x2, y) in x & ~y } }
    @inline(__always) mutating func v128Or(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U64x2, y) in x | y } }
    @inline(__always) mutating func v128Xor(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U64x2, y) in x ^ y } }
    @inline(__always) mutating func v128Bitselect(_ dst: VReg, _ a: VReg, _ b: VReg, _ c: VReg) {
        let mask = v(c, U64x2.self)
        setV(dst, (v(a, U64x2.self) & mask) | (v(b, U64x2.self) & ~mask))
    }
    @inline(__always) mutating func v128AnyTrue(_ dst: XReg, _ a: VReg) { setBool(dst, any(v(a, U64x2.self) .!= 0)) }

    // MARK: Shuffles, splats, lanes

    @inline(__always) mutating func i8x16Swizzle(_ dst: VReg, _ a: VReg, _ b: VReg) {
        let x = v(a, U8x16.self), indices = v(b, U8x16.self)
        lanewise(dst, U8x16.self) { indices[$0] < 16 ? x[Int(indices[$0])] : 0 }
    }
    @inline(__always) mutating func i8x16Shuffle(_ dst: VReg, _ a: VReg, _ b: VReg, _ low: UInt64, _ high: UInt64) {
        let x = v(a, U8x16.self), y = v(b, U8x16.self)
        lanewise(dst, U8x16.self) { i in
            let selector = Int(truncatingIfNeeded: (i < 8 ? low >> (8 * UInt64(i)) : high >> (8 * UInt64(i - 8))) & 31)
            return selector < 16 ? x[selector] : y[selector - 16]
        }
    }

    @inline(__always) mutating func i8x16Splat(_ dst: VReg, _ a: XReg) { setV(dst, U8x16(repeating: UInt8(truncatingIfNeeded: x64(a)))) }
    @inline(__always) mutating func i16x8Splat(_ dst: VReg, _ a: XReg) { setV(dst, U16x8(repeating: UInt16(truncatingIfNeeded: x64(a)))) }
    @inline(__always) mutating func i32x4Splat(_ dst: VReg, _ a: XReg) { setV(dst, U32x4(repeating: x32(a))) }
    @inline(__always) mutating func i64x2Splat(_ dst: VReg, _ a: XReg) { setV(dst, U64x2(repeating: x64(a))) }
    @inline(__always) mutating func f32x4Splat(_ dst: VReg, _ a: FReg) { setV(dst, U32x4(repeating: f32Bits(a))) }
    @inline(__always) mutating func f64x2Splat(_ dst: VReg, _ a: FReg) { setV(dst, U64x2(repeating: f64Bits(a))) }

    @inline(__always) mutating func i8x16ExtractLaneS(_ dst: XReg, _ a: VReg, _ lane: UInt8) { setX32(dst, Int32(v(a, I8x16.self)[Int(lane & 15)])) }
    @inline(__always) mutating func i8x16ExtractLaneU(_ dst: XReg, _ a: VReg, _ lane: UInt8) { setX32(dst, UInt32(v(a, U8x16.self)[Int(lane & 15)])) }
    @inline(__always) mutating func i16x8ExtractLaneS(_ dst: XReg, _ a: VReg, _ lane: UInt8) { setX32(dst, Int32(v(a, I16x8.self)[Int(lane & 7)])) }
    @inline(__always) mutating func i16x8ExtractLaneU(_ dst: XReg, _ a: VReg, _ lane: UInt8) { setX32(dst, UInt32(v(a, U16x8.self)[Int(lane & 7)])) }
    @inline(__always) mutating func i32x4ExtractLane(_ dst: XReg, _ a: VReg, _ lane: UInt8) { setX32(dst, v(a, U32x4.self)[Int(lane & 3)]) }
    @inline(__always) mutating func i64x2ExtractLane(_ dst: XReg, _ a: VReg, _ lane: UInt8) { setX64(dst, v(a, U64x2.self)[Int(lane & 1)]) }
    @inline(__always) mutating func f32x4ExtractLane(_ dst: FReg, _ a: VReg, _ lane: UInt8) { setF32Bits(dst, v(a, U32x4.self)[Int(lane & 3)]) }
    @inline(__always) mutating func f64x2ExtractLane(_ dst: FReg, _ a: VReg, _ lane: UInt8) { setF64Bits(dst, v(a, U64x2.self)[Int(lane & 1)]) }

    @inline(__always) func replaceLane<T: SIMD>(_ dst: VReg, _ a: VReg, _ lane: UInt8, _ value: T.Scalar, _: T.Type) {
        var vector = v(a, T.self)
        vector[Int(lane) & (T.scalarCount - 1)] = value
        setV(dst, vector)
    }
    @inline(__always) mutating func i8x16ReplaceLane(_ dst: VReg, _ a: VReg, _ b: XReg, _ lane: UInt8) { replaceLane(dst, a, lane, UInt8(truncatingIfNeeded: x64(b)), U8x16.self) }
    @inline(__always) mutating func i16x8ReplaceLane(_ dst: VReg, _ a: VReg, _ b: XReg, _ lane: UInt8) { replaceLane(dst, a, lane, UInt16(truncatingIfNeeded: x64(b)), U16x8.self) }
    @inline(__always) mutating func i32x4ReplaceLane(_ dst: VReg, _ a: VReg, _ b: XReg, _ lane: UInt8) { replaceLane(dst, a, lane, x32(b), U32x4.self) }
    @inline(__always) mutating func i64x2ReplaceLane(_ dst: VReg, _ a: VReg, _ b: XReg, _ lane: UInt8) { replaceLane(dst, a, lane, x64(b), U64x2.self) }
    @inline(__always) mutating func f32x4ReplaceLane(_ dst: VReg, _ a: VReg, _ b: FReg, _ lane: UInt8) { replaceLane(dst, a, lane, f32Bits(b), U32x4.self) }
    @inline(__always) mutating func f64x2ReplaceLane(_ dst: VReg, _ a: VReg, _ b: FReg, _ lane: UInt8) { replaceLane(dst, a, lane, f64Bits(b), U64x2.self) }

    // MARK: Comparisons

    @inline(__always) mutating func i8x16Eq(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U8x16, y) in x .== y } }
    @inline(__always) mutating func i8x16Ne(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U8x16, y) in x .!= y } }
    @inline(__always) mutating func i8x16LtS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I8x16, y) in x .< y } }
    @inline(__always) mutating func i8x16LtU(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U8x16, y) in x .< y } }
    @inline(__always) mutating func i8x16GtS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I8x16, y) in x .> y } }
    @inline(__always) mutating func i8x16GtU(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U8x16, y) in x .> y } }
    @inline(__always) mutating func i8x16LeS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I8x16, y) in x .<= y } }
    @inline(__always) mutating func i8x16LeU(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U8x16, y) in x .<= y } }
    @inline(__always) mutating func i8x16GeS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I8x16, y) in x .>= y } }
    @inline(__always) mutating func i8x16GeU(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U8x16, y) in x .>= y } }
    @inline(__always) mutating func i16x8Eq(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U16x8, y) in x .== y } }
    @inline(__always) mutating func i16x8Ne(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U16x8, y) in x .!= y } }
    @inline(__always) mutating func i16x8LtS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I16x8, y) in x .< y } }
    @inline(__always) mutating func i16x8LtU(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U16x8, y) in x .< y } }
    @inline(__always) mutating func i16x8GtS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I16x8, y) in x .> y } }
    @inline(__always) mutating func i16x8GtU(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U16x8, y) in x .> y } }
    @inline(__always) mutating func i16x8LeS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I16x8, y) in x .<= y } }
    @inline(__always) mutating func i16x8LeU(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U16x8, y) in x .<= y } }
    @inline(__always) mutating func i16x8GeS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I16x8, y) in x .>= y } }
    @inline(__always) mutating func i16x8GeU(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U16x8, y) in x .>= y } }
    @inline(__always) mutating func i32x4Eq(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U32x4, y) in x .== y } }
    @inline(__always) mutating func i32x4Ne(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U32x4, y) in x .!= y } }
    @inline(__always) mutating func i32x4LtS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I32x4, y) in x .< y } }
    @inline(__always) mutating func i32x4LtU(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U32x4, y) in x .< y } }
    @inline(__always) mutating func i32x4GtS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I32x4, y) in x .> y } }
    @inline(__always) mutating func i32x4GtU(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U32x4, y) in x .> y } }
    @inline(__always) mutating func i32x4LeS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I32x4, y) in x .<= y } }
    @inline(__always) mutating func i32x4LeU(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U32x4, y) in x .<= y } }
    @inline(__always) mutating func i32x4GeS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I32x4, y) in x .>= y } }
    @inline(__always) mutating func i32x4GeU(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: U32x4, y) in x .>= y } }
    @inline(__always) mutating func i64x2Eq(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I64x2, y) in x .== y } }
    @inline(__always) mutating func i64x2Ne(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I64x2, y) in x .!= y } }
    @inline(__always) mutating func i64x2LtS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I64x2, y) in x .< y } }
    @inline(__always) mutating func i64x2GtS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I64x2, y) in x .> y } }
    @inline(__always) mutating func i64x2LeS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I64x2, y) in x .<= y } }
    @inline(__always) mutating func i64x2GeS(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: I64x2, y) in x .>= y } }
    @inline(__always) mutating func f32x4Eq(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: F32x4, y) in x .== y } }
    @inline(__always) mutating func f32x4Ne(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: F32x4, y) in x .!= y } }
    @inline(__always) mutating func f32x4Lt(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: F32x4, y) in x .< y } }
    @inline(__always) mutating func f32x4Gt(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: F32x4, y) in x .> y } }
    @inline(__always) mutating func f32x4Le(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: F32x4, y) in x .<= y } }
    @inline(__always) mutating func f32x4Ge(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: F32x4, y) in x .>= y } }
    @inline(__always) mutating func f64x2Eq(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: F64x2, y) in x .== y } }
    @inline(__always) mutating func f64x2Ne(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: F64x2, y) in x .!= y } }
    @inline(__always) mutating func f64x2Lt(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: F64x2, y) in x .< y } }
    @inline(__always) mutating func f64x2Gt(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: F64x2, y) in x .> y } }
    @inline(__always) mutating func f64x2Le(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: F64x2, y) in x .<= y } }
    @inline(__always) mutating func f64x2Ge(_ dst: VReg, _ a: VReg, _ b: VReg) { compare(dst, a, b) { (x: F64x2, y) in x .>= y } }

    // MARK: Integer lanes

    @inline(__always) func abs<T: SIMD>(_ x: T) -> T where T.Scalar: FixedWidthInteger & SignedInteger {
        x.replacing(with: 0 &- x, where: x .< 0)
    }
    @inline(__always) func bitmask<T: SIMD>(_ x: T) -> UInt32 where T.Scalar: FixedWidthInteger & SignedInteger {
        var bits: UInt32 = 0
        for i in x.indices where x[i] < 0 { bits |= 1 << UInt32(i) }
        return bits
    }

    @inline(__always) mutating func i8x16Abs(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: I8x16) in abs(x) } }
    @inline(__always) mutating func i8x16Neg(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: I8x16) in 0 &- x } }
    @inline(__always) mutating func i8x16AllTrue(_ dst: XReg, _ a: VReg) { setBool(dst, all(v(a, U8x16.self) .!= 0)) }
    @inline(__always) mutating func i8x16Bitmask(_ dst: XReg, _ a: VReg) { setX32(dst, bitmask(v(a, I8x16.self))) }
    @inline(__always) mutating func i8x16Shl(_ dst: VReg, _ a: VReg, _ b: XReg) { setV(dst, v(a, U8x16.self) &<< UInt8(x32(b) & 7)) }
    @inline(__always) mutating func i8x16ShrS(_ dst: VReg, _ a: VReg, _ b: XReg) { setV(dst, v(a, I8x16.self) &>> Int8(x32(b) & 7)) }
    @inline(__always) mutating func i8x16ShrU(_ dst: VReg, _ a: VReg, _ b: XReg) { setV(dst, v(a, U8x16.self) &>> UInt8(x32(b) & 7)) }
    @inline(__always) mutating func i8x16Add(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U8x16, y) in x &+ y } }
    @inline(__always) mutating func i8x16Sub(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U8x16, y) in x &- y } }
    @inline(__always) mutating func i8x16MinS(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: I8x16, y) in minimum(x, y) } }
    @inline(__always) mutating func i8x16MinU(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U8x16, y) in minimum(x, y) } }
    @inline(__always) mutating func i8x16MaxS(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: I8x16, y) in maximum(x, y) } }
    @inline(__always) mutating func i8x16MaxU(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U8x16, y) in maximum(x, y) } }
    @inline(__always) mutating func i8x16AddSatS(_ dst: VReg, _ a: VReg, _ b: VReg) {
        binary(dst, a, b) { (x: I8x16, y) in saturating(x, y, +) }
    }
    @inline(__always) mutating func i8x16AddSatU(_ dst: VReg, _ a: VReg, _ b: VReg) {
        binary(dst, a, b) { (x: U8x16, y) in saturating(x, y, +) }
    }
    @inline(__always) mutating func i8x16SubSatS(_ dst: VReg, _ a: VReg, _ b: VReg) {
        binary(dst, a, b) { (x: I8x16, y) in saturating(x, y, -) }
    }
    @inline(__always) mutating func i8x16SubSatU(_ dst: VReg, _ a: VReg, _ b: VReg) {
        binary(dst, a, b) { (x: U8x16, y) in saturating(x, y, -) }
    }
    @inline(__always) mutating func i8x16AvgrU(_ dst: VReg, _ a: VReg, _ b: VReg) {
        binary(dst, a, b) { (x: U8x16, y) in saturating(x, y) { ($0 + $1 + 1) >> 1 } }
    }
    @inline(__always) mutating func i8x16Popcnt(_ dst: VReg, _ a: VReg) {
        let x = v(a, U8x16.self)
        lanewise(dst, U8x16.self) { UInt8(x[$0].nonzeroBitCount) }
    }
    @inline(__always) mutating func i8x16NarrowI16x8S(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, narrow(v(a, I16x8.self), v(b, I16x8.self), I8x16.self))
    }
    @inline(__always) mutating func i8x16NarrowI16x8U(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, narrow(v(a, I16x8.self), v(b, I16x8.self), U8x16.self))
    }

    @inline(__always) mutating func i16x8Abs(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: I16x8) in abs(x) } }
    @inline(__always) mutating func i16x8Neg(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: I16x8) in 0 &- x } }
    @inline(__always) mutating func i16x8AllTrue(_ dst: XReg, _ a: VReg) { setBool(dst, all(v(a, U16x8.self) .!= 0)) }
    @inline(__always) mutating func i16x8Bitmask(_ dst: XReg, _ a: VReg) { setX32(dst, bitmask(v(a, I16x8.self))) }
    @inline(__always) mutating func i16x8Shl(_ dst: VReg, _ a: VReg, _ b: XReg) { setV(dst, v(a, U16x8.self) &<< UInt16(x32(b) & 15)) }
    @inline(__always) mutating func i16x8ShrS(_ dst: VReg, _ a: VReg, _ b: XReg) { setV(dst, v(a, I16x8.self) &>> Int16(x32(b) & 15)) }
    @inline(__always) mutating func i16x8ShrU(_ dst: VReg, _ a: VReg, _ b: XReg) { setV(dst, v(a, U16x8.self) &>> UInt16(x32(b) & 15)) }
    @inline(__always) mutating func i16x8Add(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U16x8, y) in x &+ y } }
    @inline(__always) mutating func i16x8Sub(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U16x8, y) in x &- y } }
    @inline(__always) mutating func i16x8Mul(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U16x8, y) in x &* y } }
    @inline(__always) mutating func i16x8MinS(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: I16x8, y) in minimum(x, y) } }
    @inline(__always) mutating func i16x8MinU(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U16x8, y) in minimum(x, y) } }
    @inline(__always) mutating func i16x8MaxS(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: I16x8, y) in maximum(x, y) } }
    @inline(__always) mutating func i16x8MaxU(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U16x8, y) in maximum(x, y) } }
    @inline(__always) mutating func i16x8AddSatS(_ dst: VReg, _ a: VReg, _ b: VReg) {
        binary(dst, a, b) { (x: I16x8, y) in saturating(x, y, +) }
    }
    @inline(__always) mutating func i16x8AddSatU(_ dst: VReg, _ a: VReg, _ b: VReg) {
        binary(dst, a, b) { (x: U16x8, y) in saturating(x, y, +) }
    }
    @inline(__always) mutating func i16x8SubSatS(_ dst: VReg, _ a: VReg, _ b: VReg) {
        binary(dst, a, b) { (x: I16x8, y) in saturating(x, y, -) }
    }
    @inline(__always) mutating func i16x8SubSatU(_ dst: VReg, _ a: VReg, _ b: VReg) {
        binary(dst, a, b) { (x: U16x8, y) in saturating(x, y, -) }
    }
    @inline(__always) mutating func i16x8AvgrU(_ dst: VReg, _ a: VReg, _ b: VReg) {
        binary(dst, a, b) { (x: U16x8, y) in saturating(x, y) { ($0 + $1 + 1) >> 1 } }
    }
    @inline(__always) mutating func i16x8NarrowI32x4S(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, narrow(v(a, I32x4.self), v(b, I32x4.self), I16x8.self))
    }
    @inline(__always) mutating func i16x8NarrowI32x4U(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, narrow(v(a, I32x4.self), v(b, I32x4.self), U16x8.self))
    }
    @inline(__always) mutating func i16x8Q15mulrSatS(_ dst: VReg, _ a: VReg, _ b: VReg) {
        binary(dst, a, b) { (x: I16x8, y) in saturating(x, y) { ($0 * $1 + 0x4000) >> 15 } }
    }

    @inline(__always) mutating func i32x4Abs(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: I32x4) in abs(x) } }
    @inline(__always) mutating func i32x4Neg(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: I32x4) in 0 &- x } }
    @inline(__always) mutating func i32x4AllTrue(_ dst: XReg, _ a: VReg) { setBool(dst, all(v(a, U32x4.self) .!= 0)) }
    @inline(__always) mutating func i32x4Bitmask(_ dst: XReg, _ a: VReg) { setX32(dst, bitmask(v(a, I32x4.self))) }
    @inline(__always) mutating func i32x4Shl(_ dst: VReg, _ a: VReg, _ b: XReg) { setV(dst, v(a, U32x4.self) &<< (x32(b) & 31)) }
    @inline(__always) mutating func i32x4ShrS(_ dst: VReg, _ a: VReg, _ b: XReg) { setV(dst, v(a, I32x4.self) &>> Int32(x32(b) & 31)) }
    @inline(__always) mutating func i32x4ShrU(_ dst: VReg, _ a: VReg, _ b: XReg) { setV(dst, v(a, U32x4.self) &>> (x32(b) & 31)) }
    @inline(__always) mutating func i32x4Add(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U32x4, y) in x &+ y } }
    @inline(__always) mutating func i32x4Sub(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U32x4, y) in x &- y } }
    @inline(__always) mutating func i32x4Mul(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U32x4, y) in x &* y } }
    @inline(__always) mutating func i32x4MinS(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: I32x4, y) in minimum(x, y) } }
    @inline(__always) mutating func i32x4MinU(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U32x4, y) in minimum(x, y) } }
    @inline(__always) mutating func i32x4MaxS(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: I32x4, y) in maximum(x, y) } }
    @inline(__always) mutating func i32x4MaxU(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U32x4, y) in maximum(x, y) } }
    @inline(__always) mutating func i32x4DotI16x8S(_ dst: VReg, _ a: VReg, _ b: VReg) {
        let x = v(a, I16x8.self), y = v(b, I16x8.self)
        lanewise(dst, I32x4.self) { Int32(x[2 * $0]) * Int32(y[2 * $0]) &+ Int32(x[2 * $0 + 1]) * Int32(y[2 * $0 + 1]) }
    }

    @inline(__always) mutating func i64x2Abs(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: I64x2) in abs(x) } }
    @inline(__always) mutating func i64x2Neg(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: I64x2) in 0 &- x } }
    @inline(__always) mutating func i64x2AllTrue(_ dst: XReg, _ a: VReg) { setBool(dst, all(v(a, U64x2.self) .!= 0)) }
    @inline(__always) mutating func i64x2Bitmask(_ dst: XReg, _ a: VReg) { setX32(dst, bitmask(v(a, I64x2.self))) }
    @inline(__always) mutating func i64x2Shl(_ dst: VReg, _ a: VReg, _ b: XReg) { setV(dst, v(a, U64x2.self) &<< UInt64(x32(b) & 63)) }
    @inline(__always) mutating func i64x2ShrS(_ dst: VReg, _ a: VReg, _ b: XReg) { setV(dst, v(a, I64x2.self) &>> Int64(x32(b) & 63)) }
    @inline(__always) mutating func i64x2ShrU(_ dst: VReg, _ a: VReg, _ b: XReg) { setV(dst, v(a, U64x2.self) &>> UInt64(x32(b) & 63)) }
    @inline(__always) mutating func i64x2Add(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U64x2, y) in x &+ y } }
    @inline(__always) mutating func i64x2Sub(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U64x2, y) in x &- y } }
    @inline(__always) mutating func i64x2Mul(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: U64x2, y) in x &* y } }

    // MARK: Widening

    @inline(__always) mutating func i16x8ExtendLowI8x16S(_ dst: VReg, _ a: VReg) { setV(dst, widen(v(a, I8x16.self), from: 0, I16x8.self)) }
    @inline(__always) mutating func i16x8ExtendHighI8x16S(_ dst: VReg, _ a: VReg) { setV(dst, widen(v(a, I8x16.self), from: 8, I16x8.self)) }
    @inline(__always) mutating func i16x8ExtendLowI8x16U(_ dst: VReg, _ a: VReg) { setV(dst, widen(v(a, U8x16.self), from: 0, U16x8.self)) }
    @inline(__always) mutating func i16x8ExtendHighI8x16U(_ dst: VReg, _ a: VReg) { setV(dst, widen(v(a, U8x16.self), from: 8, U16x8.self)) }
    @inline(__always) mutating func i32x4ExtendLowI16x8S(_ dst: VReg, _ a: VReg) { setV(dst, widen(v(a, I16x8.self), from: 0, I32x4.self)) }
    @inline(__always) mutating func i32x4ExtendHighI16x8S(_ dst: VReg, _ a: VReg) { setV(dst, widen(v(a, I16x8.self), from: 4, I32x4.self)) }
    @inline(__always) mutating func i32x4ExtendLowI16x8U(_ dst: VReg, _ a: VReg) { setV(dst, widen(v(a, U16x8.self), from: 0, U32x4.self)) }
    @inline(__always) mutating func i32x4ExtendHighI16x8U(_ dst: VReg, _ a: VReg) { setV(dst, widen(v(a, U16x8.self), from: 4, U32x4.self)) }
    @inline(__always) mutating func i64x2ExtendLowI32x4S(_ dst: VReg, _ a: VReg) { setV(dst, widen(v(a, I32x4.self), from: 0, I64x2.self)) }
    @inline(__always) mutating func i64x2ExtendHighI32x4S(_ dst: VReg, _ a: VReg) { setV(dst, widen(v(a, I32x4.self), from: 2, I64x2.self)) }
    @inline(__always) mutating func i64x2ExtendLowI32x4U(_ dst: VReg, _ a: VReg) { setV(dst, widen(v(a, U32x4.self), from: 0, U64x2.self)) }
    @inline(__always) mutating func i64x2ExtendHighI32x4U(_ dst: VReg, _ a: VReg) { setV(dst, widen(v(a, U32x4.self), from: 2, U64x2.self)) }

    @inline(__always) mutating func i16x8ExtmulLowI8x16S(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, widen(v(a, I8x16.self), from: 0, I16x8.self) &* widen(v(b, I8x16.self), from: 0, I16x8.self))
    }
    @inline(__always) mutating func i16x8ExtmulHighI8x16S(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, widen(v(a, I8x16.self), from: 8, I16x8.self) &* widen(v(b, I8x16.self), from: 8, I16x8.self))
    }
    @inline(__always) mutating func i16x8ExtmulLowI8x16U(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, widen(v(a, U8x16.self), from: 0, U16x8.self) &* widen(v(b, U8x16.self), from: 0, U16x8.self))
    }
    @inline(__always) mutating func i16x8ExtmulHighI8x16U(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, widen(v(a, U8x16.self), from: 8, U16x8.self) &* widen(v(b, U8x16.self), from: 8, U16x8.self))
    }
    @inline(__always) mutating func i32x4ExtmulLowI16x8S(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, widen(v(a, I16x8.self), from: 0, I32x4.self) &* widen(v(b, I16x8.self), from: 0, I32x4.self))
    }
    @inline(__always) mutating func i32x4ExtmulHighI16x8S(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, widen(v(a, I16x8.self), from: 4, I32x4.self) &* widen(v(b, I16x8.self), from: 4, I32x4.self))
    }
    @inline(__always) mutating func i32x4ExtmulLowI16x8U(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, widen(v(a, U16x8.self), from: 0, U32x4.self) &* widen(v(b, U16x8.self), from: 0, U32x4.self))
    }
    @inline(__always) mutating func i32x4ExtmulHighI16x8U(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, widen(v(a, U16x8.self), from: 4, U32x4.self) &* widen(v(b, U16x8.self), from: 4, U32x4.self))
    }
    @inline(__always) mutating func i64x2ExtmulLowI32x4S(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, widen(v(a, I32x4.self), from: 0, I64x2.self) &* widen(v(b, I32x4.self), from: 0, I64x2.self))
    }
    @inline(__always) mutating func i64x2ExtmulHighI32x4S(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, widen(v(a, I32x4.self), from: 2, I64x2.self) &* widen(v(b, I32x4.self), from: 2, I64x2.self))
    }
    @inline(__always) mutating func i64x2ExtmulLowI32x4U(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, widen(v(a, U32x4.self), from: 0, U64x2.self) &* widen(v(b, U32x4.self), from: 0, U64x2.self))
    }
    @inline(__always) mutating func i64x2ExtmulHighI32x4U(_ dst: VReg, _ a: VReg, _ b: VReg) {
        setV(dst, widen(v(a, U32x4.self), from: 2, U64x2.self) &* widen(v(b, U32x4.self), from: 2, U64x2.self))
    }

    @inline(__always) mutating func i16x8ExtaddPairwiseI8x16S(_ dst: VReg, _ a: VReg) {
        let x = v(a, I8x16.self)
        lanewise(dst, I16x8.self) { Int16(x[2 * $0]) + Int16(x[2 * $0 + 1]) }
    }
    @inline(__always) mutating func i16x8ExtaddPairwiseI8x16U(_ dst: VReg, _ a: VReg) {
        let x = v(a, U8x16.self)
        lanewise(dst, U16x8.self) { UInt16(x[2 * $0]) + UInt16(x[2 * $0 + 1]) }
    }
    @inline(__always) mutating func i32x4ExtaddPairwiseI16x8S(_ dst: VReg, _ a: VReg) {
        let x = v(a, I16x8.self)
        lanewise(dst, I32x4.self) { Int32(x[2 * $0]) + Int32(x[2 * $0 + 1]) }
    }
    @inline(__always) mutating func i32x4ExtaddPairwiseI16x8U(_ dst: VReg, _ a: VReg) {
        let x = v(a, U16x8.self)
        lanewise(dst, U32x4.self) { UInt32(x[2 * $0]) + UInt32(x[2 * $0 + 1]) }
    }

    // MARK: Float lanes (signs on bits, so NaN payloads pass through)

    @inline(__always) mutating func f32x4Ceil(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: F32x4) in x.rounded(.up) } }
    @inline(__always) mutating func f32x4Floor(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: F32x4) in x.rounded(.down) } }
    @inline(__always) mutating func f32x4Trunc(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: F32x4) in x.rounded(.towardZero) } }
    @inline(__always) mutating func f32x4Nearest(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: F32x4) in x.rounded(.toNearestOrEven) } }
    @inline(__always) mutating func f32x4Abs(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: U32x4) in x & 0x7FFF_FFFF } }
    @inline(__always) mutating func f32x4Neg(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: U32x4) in x ^ 0x8000_0000 } }
    @inline(__always) mutating func f32x4Sqrt(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: F32x4) in x.squareRoot() } }
    @inline(__always) mutating func f32x4Add(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: F32x4, y) in x + y } }
    @inline(__always) mutating func f32x4Sub(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: F32x4, y) in x - y } }
    @inline(__always) mutating func f32x4Mul(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: F32x4, y) in x * y } }
    @inline(__always) mutating func f32x4Div(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: F32x4, y) in x / y } }
    @inline(__always) mutating func f32x4Min(_ dst: VReg, _ a: VReg, _ b: VReg) {
        let x = v(a, F32x4.self), y = v(b, F32x4.self)
        lanewise(dst, F32x4.self) { wasmMin(x[$0], y[$0]) }
    }
    @inline(__always) mutating func f32x4Max(_ dst: VReg, _ a: VReg, _ b: VReg) {
        let x = v(a, F32x4.self), y = v(b, F32x4.self)
        lanewise(dst, F32x4.self) { wasmMax(x[$0], y[$0]) }
    }
    @inline(__always) mutating func f32x4Pmin(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: F32x4, y) in x.replacing(with: y, where: y .< x) } }
    @inline(__always) mutating func f32x4Pmax(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: F32x4, y) in x.replacing(with: y, where: x .< y) } }

    @inline(__always) mutating func f64x2Ceil(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: F64x2) in x.rounded(.up) } }
    @inline(__always) mutating func f64x2Floor(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: F64x2) in x.rounded(.down) } }
    @inline(__always) mutating func f64x2Trunc(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: F64x2) in x.rounded(.towardZero) } }
    @inline(__always) mutating func f64x2Nearest(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: F64x2) in x.rounded(.toNearestOrEven) } }
    @inline(__always) mutating func f64x2Abs(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: U64x2) in x & 0x7FFF_FFFF_FFFF_FFFF } }
    @inline(__always) mutating func f64x2Neg(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: U64x2) in x ^ 0x8000_0000_0000_0000 } }
    @inline(__always) mutating func f64x2Sqrt(_ dst: VReg, _ a: VReg) { unary(dst, a) { (x: F64x2) in x.squareRoot() } }
    @inline(__always) mutating func f64x2Add(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: F64x2, y) in x + y } }
    @inline(__always) mutating func f64x2Sub(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: F64x2, y) in x - y } }
    @inline(__always) mutating func f64x2Mul(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: F64x2, y) in x * y } }
    @inline(__always) mutating func f64x2Div(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: F64x2, y) in x / y } }
    @inline(__always) mutating func f64x2Min(_ dst: VReg, _ a: VReg, _ b: VReg) {
        let x = v(a, F64x2.self), y = v(b, F64x2.self)
        lanewise(dst, F64x2.self) { wasmMin(x[$0], y[$0]) }
    }
    @inline(__always) mutating func f64x2Max(_ dst: VReg, _ a: VReg, _ b: VReg) {
        let x = v(a, F64x2.self), y = v(b, F64x2.self)
        lanewise(dst, F64x2.self) { wasmMax(x[$0], y[$0]) }
    }
    @inline(__always) mutating func f64x2Pmin(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: F64x2, y) in x.replacing(with: y, where: y .< x) } }
    @inline(__always) mutating func f64x2Pmax(_ dst: VReg, _ a: VReg, _ b: VReg) { binary(dst, a, b) { (x: F64x2, y) in x.replacing(with: y, where: x .< y) } }

    // MARK: Conversions

    @inline(__always) mutating func i32x4TruncSatF32x4S(_ dst: VReg, _ a: VReg) {
        let x = v(a, F32x4.self)
        lanewise(dst, I32x4.self) { saturate(x[$0], to: Int32.self) }
    }
    @inline(__always) mutating func i32x4TruncSatF32x4U(_ dst: VReg, _ a: VReg) {
        let x = v(a, F32x4.self)
        lanewise(dst, U32x4.self) { saturate(x[$0], to: UInt32.self) }
    }
    @inline(__always) mutating func i32x4TruncSatF64x2SZero(_ dst: VReg, _ a: VReg) {
        let x = v(a, F64x2.self)
        setV(dst, I32x4(saturate(x[0], to: Int32.self), saturate(x[1], to: Int32.self), 0, 0))
    }
    @inline(__always) mutating func i32x4TruncSatF64x2UZero(_ dst: VReg, _ a: VReg) {
        let x = v(a, F64x2.self)
        setV(dst, U32x4(saturate(x[0], to: UInt32.self), saturate(x[1], to: UInt32.self), 0, 0))
    }
    @inline(__always) mutating func f32x4ConvertI32x4S(_ dst: VReg, _ a: VReg) { setV(dst, F32x4(v(a, I32x4.self))) }
    @inline(__always) mutating func f32x4ConvertI32x4U(_ dst: VReg, _ a: VReg) { setV(dst, F32x4(v(a, U32x4.self))) }
    @inline(__always) mutating func f64x2ConvertLowI32x4S(_ dst: VReg, _ a: VReg) {
        let x = v(a, I32x4.self)
        setV(dst, F64x2(Double(x[0]), Double(x[1])))
    }
    @inline(__always) mutating func f64x2ConvertLowI32x4U(_ dst: VReg, _ a: VReg) {
        let x = v(a, U32x4.self)
        setV(dst, F64x2(Double(x[0]), Double(x[1])))
    }
    @inline(__always) mutating func f32x4DemoteF64x2Zero(_ dst: VReg, _ a: VReg) {
        let x = v(a, F64x2.self)
        setV(dst, F32x4(Float(x[0]), Float(x[1]), 0, 0))
    }
    @inline(__always) mutating func f64x2PromoteLowF32x4(_ dst: VReg, _ a: VReg) {
        let x = v(a, F32x4.self)
        setV(dst, F64x2(Double(x[0]), Double(x[1])))
    }

    // Relaxed SIMD: the spec's deterministic profile (the first of each
    // instruction's allowed results), the same on every machine: the
    // multiply-adds round twice (multiply, then add), the dot products read b's
    // lanes as signed and add each pair of products saturating to i16.
    @inline(__always) mutating func f32x4RelaxedMadd(_ dst: VReg, _ a: VReg, _ b: VReg, _ c: VReg) {
        setV(dst, v(a, F32x4.self) * v(b, F32x4.self) + v(c, F32x4.self))
    }
    @inline(__always) mutating func f32x4RelaxedNmadd(_ dst: VReg, _ a: VReg, _ b: VReg, _ c: VReg) {
        setV(dst, -(v(a, F32x4.self) * v(b, F32x4.self)) + v(c, F32x4.self))
    }
    @inline(__always) mutating func f64x2RelaxedMadd(_ dst: VReg, _ a: VReg, _ b: VReg, _ c: VReg) {
        setV(dst, v(a, F64x2.self) * v(b, F64x2.self) + v(c, F64x2.self))
    }
    @inline(__always) mutating func f64x2RelaxedNmadd(_ dst: VReg, _ a: VReg, _ b: VReg, _ c: VReg) {
        setV(dst, -(v(a, F64x2.self) * v(b, F64x2.self)) + v(c, F64x2.self))
    }
    @inline(__always) mutating func i16x8RelaxedDotI8x16I7x16S(_ dst: VReg, _ a: VReg, _ b: VReg) {
        let pairs = relaxedDotPairs(a, b)
        lanewise(dst, I16x8.self) { pairs[$0] }
    }
    @inline(__always) mutating func i32x4RelaxedDotI8x16I7x16AddS(_ dst: VReg, _ a: VReg, _ b: VReg, _ c: VReg) {
        let pairs = relaxedDotPairs(a, b), z = v(c, I32x4.self)
        lanewise(dst, I32x4.self) { z[$0] &+ Int32(pairs[2 * $0]) &+ Int32(pairs[2 * $0 + 1]) }
    }
    /// Lane i: a[2i] * b[2i] + a[2i+1] * b[2i+1], the i8 lanes signed, the sum saturated to i16.
    @inline(__always) func relaxedDotPairs(_ a: VReg, _ b: VReg) -> I16x8 {
        let x = v(a, I8x16.self), y = v(b, I8x16.self)
        var pairs = I16x8()
        for i in 0..<8 {
            let sum = Int32(x[2 * i]) * Int32(y[2 * i]) + Int32(x[2 * i + 1]) * Int32(y[2 * i + 1])
            pairs[i] = Int16(clamping: sum)
        }
        return pairs
    }
}
#endif
