import SheaveBytecode
import SheaveInterpreter
import SheaveTestSupport
import XCTest

/// The accumulators (docs/design.md): in the tail loop's code image, an op that
/// reads the register the op before it wrote gets a form of its handler that
/// takes that operand from the host register the op before left it in. The match
/// loop reads every operand from its slot, so the two loops must agree on any
/// program; a wrong "writes the accumulator" fact, a form reading the wrong
/// operand, or a form installed at a branch target makes them differ.
final class AccumulatorTests: XCTestCase {
    /// Random straight-line chains over four x and four f registers, so that ops
    /// read what the op just before wrote in every operand position (and in
    /// several at once), inside a loop entered at a branch target, with joins
    /// (if/else, `br_table32`) and inner loops among them.
    func testRandomChainsAgreeWithTheMatchLoop() throws {
        guard DispatchMode.tailLoopIsSafe else {
            throw XCTSkip("accumulator forms exist only in the tail loop: run swift test -c release")
        }
        var random = SplitMix64(seed: 0xACC0_0001)
        var formsSeen = 0
        for round in 0..<400 {
            var e = Encoder()
            Self.chain(&e, &random)
            let bytes = try e.finish()
            let code = CodeImage(bytes)
            var arguments = (0..<4).map { _ in random.next() & (random.next() % 2 == 0 ? 0xFFFF : .max) }
            arguments += (0..<4).map { _ in UInt64(f64: Double(Int64(bitPattern: random.next()) % 1_000_000) / 64) }
            arguments += [0, 0]
            arguments += (0..<4).map { _ in UInt64(f32: Float(Int64(bitPattern: random.next()) % 1_000_000) / 64) }
            let match = Self.sameNaNs(call(code, arguments, results: 14, mode: .match, memory: LinearMemory(pages: 1)))
            let tail = Self.sameNaNs(call(code, arguments, results: 14, mode: .tail, memory: LinearMemory(pages: 1)))
            XCTAssertEqual(tail, match, "round \(round):\n\(Disassembler.disassemble(bytes, options: .init(bytes: false)))")
            if case .values = match { formsSeen += 1 }
        }
        XCTAssertGreaterThan(formsSeen, 300, "most rounds should run to the end, not trap")
    }

    /// Every NaN in an f register as one: an arithmetic NaN's sign and payload are
    /// not fixed by Wasm, and LLVM orders a commutative op's operands as it likes
    /// (x86 keeps the first operand's NaN), differently in different handlers.
    static func sameNaNs(_ outcome: Outcome) -> Outcome {
        guard case .values(var values) = outcome else { return outcome }
        for i in 4..<8 where Double(bitPattern: values[i]).isNaN { values[i] = 0x7FF8_0000_0000_0000 }
        for i in 10..<14 where Float(bitPattern: UInt32(truncatingIfNeeded: values[i])).isNaN { values[i] = 0x7FC0_0000 }
        return .values(values)
    }

    /// x0-x3, f4-f7 (f64) and f10-f13 (f32) hold the arguments; x8 counts the loop
    /// down, x14 the inner loops, x9 is zero (the base of every memory access, so none traps). Floats
    /// are stored from byte 1024 on and integers below 384, and f32 and f64 values
    /// keep to their registers, so no NaN reaches an x register or an op of the
    /// other width.
    static func chain(_ e: inout Encoder, _ generator: inout SplitMix64) {
        var random = generator
        defer { generator = random }
        func x() -> XReg { XReg(UInt16(random.next() % 4)) }
        func f() -> FReg { FReg(UInt16(4 + random.next() % 4)) }
        func small() -> Int32 { Int32(truncatingIfNeeded: random.next() % 64) - 16 }
        func offset() -> UInt32 { UInt32(random.next() % 16) * 8 }
        func fOffset() -> UInt32 { 1024 + UInt32(random.next() % 16) * 8 }
        func s() -> FReg { FReg(UInt16(10 + random.next() % 4)) }
        func u8() -> UInt8 { UInt8(random.next() % 70) }
        let zero = XReg(9), counter = XReg(8)
        let ops: [(inout Encoder) -> Void] = [
            { $0.xadd32(x(), x(), x()) }, { $0.xsub32(x(), x(), x()) }, { $0.xmul32(x(), x(), x()) },
            { $0.xand32(x(), x(), x()) }, { $0.xor32(x(), x(), x()) }, { $0.xxor32(x(), x(), x()) },
            { $0.xshl32(x(), x(), x()) }, { $0.xshr32U(x(), x(), x()) }, { $0.xshr32S(x(), x(), x()) },
            { $0.xrotl32(x(), x(), x()) }, { $0.xadd64(x(), x(), x()) }, { $0.xsub64(x(), x(), x()) },
            { $0.xmul64(x(), x(), x()) }, { $0.xxor64(x(), x(), x()) }, { $0.xshl64(x(), x(), x()) },
            { $0.xadd32I32(x(), x(), small()) }, { $0.xadd64I32(x(), x(), small()) }, { $0.xand32I32(x(), x(), small()) },
            { $0.xmul32I32(x(), x(), small()) }, { $0.xshl32U8(x(), x(), u8()) }, { $0.xshr32UU8(x(), x(), u8()) },
            { $0.xeqz32(x(), x()) }, { $0.xslt32(x(), x(), x()) }, { $0.xselect(x(), x(), x(), x()) },
            { $0.xmov(x(), x()) }, { $0.xconst32(x(), small()) }, { $0.xclz32(x(), x()) }, { $0.xsext832(x(), x()) },
            { $0.xzext3264(x(), x()) }, { $0.xadd32Shl(x(), x(), x(), u8()) }, { $0.xxor64Shl(x(), x(), x(), u8()) },
            { $0.xshr32UAnd(x(), x(), u8(), small()) }, { $0.xmul32AddI32(x(), x(), small(), small()) },
            { $0.xload32(x(), zero, offset()) }, { $0.xload8U32(x(), zero, offset()) }, { $0.xload16S32(x(), zero, offset()) },
            { $0.xload64(x(), zero, offset()) }, { $0.xload32U64(x(), zero, offset()) },
            { $0.xstore32(zero, offset(), x()) }, { $0.xstore64(zero, offset(), x()) }, { $0.xstore8(zero, offset(), x()) },
            // An address computed by the op before: the load's form takes it from the accumulator.
            { e in let a = x(); e.xand32I32(a, x(), 0x78); e.xload64(x(), a, offset()) },
            { e in let a = x(); e.xand32I32(a, x(), 0x78); e.xstore64(a, offset(), x()) },
            // Ops that write a register, then read another to branch: a form must read the
            // accumulator as it came in, not the value the op just wrote. (Each branches
            // over an add, to a branch target.)
            { e in let l = e.makeLabel(); e.brXmovIfXnez32(x(), x(), x(), l); e.xadd32I32(XReg(3), XReg(3), 7); e.bind(l) },
            { e in let l = e.makeLabel(); e.brXadd64I32Ne(x(), x(), small(), x(), l); e.xadd32I32(XReg(3), XReg(3), 7); e.bind(l) },
            { e in let l = e.makeLabel(); e.brXand32I32EqI32(x(), x(), 3, 1, l); e.xadd32I32(XReg(3), XReg(3), 7); e.bind(l) },
            // A loaded value used as an address a few ops later (a pointer chase): the
            // ops between keep it in the accumulator.
            { e in let p = x(); e.xload8U32(p, zero, offset()); e.xadd32(x(), x(), x()); e.xload64(x(), p, offset()) },
            { e in let p = x(); e.xload8U32(p, zero, offset()); e.xadd64(x(), x(), x()); e.xstore32(zero, offset(), x()); e.xload32(x(), p, offset()) },
            // Session 7's fusions: a select on a bit, three-term sums, a load and a store
            // to one address, a load through a pointer just stored (masked in bounds), a
            // byte store that steps its pointer, the move-load-store of a list reversal, a move
            // and a jump.
            { $0.xselectAndI32(x(), x(), small(), x(), x()) }, { $0.xmul32Add(x(), x(), x(), x()) }, { $0.xadd32Add(x(), x(), x(), x()) },
            { $0.xmul32AddAdd(x(), x(), x(), x(), x()) }, { $0.xselectAndXorI32(x(), x(), small(), small(), x()) },
            { $0.xload32Xchg(x(), zero, offset(), x()) },
            { e in let p = x(), at = offset(); e.xand32I32(p, x(), 0x78); e.xstore32(zero, at, p); e.xload16U32Via(x(), zero, at, offset()) },
            { e in let p = x(), at = offset(); e.xand32I32(p, x(), 0x78); e.xstore32(zero, at, p); e.xload8U32Via(x(), zero, at, offset()) },
            { e in let p = x(); e.xand32I32(p, x(), 0x78); e.xstore8I32Step(p, offset(), small(), x()) },
            { e in let p = x(); e.xand32I32(p, x(), 0x78); e.xmovXload32Xchg(x(), x(), p, offset(), x()) },
            { e in let l = e.makeLabel(); e.brXmov(x(), x(), l); e.xadd32I32(XReg(3), XReg(3), 7); e.bind(l) },
            { $0.fadd64(f(), f(), f()) }, { $0.fsub64(f(), f(), f()) }, { $0.fmul64(f(), f(), f()) },
            { $0.fdiv64(f(), f(), f()) }, { $0.fmin64(f(), f(), f()) }, { $0.fmax64(f(), f(), f()) },
            { $0.fsqrt64(f(), f()) }, { $0.fceil64(f(), f()) }, { $0.fabs64(f(), f()) }, { $0.fmov(f(), f()) },
            { $0.fmul64Add(f(), f(), f(), f()) }, { $0.fmul64Rsub(f(), f(), f(), f()) }, { $0.fmul64Mul(f(), f(), f(), f()) },
            { $0.fload64(f(), zero, fOffset()) }, { $0.fstore64(zero, fOffset(), f()) },
            { $0.fadd64Store(f(), f(), f(), zero, fOffset()) }, { $0.fsub64Store(f(), f(), f(), zero, fOffset()) },
            { $0.f64FromX32S(f(), x()) }, { $0.flt64(x(), f(), f()) }, { $0.x32FromF64SSat(x(), f()) },
            { $0.fconst64(f(), UInt64(f64: 1.5)) },
            { $0.fadd32(s(), s(), s()) }, { $0.fsub32(s(), s(), s()) }, { $0.fmul32(s(), s(), s()) },
            { $0.fdiv32(s(), s(), s()) }, { $0.fsqrt32(s(), s()) }, { $0.fmin32(s(), s(), s()) },
            { $0.fmul32Add(s(), s(), s(), s()) }, { $0.fmul32Sub(s(), s(), s(), s()) },
            { $0.fload32(s(), zero, fOffset() + 128) }, { $0.fstore32(zero, fOffset() + 128, s()) },
            { $0.f32FromF64(s(), f()) }, { $0.f64FromF32(f(), s()) }, { $0.f32FromX32S(s(), x()) },
        ]
        // Shapes with joins: where ways in leave different registers in the
        // accumulators, an op there must read its slots; where a loop's branch back
        // and its way in agree, it may read the register.
        func op(_ e: inout Encoder) { ops[Int(random.next() % UInt64(ops.count))](&e) }
        let inner = XReg(14)
        let shapes: [(inout Encoder) -> Void] = [
            // if/else: a conditional branch, a jump over the other arm, a join.
            { e in
                let other = e.makeLabel(), end = e.makeLabel()
                e.brIfXnez32(x(), other); op(&e); e.jump(end)
                e.bind(other); op(&e); e.bind(end)
            },
            // if/else whose first arm sets a register as it jumps to the join.
            { e in
                let other = e.makeLabel(), end = e.makeLabel()
                e.brIfXnez32(x(), other); op(&e); e.brXconst32(x(), small(), end)
                e.bind(other); op(&e); e.bind(end)
            },
            // br_table32 to two arms (and the second as default).
            { e in
                let first = e.makeLabel(), second = e.makeLabel(), end = e.makeLabel()
                e.brTable32(x(), [first, second]); e.bind(first); op(&e); e.jump(end)
                e.bind(second); op(&e); e.bind(end)
            },
            // A branch that writes a register: its way to the target leaves that
            // register in the accumulator, the way through leaves `r`; the op at the
            // join reads `r`.
            { e in
                let r = x(), d = x(), join = e.makeLabel()
                e.xadd32I32(r, r, 1); e.brXadd64I32Ne(d, x(), small(), x(), join); e.xadd32I32(r, d, 7)
                e.bind(join); e.xadd32(x(), r, x())
            },
            // An inner loop, twice round.
            { e in
                let head = e.makeLabel()
                e.xconst32(inner, 2); e.bind(head); op(&e); op(&e)
                e.xadd32I32(inner, inner, -1); e.brIfXnez32(inner, head)
            },
            // A loop entered at its test, by a jump: its head has only the branch back.
            { e in
                let body = e.makeLabel(), test = e.makeLabel()
                e.xconst32(inner, 2); e.jump(test); e.bind(body); op(&e); op(&e)
                e.xadd32I32(inner, inner, -1); e.bind(test); e.brXadd32I32Nez(inner, inner, 0, body)
            },
        ]
        e.pushFrame(16)
        e.xconst32(zero, 0)
        e.xconst32(counter, 3)
        // The loop's first op reads the register the op before the loop wrote: on the
        // first pass that value is also in the accumulator, on later passes it is not.
        e.xmov(XReg(0), XReg(1))
        let loop = e.makeLabel()
        e.bind(loop)
        e.xadd32(XReg(0), XReg(0), XReg(2))
        for _ in 0..<32 {
            if random.next() % 8 == 0 { shapes[Int(random.next() % UInt64(shapes.count))](&e) } else { op(&e) }
        }
        e.xadd32I32(counter, counter, -1)
        e.brIfXnez32(counter, loop)
        e.ret()
    }
}
