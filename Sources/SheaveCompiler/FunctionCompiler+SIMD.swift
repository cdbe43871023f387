import SheaveBytecode
import WasmParser
import WasmTypes

// 128-bit SIMD. A v128 takes two slots (see `width`); the ops that are one
// Wasm instruction each are lowered by generated code (Generated/SIMDLowering.swift,
// from the op table); constants, shuffles and the memory ops are here.

extension FunctionCompiler {
    /// Whether this build's interpreter has SIMD handlers (the `InterpreterSIMD` trait).
    static var interpreterHasSIMD: Bool {
        #if InterpreterSIMD
        return true
        #else
        return false
        #endif
    }

    /// Refuses SIMD when the module may not use it, or when this build has no SIMD handlers.
    func requireSIMD() throws(CompileError) {
        guard Self.interpreterHasSIMD else {
            throw failure(.unsupported, "SIMD is not available: this Sheave was built without the InterpreterSIMD trait")
        }
        try require(.simd, "a SIMD instruction")
    }

    /// A SIMD op with operands `inputs` and an optional result, in the first operand's slot.
    mutating func simdOp(_ inputs: [ValueType], _ result: ValueType?,
                         _ body: @escaping (inout Encoder, UInt16, [UInt16]) -> Void) throws(CompileError) {
        try requireSIMD()
        try op(inputs, result) { (c: inout FunctionCompiler, dst, first) throws(CompileError) in
            var registers: [UInt16] = []
            for k in 0..<inputs.count { registers.append(c.register(first + k)) }
            if result == nil {
                c.emit { body(&$0, dst, registers) }
            } else {
                c.emitWithDestination(dst) { body(&$0, dst, registers) }
            }
        }
    }

    mutating func visitSimd(_ simd: Instruction.Simd) throws(CompileError) {
        try requireSIMD()
        try lowerSimd(simd)
    }

    mutating func visitSimdLane(_ simdLane: Instruction.SimdLane, lane: UInt8) throws(CompileError) {
        try requireSIMD()
        try lowerSimdLane(simdLane, lane: lane)
    }

    mutating func visitV128Const(value: V128) throws(CompileError) {
        try requireSIMD()
        let (low, high) = CompiledModule.halves(value.bytes)
        produce(.v128) { $0.v128Const(VReg($1), low, high) }
    }

    mutating func visitI8x16Shuffle(lanes: V128ShuffleMask) throws(CompileError) {
        try requireSIMD()
        for lane in lanes.lanes where lane >= 32 { throw failure("invalid lane index \(lane)") }
        let (low, high) = CompiledModule.halves(lanes.lanes)
        try simdOp([.v128, .v128], .v128) { e, dst, r in e.i8x16Shuffle(VReg(dst), VReg(r[0]), VReg(r[1]), low, high) }
    }

    mutating func visitSimdMemLane(_ op: Instruction.SimdMemLane, memarg: MemArg, lane: UInt8) throws(CompileError) {
        try requireSIMD()
        let log2Size: Int
        switch op {
        case .v128Load8Lane, .v128Store8Lane: log2Size = 0
        case .v128Load16Lane, .v128Store16Lane: log2Size = 1
        case .v128Load32Lane, .v128Store32Lane: log2Size = 2
        case .v128Load64Lane, .v128Store64Lane: log2Size = 3
        }
        let access = try checkMemArg(memarg, naturalAlignment: log2Size)
        guard Int(lane) < 16 >> log2Size else { throw failure("invalid lane index \(lane)") }
        let inputs = [access.address, .v128]
        if let offset = access.fast {
            switch op {
            case .v128Load8Lane: try simdOp(inputs, .v128) { e, dst, r in e.v128Load8Lane(VReg(dst), XReg(r[0]), offset, VReg(r[1]), lane) }
            case .v128Load16Lane: try simdOp(inputs, .v128) { e, dst, r in e.v128Load16Lane(VReg(dst), XReg(r[0]), offset, VReg(r[1]), lane) }
            case .v128Load32Lane: try simdOp(inputs, .v128) { e, dst, r in e.v128Load32Lane(VReg(dst), XReg(r[0]), offset, VReg(r[1]), lane) }
            case .v128Load64Lane: try simdOp(inputs, .v128) { e, dst, r in e.v128Load64Lane(VReg(dst), XReg(r[0]), offset, VReg(r[1]), lane) }
            case .v128Store8Lane: try simdOp(inputs, nil) { e, _, r in e.v128Store8Lane(XReg(r[0]), offset, VReg(r[1]), lane) }
            case .v128Store16Lane: try simdOp(inputs, nil) { e, _, r in e.v128Store16Lane(XReg(r[0]), offset, VReg(r[1]), lane) }
            case .v128Store32Lane: try simdOp(inputs, nil) { e, _, r in e.v128Store32Lane(XReg(r[0]), offset, VReg(r[1]), lane) }
            case .v128Store64Lane: try simdOp(inputs, nil) { e, _, r in e.v128Store64Lane(XReg(r[0]), offset, VReg(r[1]), lane) }
            }
            return
        }
        let (offset, m) = (access.offset, access.memory)
        switch op {
        case .v128Load8Lane: try simdOp(inputs, .v128) { e, dst, r in e.v128Load8LaneM(VReg(dst), XReg(r[0]), offset, VReg(r[1]), lane, m) }
        case .v128Load16Lane: try simdOp(inputs, .v128) { e, dst, r in e.v128Load16LaneM(VReg(dst), XReg(r[0]), offset, VReg(r[1]), lane, m) }
        case .v128Load32Lane: try simdOp(inputs, .v128) { e, dst, r in e.v128Load32LaneM(VReg(dst), XReg(r[0]), offset, VReg(r[1]), lane, m) }
        case .v128Load64Lane: try simdOp(inputs, .v128) { e, dst, r in e.v128Load64LaneM(VReg(dst), XReg(r[0]), offset, VReg(r[1]), lane, m) }
        case .v128Store8Lane: try simdOp(inputs, nil) { e, _, r in e.v128Store8LaneM(XReg(r[0]), offset, VReg(r[1]), lane, m) }
        case .v128Store16Lane: try simdOp(inputs, nil) { e, _, r in e.v128Store16LaneM(XReg(r[0]), offset, VReg(r[1]), lane, m) }
        case .v128Store32Lane: try simdOp(inputs, nil) { e, _, r in e.v128Store32LaneM(XReg(r[0]), offset, VReg(r[1]), lane, m) }
        case .v128Store64Lane: try simdOp(inputs, nil) { e, _, r in e.v128Store64LaneM(XReg(r[0]), offset, VReg(r[1]), lane, m) }
        }
    }
}

extension CompiledModule {
    /// Sixteen bytes as two little-endian u64 immediates (bytes 0-7, then 8-15).
    public static func halves(_ bytes: [UInt8]) -> (low: UInt64, high: UInt64) {
        var low: UInt64 = 0, high: UInt64 = 0
        for i in 0..<8 {
            low |= UInt64(bytes[i]) << (8 * UInt64(i))
            high |= UInt64(bytes[8 + i]) << (8 * UInt64(i))
        }
        return (low, high)
    }
}
