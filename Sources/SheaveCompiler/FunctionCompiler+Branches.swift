import SheaveBytecode

// Branches are emitted plain: a branch on an i32 register, a jump. What a
// comparison, an add, a move or a constant just before them fuses into (a
// compare-and-branch, a loop's step and test) is the encoder's fusion rules'
// work, generated from the op table's `fuses:` declarations.

extension FunctionCompiler {
    /// Emits a branch to `label`, taken when the i32 in `condition` is nonzero
    /// (or zero, with `whenTrue` false). The condition's entry, in slot
    /// `conditionSlot` when it has one, is consumed by the branch.
    mutating func emitBranch(on condition: UInt16, whenTrue: Bool, to label: Label, consuming conditionSlot: Int) {
        e.reusableFrom = conditionSlot
        if whenTrue { emit { $0.brIfXnez32(XReg(condition), label) } } else { emit { $0.brIfXeqz32(XReg(condition), label) } }
    }

    /// Emits a jump to `label`.
    mutating func emitJump(to label: Label) {
        emit { $0.jump(label) }
    }
}
