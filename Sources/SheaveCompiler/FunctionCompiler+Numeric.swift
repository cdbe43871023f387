import SheaveBytecode
import WasmParser
import WasmTypes

// Numeric instructions: each maps to one op, with an immediate form where the
// second operand is a constant that fits.

private func x(_ r: UInt16) -> XReg { XReg(r) }
private func f(_ r: UInt16) -> FReg { FReg(r) }

extension FunctionCompiler {
    mutating func visitI32Eqz() throws(CompileError) {
        try unary(.i32, .i32) { $0.xeqz32(x($1), x($2)) }
    }
    mutating func visitI64Eqz() throws(CompileError) {
        try unary(.i64, .i32) { $0.xeqz64(x($1), x($2)) }
    }

    mutating func visitCmp(_ cmp: Instruction.Cmp) throws(CompileError) {
        typealias R = (inout Encoder, UInt16, UInt16, UInt16) -> Void
        typealias I = (inout Encoder, UInt16, UInt16, Int32) -> Void
        func swapped(_ body: @escaping R) -> R { { body(&$0, $1, $3, $2) } }
        let t: ValueType
        let reg: R
        var imm: I? = nil
        switch cmp {
        case .i32Eq: t = .i32; reg = { $0.xeq32(x($1), x($2), x($3)) }; imm = { $0.xeq32I32(x($1), x($2), $3) }
        case .i32Ne: t = .i32; reg = { $0.xne32(x($1), x($2), x($3)) }; imm = { $0.xne32I32(x($1), x($2), $3) }
        case .i32LtS: t = .i32; reg = { $0.xslt32(x($1), x($2), x($3)) }; imm = { $0.xslt32I32(x($1), x($2), $3) }
        case .i32LtU: t = .i32; reg = { $0.xult32(x($1), x($2), x($3)) }; imm = { $0.xult32I32(x($1), x($2), $3) }
        case .i32GtS: t = .i32; reg = swapped { $0.xslt32(x($1), x($2), x($3)) }; imm = { $0.xsgt32I32(x($1), x($2), $3) }
        case .i32GtU: t = .i32; reg = swapped { $0.xult32(x($1), x($2), x($3)) }; imm = { $0.xugt32I32(x($1), x($2), $3) }
        case .i32LeS: t = .i32; reg = { $0.xsle32(x($1), x($2), x($3)) }; imm = { $0.xsle32I32(x($1), x($2), $3) }
        case .i32LeU: t = .i32; reg = { $0.xule32(x($1), x($2), x($3)) }; imm = { $0.xule32I32(x($1), x($2), $3) }
        case .i32GeS: t = .i32; reg = swapped { $0.xsle32(x($1), x($2), x($3)) }; imm = { $0.xsge32I32(x($1), x($2), $3) }
        case .i32GeU: t = .i32; reg = swapped { $0.xule32(x($1), x($2), x($3)) }; imm = { $0.xuge32I32(x($1), x($2), $3) }
        case .i64Eq: t = .i64; reg = { $0.xeq64(x($1), x($2), x($3)) }; imm = { $0.xeq64I32(x($1), x($2), $3) }
        case .i64Ne: t = .i64; reg = { $0.xne64(x($1), x($2), x($3)) }; imm = { $0.xne64I32(x($1), x($2), $3) }
        case .i64LtS: t = .i64; reg = { $0.xslt64(x($1), x($2), x($3)) }; imm = { $0.xslt64I32(x($1), x($2), $3) }
        case .i64LtU: t = .i64; reg = { $0.xult64(x($1), x($2), x($3)) }; imm = { $0.xult64I32(x($1), x($2), $3) }
        case .i64GtS: t = .i64; reg = swapped { $0.xslt64(x($1), x($2), x($3)) }; imm = { $0.xsgt64I32(x($1), x($2), $3) }
        case .i64GtU: t = .i64; reg = swapped { $0.xult64(x($1), x($2), x($3)) }; imm = { $0.xugt64I32(x($1), x($2), $3) }
        case .i64LeS: t = .i64; reg = { $0.xsle64(x($1), x($2), x($3)) }; imm = { $0.xsle64I32(x($1), x($2), $3) }
        case .i64LeU: t = .i64; reg = { $0.xule64(x($1), x($2), x($3)) }; imm = { $0.xule64I32(x($1), x($2), $3) }
        case .i64GeS: t = .i64; reg = swapped { $0.xsle64(x($1), x($2), x($3)) }; imm = { $0.xsge64I32(x($1), x($2), $3) }
        case .i64GeU: t = .i64; reg = swapped { $0.xule64(x($1), x($2), x($3)) }; imm = { $0.xuge64I32(x($1), x($2), $3) }
        case .f32Eq: t = .f32; reg = { $0.feq32(x($1), f($2), f($3)) }
        case .f32Ne: t = .f32; reg = { $0.fne32(x($1), f($2), f($3)) }
        case .f32Lt: t = .f32; reg = { $0.flt32(x($1), f($2), f($3)) }
        case .f32Gt: t = .f32; reg = swapped { $0.flt32(x($1), f($2), f($3)) }
        case .f32Le: t = .f32; reg = { $0.fle32(x($1), f($2), f($3)) }
        case .f32Ge: t = .f32; reg = swapped { $0.fle32(x($1), f($2), f($3)) }
        case .f64Eq: t = .f64; reg = { $0.feq64(x($1), f($2), f($3)) }
        case .f64Ne: t = .f64; reg = { $0.fne64(x($1), f($2), f($3)) }
        case .f64Lt: t = .f64; reg = { $0.flt64(x($1), f($2), f($3)) }
        case .f64Gt: t = .f64; reg = swapped { $0.flt64(x($1), f($2), f($3)) }
        case .f64Le: t = .f64; reg = { $0.fle64(x($1), f($2), f($3)) }
        case .f64Ge: t = .f64; reg = swapped { $0.fle64(x($1), f($2), f($3)) }
        }
        try binary(t, .i32, reg, imm: imm)
    }

    mutating func visitUnary(_ unary: Instruction.Unary) throws(CompileError) {
        switch unary {
        case .i32Extend8S, .i32Extend16S, .i64Extend8S, .i64Extend16S, .i64Extend32S: try require(.signExtension, "\(unary)")
        default: break
        }
        switch unary {
        case .i32Clz: try self.unary(.i32, .i32) { $0.xclz32(x($1), x($2)) }
        case .i32Ctz: try self.unary(.i32, .i32) { $0.xctz32(x($1), x($2)) }
        case .i32Popcnt: try self.unary(.i32, .i32) { $0.xpopcnt32(x($1), x($2)) }
        case .i64Clz: try self.unary(.i64, .i64) { $0.xclz64(x($1), x($2)) }
        case .i64Ctz: try self.unary(.i64, .i64) { $0.xctz64(x($1), x($2)) }
        case .i64Popcnt: try self.unary(.i64, .i64) { $0.xpopcnt64(x($1), x($2)) }
        case .f32Abs: try self.unary(.f32, .f32) { $0.fabs32(f($1), f($2)) }
        case .f32Neg: try self.unary(.f32, .f32) { $0.fneg32(f($1), f($2)) }
        case .f32Ceil: try self.unary(.f32, .f32) { $0.fceil32(f($1), f($2)) }
        case .f32Floor: try self.unary(.f32, .f32) { $0.ffloor32(f($1), f($2)) }
        case .f32Trunc: try self.unary(.f32, .f32) { $0.ftrunc32(f($1), f($2)) }
        case .f32Nearest: try self.unary(.f32, .f32) { $0.fnearest32(f($1), f($2)) }
        case .f32Sqrt: try self.unary(.f32, .f32) { $0.fsqrt32(f($1), f($2)) }
        case .f64Abs: try self.unary(.f64, .f64) { $0.fabs64(f($1), f($2)) }
        case .f64Neg: try self.unary(.f64, .f64) { $0.fneg64(f($1), f($2)) }
        case .f64Ceil: try self.unary(.f64, .f64) { $0.fceil64(f($1), f($2)) }
        case .f64Floor: try self.unary(.f64, .f64) { $0.ffloor64(f($1), f($2)) }
        case .f64Trunc: try self.unary(.f64, .f64) { $0.ftrunc64(f($1), f($2)) }
        case .f64Nearest: try self.unary(.f64, .f64) { $0.fnearest64(f($1), f($2)) }
        case .f64Sqrt: try self.unary(.f64, .f64) { $0.fsqrt64(f($1), f($2)) }
        case .i32Extend8S: try self.unary(.i32, .i32) { $0.xsext832(x($1), x($2)) }
        case .i32Extend16S: try self.unary(.i32, .i32) { $0.xsext1632(x($1), x($2)) }
        case .i64Extend8S: try self.unary(.i64, .i64) { $0.xsext864(x($1), x($2)) }
        case .i64Extend16S: try self.unary(.i64, .i64) { $0.xsext1664(x($1), x($2)) }
        case .i64Extend32S: try self.unary(.i64, .i64) { $0.xsext3264(x($1), x($2)) }
        }
    }

    mutating func visitBinary(_ binary: Instruction.Binary) throws(CompileError) {
        typealias R = (inout Encoder, UInt16, UInt16, UInt16) -> Void
        typealias I = (inout Encoder, UInt16, UInt16, Int32) -> Void
        func shift(_ body: @escaping (inout Encoder, UInt16, UInt16, UInt8) -> Void) -> I {
            { body(&$0, $1, $2, UInt8(truncatingIfNeeded: $3)) }
        }
        let t: ValueType
        let reg: R
        var imm: I? = nil
        var imm64: ((inout Encoder, UInt16, UInt16, Int64) -> Void)? = nil
        elideLastWrap(binary)
        switch binary {
        case .i32Add:
            t = .i32
            reg = { $0.xadd32(x($1), x($2), x($3)) }
            imm = { $0.xadd32I32(x($1), x($2), $3) }
        case .i32Sub:
            t = .i32
            reg = { $0.xsub32(x($1), x($2), x($3)) }
            imm = { $0.xadd32I32(x($1), x($2), 0 &- $3) }
        case .i32Mul: t = .i32; reg = { $0.xmul32(x($1), x($2), x($3)) }; imm = { $0.xmul32I32(x($1), x($2), $3) }
        case .i32DivS: t = .i32; reg = { $0.xdiv32S(x($1), x($2), x($3)) }
        case .i32DivU: t = .i32; reg = { $0.xdiv32U(x($1), x($2), x($3)) }
        case .i32RemS: t = .i32; reg = { $0.xrem32S(x($1), x($2), x($3)) }
        case .i32RemU: t = .i32; reg = { $0.xrem32U(x($1), x($2), x($3)) }
        case .i32And: t = .i32; reg = { $0.xand32(x($1), x($2), x($3)) }; imm = { $0.xand32I32(x($1), x($2), $3) }
        case .i32Or: t = .i32; reg = { $0.xor32(x($1), x($2), x($3)) }; imm = { $0.xor32I32(x($1), x($2), $3) }
        case .i32Xor: t = .i32; reg = { $0.xxor32(x($1), x($2), x($3)) }; imm = { $0.xxor32I32(x($1), x($2), $3) }
        case .i32Shl: t = .i32; reg = { $0.xshl32(x($1), x($2), x($3)) }; imm = shift { $0.xshl32U8(x($1), x($2), $3) }
        case .i32ShrS: t = .i32; reg = { $0.xshr32S(x($1), x($2), x($3)) }; imm = shift { $0.xshr32SU8(x($1), x($2), $3) }
        case .i32ShrU: t = .i32; reg = { $0.xshr32U(x($1), x($2), x($3)) }; imm = shift { $0.xshr32UU8(x($1), x($2), $3) }
        case .i32Rotl: t = .i32; reg = { $0.xrotl32(x($1), x($2), x($3)) }
        case .i32Rotr: t = .i32; reg = { $0.xrotr32(x($1), x($2), x($3)) }
        case .i64Add:
            t = .i64
            reg = { $0.xadd64(x($1), x($2), x($3)) }
            imm = { $0.xadd64I32(x($1), x($2), $3) }
            imm64 = { $0.xadd64I64(x($1), x($2), $3) }
        case .i64Sub: t = .i64; reg = { $0.xsub64(x($1), x($2), x($3)) }  // no immediate form: -Int32.min does not fit
        case .i64Mul: t = .i64; reg = { $0.xmul64(x($1), x($2), x($3)) }; imm = { $0.xmul64I32(x($1), x($2), $3) }; imm64 = { $0.xmul64I64(x($1), x($2), $3) }
        case .i64DivS: t = .i64; reg = { $0.xdiv64S(x($1), x($2), x($3)) }
        case .i64DivU: t = .i64; reg = { $0.xdiv64U(x($1), x($2), x($3)) }
        case .i64RemS: t = .i64; reg = { $0.xrem64S(x($1), x($2), x($3)) }
        case .i64RemU: t = .i64; reg = { $0.xrem64U(x($1), x($2), x($3)) }
        case .i64And: t = .i64; reg = { $0.xand64(x($1), x($2), x($3)) }; imm = { $0.xand64I32(x($1), x($2), $3) }; imm64 = { $0.xand64I64(x($1), x($2), $3) }
        case .i64Or: t = .i64; reg = { $0.xor64(x($1), x($2), x($3)) }; imm = { $0.xor64I32(x($1), x($2), $3) }; imm64 = { $0.xor64I64(x($1), x($2), $3) }
        case .i64Xor: t = .i64; reg = { $0.xxor64(x($1), x($2), x($3)) }; imm = { $0.xxor64I32(x($1), x($2), $3) }; imm64 = { $0.xxor64I64(x($1), x($2), $3) }
        case .i64Shl: t = .i64; reg = { $0.xshl64(x($1), x($2), x($3)) }; imm = shift { $0.xshl64U8(x($1), x($2), $3) }
        case .i64ShrS: t = .i64; reg = { $0.xshr64S(x($1), x($2), x($3)) }; imm = shift { $0.xshr64SU8(x($1), x($2), $3) }
        case .i64ShrU: t = .i64; reg = { $0.xshr64U(x($1), x($2), x($3)) }; imm = shift { $0.xshr64UU8(x($1), x($2), $3) }
        case .i64Rotl: t = .i64; reg = { $0.xrotl64(x($1), x($2), x($3)) }
        case .i64Rotr: t = .i64; reg = { $0.xrotr64(x($1), x($2), x($3)) }
        case .f32Add: t = .f32; reg = { $0.fadd32(f($1), f($2), f($3)) }
        case .f32Sub: t = .f32; reg = { $0.fsub32(f($1), f($2), f($3)) }
        case .f32Mul: t = .f32; reg = { $0.fmul32(f($1), f($2), f($3)) }
        case .f32Div: t = .f32; reg = { $0.fdiv32(f($1), f($2), f($3)) }
        case .f32Min: t = .f32; reg = { $0.fmin32(f($1), f($2), f($3)) }
        case .f32Max: t = .f32; reg = { $0.fmax32(f($1), f($2), f($3)) }
        case .f32Copysign: t = .f32; reg = { $0.fcopysign32(f($1), f($2), f($3)) }
        case .f64Add: t = .f64; reg = { $0.fadd64(f($1), f($2), f($3)) }
        case .f64Sub: t = .f64; reg = { $0.fsub64(f($1), f($2), f($3)) }
        case .f64Mul: t = .f64; reg = { $0.fmul64(f($1), f($2), f($3)) }
        case .f64Div: t = .f64; reg = { $0.fdiv64(f($1), f($2), f($3)) }
        case .f64Min: t = .f64; reg = { $0.fmin64(f($1), f($2), f($3)) }
        case .f64Max: t = .f64; reg = { $0.fmax64(f($1), f($2), f($3)) }
        case .f64Copysign: t = .f64; reg = { $0.fcopysign64(f($1), f($2), f($3)) }
        }
        try self.binary(t, t, reg, imm: imm, imm64: imm64)
    }

    /// An i32 op (which reads the low 32 bits of its operands only) on the result of the
    /// `i32.wrap_i64` just staged reads the i64 itself: the wrap is dropped (an index
    /// kept in an i64 and wrapped for an address, as sieve's `j`). Only when the i64 is
    /// in a local, or in the slot the wrap wrote; the entry is the op's to consume.
    mutating func elideLastWrap(_ binary: Instruction.Binary) {
        switch binary {
        case .i32Add, .i32Sub, .i32Mul, .i32And, .i32Or, .i32Xor, .i32Shl, .i32ShrS, .i32ShrU, .i32Rotl, .i32Rotr: break
        default: return
        }
        guard isReachable, stack.count >= 2 + frameHeight, let wrap = e.lastStaged,
              wrap.row == UInt16(Opcode.xzext3264.rawValue), let written = wrap.destination else { return }
        let n = stack.count
        for i in [n - 1, n - 2] where stack[i].location == .slot && slot(i) == written {
            let source = UInt16(truncatingIfNeeded: wrap[1])
            if source != written {
                guard Int(source) < base else { return }
                stack[i].location = .local(source)
            }
            e.dropLastStaged()
            return
        }
    }

    mutating func visitConversion(_ conversion: Instruction.Conversion) throws(CompileError) {
        switch conversion {
        case .i32TruncSatF32S, .i32TruncSatF32U, .i32TruncSatF64S, .i32TruncSatF64U,
             .i64TruncSatF32S, .i64TruncSatF32U, .i64TruncSatF64S, .i64TruncSatF64U:
            try require(.nonTrappingFloatToInt, "\(conversion)")
        default: break
        }
        switch conversion {
        // Changes of type alone: an i32 is kept zero-extended and an f32 in the
        // low 32 bits, so these leave the bits where they are.
        case .i64ExtendI32U: try retype(.i32, .i64)
        case .i32ReinterpretF32: try retype(.f32, .i32)
        case .f32ReinterpretI32: try retype(.i32, .f32)
        case .i64ReinterpretF64: try retype(.f64, .i64)
        case .f64ReinterpretI64: try retype(.i64, .f64)
        case .i32WrapI64: try unary(.i64, .i32) { $0.xzext3264(x($1), x($2)) }
        case .i64ExtendI32S: try unary(.i32, .i64) { $0.xsext3264(x($1), x($2)) }
        case .i32TruncF32S: try unary(.f32, .i32) { $0.x32FromF32S(x($1), f($2)) }
        case .i32TruncF32U: try unary(.f32, .i32) { $0.x32FromF32U(x($1), f($2)) }
        case .i32TruncF64S: try unary(.f64, .i32) { $0.x32FromF64S(x($1), f($2)) }
        case .i32TruncF64U: try unary(.f64, .i32) { $0.x32FromF64U(x($1), f($2)) }
        case .i64TruncF32S: try unary(.f32, .i64) { $0.x64FromF32S(x($1), f($2)) }
        case .i64TruncF32U: try unary(.f32, .i64) { $0.x64FromF32U(x($1), f($2)) }
        case .i64TruncF64S: try unary(.f64, .i64) { $0.x64FromF64S(x($1), f($2)) }
        case .i64TruncF64U: try unary(.f64, .i64) { $0.x64FromF64U(x($1), f($2)) }
        case .i32TruncSatF32S: try unary(.f32, .i32) { $0.x32FromF32SSat(x($1), f($2)) }
        case .i32TruncSatF32U: try unary(.f32, .i32) { $0.x32FromF32USat(x($1), f($2)) }
        case .i32TruncSatF64S: try unary(.f64, .i32) { $0.x32FromF64SSat(x($1), f($2)) }
        case .i32TruncSatF64U: try unary(.f64, .i32) { $0.x32FromF64USat(x($1), f($2)) }
        case .i64TruncSatF32S: try unary(.f32, .i64) { $0.x64FromF32SSat(x($1), f($2)) }
        case .i64TruncSatF32U: try unary(.f32, .i64) { $0.x64FromF32USat(x($1), f($2)) }
        case .i64TruncSatF64S: try unary(.f64, .i64) { $0.x64FromF64SSat(x($1), f($2)) }
        case .i64TruncSatF64U: try unary(.f64, .i64) { $0.x64FromF64USat(x($1), f($2)) }
        case .f32ConvertI32S: try unary(.i32, .f32) { $0.f32FromX32S(f($1), x($2)) }
        case .f32ConvertI32U: try unary(.i32, .f32) { $0.f32FromX32U(f($1), x($2)) }
        case .f32ConvertI64S: try unary(.i64, .f32) { $0.f32FromX64S(f($1), x($2)) }
        case .f32ConvertI64U: try unary(.i64, .f32) { $0.f32FromX64U(f($1), x($2)) }
        case .f64ConvertI32S: try unary(.i32, .f64) { $0.f64FromX32S(f($1), x($2)) }
        case .f64ConvertI32U: try unary(.i32, .f64) { $0.f64FromX32U(f($1), x($2)) }
        case .f64ConvertI64S: try unary(.i64, .f64) { $0.f64FromX64S(f($1), x($2)) }
        case .f64ConvertI64U: try unary(.i64, .f64) { $0.f64FromX64U(f($1), x($2)) }
        case .f32DemoteF64: try unary(.f64, .f32) { $0.f32FromF64(f($1), f($2)) }
        case .f64PromoteF32: try unary(.f32, .f64) { $0.f64FromF32(f($1), f($2)) }
        }
    }
}
