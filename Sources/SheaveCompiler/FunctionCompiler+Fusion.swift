import SheaveBytecode
import WasmParser
import WasmTypes

// Compare-and-branch fusion: an integer comparison whose only use is the
// condition of the `br_if` or `if` right after it becomes one `br_if_x<cmp>`
// op; the comparison op is taken back out of the bytecode.

/// An integer comparison, as a branch condition.
struct Condition {
    enum Relation {
        case eq, ne, lts, les, gts, ges, ltu, leu, gtu, geu

        /// The relation with its operands swapped: `a < b` is `b > a`.
        var mirrored: Relation {
            switch self {
            case .eq, .ne: return self
            case .lts: return .gts
            case .les: return .ges
            case .gts: return .lts
            case .ges: return .les
            case .ltu: return .gtu
            case .leu: return .geu
            case .gtu: return .ltu
            case .geu: return .leu
            }
        }

        var negated: Relation {
            switch self {
            case .eq: return .ne
            case .ne: return .eq
            case .lts: return .ges
            case .les: return .gts
            case .gts: return .les
            case .ges: return .lts
            case .ltu: return .geu
            case .leu: return .gtu
            case .gtu: return .leu
            case .geu: return .ltu
            }
        }
    }

    enum Right {
        case register(UInt16)
        case immediate(Int32)
        /// `eqz`: compared with zero.
        case zero
    }

    var relation: Relation
    var is64: Bool
    var left: UInt16
    var right: Right

    var negated: Condition {
        var copy = self
        copy.relation = relation.negated
        return copy
    }
}

/// What a `br_if` or `if` branches on: a comparison fused into the branch, or an i32 register.
enum BranchCondition {
    case fused(Condition)
    case register(UInt16)
}

extension FunctionCompiler {
    /// The i32 condition on top of the (reachable) stack, fused with the comparison
    /// that produced it when possible. The entry stays on the stack.
    mutating func takeBranchCondition() -> BranchCondition {
        if let fused = takeFusableCondition() { return .fused(fused) }
        return .register(register(stack.count - 1))
    }

    /// Emits a branch to `label`, taken when `condition` is true (or false, with `whenTrue` false).
    mutating func emitBranch(on condition: BranchCondition, whenTrue: Bool, to label: Label) {
        switch condition {
        case .fused(let c): emitBranch(if: whenTrue ? c : c.negated, to: label)
        case .register(let r):
            // An i32 tested against zero: the fusions with the op just emitted apply as to any condition.
            emitBranch(if: Condition(relation: whenTrue ? .ne : .eq, is64: false, left: r, right: .zero), to: label)
        }
    }

    /// The comparison just emitted, if it produced the condition on top of the
    /// stack and nothing was emitted or bound since: removes it from the bytecode
    /// and returns it, for the branch to test directly.
    mutating func takeFusableCondition() -> Condition? {
        guard let (start, end, slot, condition) = lastComparison, e.position == end,
              let top = stack.last, top.location == .slot, Int(self.slot(stack.count - 1)) == slot else { return nil }
        retract(to: start)
        return condition
    }

    /// Takes the last op (and any constant materialized for it) back out of the
    /// bytecode, for a fused op to replace: what was remembered about the ops
    /// emitted no longer holds.
    mutating func retract(to start: Int) {
        lastComparison = nil
        lastShift = nil
        lastAdd = nil
        lastMultiply = nil
        lastProduct = nil
        lastDestination = nil
        // Taking back ops after an add, a move or a bit test leaves it the last op again.
        if let step = lastStep, start < step.end { lastStep = nil }
        if let move = lastMove, start < move.end { lastMove = nil }
        if let test = lastBitTest, start < test.end { lastBitTest = nil }
        if let load = lastLoad, start < load.end { lastLoad = nil }
        if let sum = lastFloatSum, start < sum.end { lastFloatSum = nil }
        if let constant = lastConst, start < constant.end { lastConst = nil }
        if let store = lastByteStore, start < store.end { lastByteStore = nil }
        if let wrap = lastWrap, start < wrap.end { lastWrap = nil }
        if let xor = lastXorConstant, start < xor.end { lastXorConstant = nil }
        e.truncate(to: start)
    }

    /// Emits a jump to `label`; an `xconst32` or `xmov` right before it (nothing
    /// emitted or bound since) is taken into a `br_xconst32` or `br_xmov`.
    mutating func emitJump(to label: Label) {
        if let constant = lastConst, e.position == constant.end {
            let (dst, imm) = (e.register(at: constant.start + 1), e.int32(at: constant.start + 3))
            retract(to: constant.start)
            emit { $0.brXconst32(XReg(dst), imm, label) }
        } else if let move = lastMove, e.position == move.end {
            let (dst, src) = (XReg(move.dst), XReg(move.src))
            retract(to: move.start)
            emit { $0.brXmov(dst, src, label) }
        } else {
            emit { $0.jump(label) }
        }
    }

    /// A branch on the result of the add just emitted: takes the add back and emits
    /// one op that adds and branches. Returns false, having emitted nothing, when the
    /// add is not right before, the condition does not test its destination, or no
    /// fused op has the condition.
    mutating func fuseWithLastStep(_ condition: Condition, to label: Label) -> Bool {
        guard let step = lastStep, e.position == step.end, step.is64 == condition.is64 else { return false }
        let dst = e.register(at: step.start + 1)
        var condition = condition
        if condition.left != dst, case .register(let right) = condition.right, right == dst {
            // `n != i` as `i != n`, `n > i` as `i < n`
            condition = Condition(relation: condition.relation.mirrored, is64: condition.is64, left: dst, right: .register(condition.left))
        }
        guard condition.left == dst else { return false }
        let (d, a) = (XReg(dst), XReg(step.a))
        typealias Emit = (inout Encoder) -> Void
        let fused: Emit?
        switch (step.b, condition.relation, condition.right, condition.is64) {
        case (.immediate(let i), .ne, .zero, false): fused = { $0.brXadd32I32Nez(d, a, i, label) }
        case (.immediate(let i), .ne, .register(let c), false): fused = { $0.brXadd32I32Ne(d, a, i, XReg(c), label) }
        case (.immediate(let i), .ne, .immediate(let l), false): fused = { $0.brXadd32I32NeI32(d, a, i, l, label) }
        case (.immediate(let i), .lts, .register(let c), false): fused = { $0.brXadd32I32Slt(d, a, i, XReg(c), label) }
        case (.immediate(let i), .ltu, .register(let c), false): fused = { $0.brXadd32I32Ult(d, a, i, XReg(c), label) }
        case (.register(let b), .ne, .zero, false): fused = { $0.brXadd32Nez(d, a, XReg(b), label) }
        case (.register(let b), .ne, .register(let c), false): fused = { $0.brXadd32Ne(d, a, XReg(b), XReg(c), label) }
        case (.register(let b), .ne, .immediate(let l), false): fused = { $0.brXadd32NeI32(d, a, XReg(b), l, label) }
        case (.register(let b), .lts, .register(let c), false): fused = { $0.brXadd32Slt(d, a, XReg(b), XReg(c), label) }
        case (.register(let b), .ltu, .register(let c), false): fused = { $0.brXadd32Ult(d, a, XReg(b), XReg(c), label) }
        case (.immediate(let i), .ne, .zero, true): fused = { $0.brXadd64I32Nez(d, a, i, label) }
        case (.immediate(let i), .ne, .register(let c), true): fused = { $0.brXadd64I32Ne(d, a, i, XReg(c), label) }
        case (.immediate(let i), .ne, .immediate(let l), true): fused = { $0.brXadd64I32NeI32(d, a, i, l, label) }
        case (.immediate(let i), .lts, .register(let c), true): fused = { $0.brXadd64I32Slt(d, a, i, XReg(c), label) }
        case (.immediate(let i), .ltu, .register(let c), true): fused = { $0.brXadd64I32Ult(d, a, i, XReg(c), label) }
        case (.register(let b), .ne, .zero, true): fused = { $0.brXadd64Nez(d, a, XReg(b), label) }
        case (.register(let b), .ne, .register(let c), true): fused = { $0.brXadd64Ne(d, a, XReg(b), XReg(c), label) }
        case (.register(let b), .ne, .immediate(let l), true): fused = { $0.brXadd64NeI32(d, a, XReg(b), l, label) }
        case (.register(let b), .lts, .register(let c), true): fused = { $0.brXadd64Slt(d, a, XReg(b), XReg(c), label) }
        case (.register(let b), .ltu, .register(let c), true): fused = { $0.brXadd64Ult(d, a, XReg(b), XReg(c), label) }
        default: fused = nil
        }
        guard let fused else { return false }
        retract(to: step.start)
        emit(fused)
        return true
    }

    /// An `i32.add` to local `l` of `l` and another register, set into `l` right after
    /// an `xstore8_i32` through `l` (a pointer stepped after a store through it): takes
    /// both back and emits one `xstore8_i32_step`, which stores, then steps.
    mutating func fuseStoreWithStep(of l: UInt16) {
        guard let store = lastByteStore, let step = lastStep, store.end == step.start, e.position == step.end, !step.is64,
              e.bytes[store.start] == Opcode.xstore8I32.rawValue, e.register(at: store.start + 1) == l,
              e.register(at: step.start + 1) == l, case .register(let b) = step.b else { return }
        let by: UInt16
        if step.a == l { by = b } else if b == l { by = step.a } else { return }
        let offset = UInt32(bitPattern: e.int32(at: store.start + 3)), imm = e.int32(at: store.start + 7)
        retract(to: store.start)
        emit { $0.xstore8I32Step(XReg(l), offset, imm, XReg(by)) }
    }

    /// A branch right after a move (`xmov`): one op that moves, then branches.
    /// Measured on CoreMark's pairs: `xmov → br_if_xnez32` and `→ br_if_xne32_i32`.
    mutating func fuseWithLastMove(_ condition: Condition, to label: Label) -> Bool {
        guard let move = lastMove, e.position == move.end, !condition.is64, condition.relation == .ne else { return false }
        let (d, s, a) = (XReg(move.dst), XReg(move.src), XReg(condition.left))
        switch condition.right {
        case .zero:
            retract(to: move.start)
            emit { $0.brXmovIfXnez32(d, s, a, label) }
        case .immediate(let imm):
            retract(to: move.start)
            emit { $0.brXmovIfXne32I32(d, s, a, imm, label) }
        case .register:
            return false
        }
        return true
    }

    /// A compare-with-constant and branch on the result of the `xand32_i32` just
    /// emitted (a bit test, a character class): one op that masks, keeps the
    /// result, then branches.
    mutating func fuseWithLastBitTest(_ condition: Condition, to label: Label) -> Bool {
        guard let test = lastBitTest, e.position == test.end, !condition.is64 else { return false }
        let imm: Int32
        switch condition.right {
        case .immediate(let value): imm = value
        case .zero: imm = 0  // `if (x & 3)`: a test against zero is one against the constant 0
        case .register: return false
        }
        let dst = e.register(at: test.start + 1)  // a `local.set` may have retargeted it
        guard condition.left == dst else { return false }
        let (d, s, mask) = (XReg(dst), XReg(test.src), test.mask)
        typealias Emit = (inout Encoder) -> Void
        let fused: Emit
        switch condition.relation {
        case .eq: fused = { $0.brXand32I32EqI32(d, s, mask, imm, label) }
        case .ne: fused = { $0.brXand32I32NeI32(d, s, mask, imm, label) }
        case .ltu: fused = { $0.brXand32I32UltI32(d, s, mask, imm, label) }
        case .leu: fused = { $0.brXand32I32UleI32(d, s, mask, imm, label) }
        default: return false
        }
        retract(to: test.start)
        emit(fused)
        return true
    }

    /// A branch on whether the `xload32` or `xload8_u32` just emitted read zero: one
    /// op that loads, keeps the value, then branches.
    mutating func fuseWithLastLoad(_ condition: Condition, to label: Label) -> Bool {
        guard let load = lastLoad, e.position == load.end, !condition.is64, case .zero = condition.right,
              condition.relation == .ne || condition.relation == .eq else { return false }
        let dst = e.register(at: load.start + 1)  // a `local.set` may have retargeted it
        guard condition.left == dst else { return false }
        let (d, a, offset) = (XReg(dst), XReg(load.addr), load.offset)
        retract(to: load.start)
        switch (load.byte, condition.relation == .ne) {
        case (false, true): emit { $0.brXload32IfXnez32(d, a, offset, label) }
        case (false, false): emit { $0.brXload32IfXeqz32(d, a, offset, label) }
        case (true, true): emit { $0.brXload8U32IfXnez32(d, a, offset, label) }
        case (true, false): emit { $0.brXload8U32IfXeqz32(d, a, offset, label) }
        }
        return true
    }

    /// Emits a branch to `label` taken when `condition` holds.
    mutating func emitBranch(if condition: Condition, to label: Label) {
        if fuseWithLastStep(condition, to: label) { return }
        if fuseWithLastMove(condition, to: label) { return }
        if fuseWithLastBitTest(condition, to: label) { return }
        if fuseWithLastLoad(condition, to: label) { return }
        let a = XReg(condition.left)
        switch condition.right {
        case .zero:
            switch (condition.relation, condition.is64) {
            case (.eq, false): emit { $0.brIfXeqz32(a, label) }
            case (.eq, true): emit { $0.brIfXeqz64(a, label) }
            case (_, false): emit { $0.brIfXnez32(a, label) }
            case (_, true): emit { $0.brIfXnez64(a, label) }
            }
        case .register(let r):
            let b = XReg(r)
            switch (condition.relation, condition.is64) {
            case (.eq, false): emit { $0.brIfXeq32(a, b, label) }
            case (.ne, false): emit { $0.brIfXne32(a, b, label) }
            case (.lts, false): emit { $0.brIfXslt32(a, b, label) }
            case (.les, false): emit { $0.brIfXsle32(a, b, label) }
            case (.gts, false): emit { $0.brIfXslt32(b, a, label) }
            case (.ges, false): emit { $0.brIfXsle32(b, a, label) }
            case (.ltu, false): emit { $0.brIfXult32(a, b, label) }
            case (.leu, false): emit { $0.brIfXule32(a, b, label) }
            case (.gtu, false): emit { $0.brIfXult32(b, a, label) }
            case (.geu, false): emit { $0.brIfXule32(b, a, label) }
            case (.eq, true): emit { $0.brIfXeq64(a, b, label) }
            case (.ne, true): emit { $0.brIfXne64(a, b, label) }
            case (.lts, true): emit { $0.brIfXslt64(a, b, label) }
            case (.les, true): emit { $0.brIfXsle64(a, b, label) }
            case (.gts, true): emit { $0.brIfXslt64(b, a, label) }
            case (.ges, true): emit { $0.brIfXsle64(b, a, label) }
            case (.ltu, true): emit { $0.brIfXult64(a, b, label) }
            case (.leu, true): emit { $0.brIfXule64(a, b, label) }
            case (.gtu, true): emit { $0.brIfXult64(b, a, label) }
            case (.geu, true): emit { $0.brIfXule64(b, a, label) }
            }
        case .immediate(let imm):
            switch (condition.relation, condition.is64) {
            case (.eq, false): emit { $0.brIfXeq32I32(a, imm, label) }
            case (.ne, false): emit { $0.brIfXne32I32(a, imm, label) }
            case (.lts, false): emit { $0.brIfXslt32I32(a, imm, label) }
            case (.les, false): emit { $0.brIfXsle32I32(a, imm, label) }
            case (.gts, false): emit { $0.brIfXsgt32I32(a, imm, label) }
            case (.ges, false): emit { $0.brIfXsge32I32(a, imm, label) }
            case (.ltu, false): emit { $0.brIfXult32I32(a, imm, label) }
            case (.leu, false): emit { $0.brIfXule32I32(a, imm, label) }
            case (.gtu, false): emit { $0.brIfXugt32I32(a, imm, label) }
            case (.geu, false): emit { $0.brIfXuge32I32(a, imm, label) }
            case (.eq, true): emit { $0.brIfXeq64I32(a, imm, label) }
            case (.ne, true): emit { $0.brIfXne64I32(a, imm, label) }
            case (.lts, true): emit { $0.brIfXslt64I32(a, imm, label) }
            case (.les, true): emit { $0.brIfXsle64I32(a, imm, label) }
            case (.gts, true): emit { $0.brIfXsgt64I32(a, imm, label) }
            case (.ges, true): emit { $0.brIfXsge64I32(a, imm, label) }
            case (.ltu, true): emit { $0.brIfXult64I32(a, imm, label) }
            case (.leu, true): emit { $0.brIfXule64I32(a, imm, label) }
            case (.gtu, true): emit { $0.brIfXugt64I32(a, imm, label) }
            case (.geu, true): emit { $0.brIfXuge64I32(a, imm, label) }
            }
        }
    }

    /// An integer comparison (or eqz): emitted as a compare op, remembered so that a
    /// `br_if` or `if` right after it can take it back and branch on it directly.
    mutating func compare(_ relation: Condition.Relation, is64: Bool, zero: Bool = false,
                          emitRegister: @escaping (inout Encoder, UInt16, UInt16, UInt16) -> Void,
                          emitImmediate: ((inout Encoder, UInt16, UInt16, Int32) -> Void)?) throws(CompileError) {
        let t: ValueType = is64 ? .i64 : .i32
        let start = e.position
        var condition: Condition?
        try op(zero ? [t] : [t, t], .i32) { (c: inout FunctionCompiler, dst, first) throws(CompileError) in
            let a = c.register(first)
            if zero {
                c.emitWithDestination(dst) { emitRegister(&$0, dst, a, 0) }
                condition = Condition(relation: relation, is64: is64, left: a, right: .zero)
            } else if let emitImmediate, case .const(let bits) = c.stack[first + 1].location, let value = c.immediate(bits, t) {
                c.emitWithDestination(dst) { emitImmediate(&$0, dst, a, value) }
                condition = Condition(relation: relation, is64: is64, left: a, right: .immediate(value))
            } else {
                let b = c.register(first + 1)
                c.emitWithDestination(dst) { emitRegister(&$0, dst, a, b) }
                condition = Condition(relation: relation, is64: is64, left: a, right: .register(b))
            }
        }
        if let condition, isReachable {
            // Constants materialized for the operands come first; the comparison is the last op.
            let end = e.position
            lastComparison = (start: lastOpStart(from: start, to: end), end: end, slot: Int(slot(stack.count - 1)), condition: condition)
        }
    }

    /// The first byte of the last op written between `start` and `end`: the
    /// comparison itself, after any constant materialized for its operands.
    func lastOpStart(from start: Int, to end: Int) -> Int {
        var position = start
        var last = start
        while position < end {
            last = position
            guard let size = opSize(at: position) else { return start }
            position += size
        }
        return last
    }

    /// The encoded size of the op at `position` in the function's bytecode.
    func opSize(at position: Int) -> Int? {
        let byte = e.bytes[position]
        if byte == 0xFF {
            guard position + 2 < e.bytes.count else { return nil }
            let ext = UInt16(e.bytes[position + 1]) | UInt16(e.bytes[position + 2]) << 8
            return Self.size(row: primaryOpcodeCount + Int(e.byteOrder == .littleEndian ? ext : ext.byteSwapped))
        }
        return byte < primaryOpcodeCount ? Self.size(row: Int(byte)) : nil
    }

    /// The size of the op in row `row` of the generated `branchFieldRows` (primary
    /// opcodes, then extended ones); nil for an opcode no op has, or `br_table32`,
    /// whose size depends on its targets.
    private static func size(row: Int) -> Int? {
        guard row < branchFieldRows.count / 3, branchFieldRows[3 * row + 2] == 0, branchFieldRows[3 * row] != 0 else { return nil }
        return Int(branchFieldRows[3 * row])
    }
}
