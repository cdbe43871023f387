// Staged ops and the fusion rules' matcher. With `fusing` on, every op the
// encoder is given (but a branch table, and pc-relative forms given as raw
// offsets) is first *staged*: held as a typed `StagedOp` in a window of the last
// few, where the rules generated from the op table's `fuses:` declarations
// (`Generated/FusionRules.swift`) replace a sequence of them with the
// super-instruction that stands for it. An op is encoded only once it leaves the
// window: when later ops push it out, or when something needs the bytes as they
// are (`position`, `bind`, `flush`). Nothing is taken back out of the bytes.

/// One op not encoded yet: its row in the op table (primary opcodes first, then
/// extended ones) and its operands in declaration order, each widened to 64 bits
/// (a label operand holds the label's number).
package struct StagedOp {
    package var row: UInt16
    var o0: Int64, o1: Int64, o2: Int64, o3: Int64, o4: Int64, o5: Int64
    /// The stack slot this op writes through its first operand, when the compiler
    /// may retarget that operand (`Encoder.retargetDestination`); nil otherwise.
    package var destination: UInt16?
    /// False for a super-instruction whose first operand is more than the
    /// destination of its last step: `noteDestination` leaves it alone.
    var retargetable = true

    package init(row: UInt16, _ o0: Int64 = 0, _ o1: Int64 = 0, _ o2: Int64 = 0, _ o3: Int64 = 0, _ o4: Int64 = 0, _ o5: Int64 = 0) {
        self.row = row
        (self.o0, self.o1, self.o2, self.o3, self.o4, self.o5) = (o0, o1, o2, o3, o4, o5)
    }

    package subscript(_ i: Int) -> Int64 {
        get {
            switch i {
            case 0: return o0
            case 1: return o1
            case 2: return o2
            case 3: return o3
            case 4: return o4
            default: return o5
            }
        }
        set {
            switch i {
            case 0: o0 = newValue
            case 1: o1 = newValue
            case 2: o2 = newValue
            case 3: o3 = newValue
            case 4: o4 = newValue
            default: o5 = newValue
            }
        }
    }

    func x(_ i: Int) -> XReg { XReg(UInt16(truncatingIfNeeded: self[i])) }
    func f(_ i: Int) -> FReg { FReg(UInt16(truncatingIfNeeded: self[i])) }
    func v(_ i: Int) -> VReg { VReg(UInt16(truncatingIfNeeded: self[i])) }
    func u8(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: self[i]) }
    func u16(_ i: Int) -> UInt16 { UInt16(truncatingIfNeeded: self[i]) }
    func u32(_ i: Int) -> UInt32 { UInt32(truncatingIfNeeded: self[i]) }
    func i32(_ i: Int) -> Int32 { Int32(truncatingIfNeeded: self[i]) }
    func u64(_ i: Int) -> UInt64 { UInt64(bitPattern: self[i]) }
    func i64(_ i: Int) -> Int64 { self[i] }
    func trap(_ i: Int) -> TrapCode { TrapCode(rawValue: UInt8(truncatingIfNeeded: self[i])) ?? .unreachable }
    func label(_ i: Int) -> Label { Label(id: Int(self[i])) }
}

/// A super-instruction's declaration as the matcher reads it (generated from
/// `Op.fuses`, one rule per order of a commutative step's operands). Variables
/// are numbered: each names one operand value the steps share.
package struct FusionRule: Sendable {
    /// The row of the super-instruction.
    let fused: UInt16
    /// For each of its operands: the variable that fills it, or `-1 - k` for `constants[k]`.
    let operands: [Int8]
    /// The steps, first to last: each op's row and, per operand, its variable.
    let steps: [(row: UInt16, arguments: [Int8])]
    /// Variables that are temporaries: registers the steps write and nothing after them reads.
    let temporaries: [Int8]
    /// Pairs of variables that must hold different values (declared `distinct:`,
    /// and each temporary against every register a step after its write reads).
    let distinct: [(Int8, Int8)]
    let constants: [Int64]
    /// Whether the super-instruction's first operand is the last step's
    /// destination and nothing else: it stays retargetable as that step was.
    let keepsDestination: Bool
    let variables: Int
    /// The first step's row and how many steps, read without the nested arrays:
    /// the lookup by the last two rows leaves a three-step rule's first to check.
    let firstRow: UInt16, stepCount: Int

    init(fused: UInt16, operands: [Int8], steps: [(row: UInt16, arguments: [Int8])], temporaries: [Int8],
         distinct: [(Int8, Int8)], constants: [Int64], keepsDestination: Bool, variables: Int) {
        (self.fused, self.operands, self.steps, self.temporaries) = (fused, operands, steps, temporaries)
        (self.distinct, self.constants, self.keepsDestination, self.variables) = (distinct, constants, keepsDestination, variables)
        (firstRow, stepCount) = (steps[0].row, steps.count)
    }
}

extension Encoder {
    /// Stages `op` and applies every rule that matches the window's end, then
    /// encodes what no rule can use any more.
    mutating func stage(_ op: StagedOp) {
        staged.append(op)
        fuseWindow()
        if staged.count > Self.window {
            fusing = false
            while staged.count > Self.window { encode(staged.removeFirst()) }
            fusing = true
        }
    }

    /// The ops kept staged after each op: the longest declaration has three steps,
    /// and a two-step one may step over one op between (`fuseWindow`).
    static let window = 3

    /// Replaces the window's last ops while a rule matches them (a fused op may
    /// itself be the step of a longer rule: a compare fused into a branch, then an
    /// add into that).
    ///
    /// A two-step rule also matches its first step one op further back when the op
    /// between is independent of it (`isIndependent`): that op goes first, then
    /// the fused one (a CRC's xor of the constant, computed before the condition's op).
    private mutating func fuseWindow() {
        var matched = true
        while matched, staged.count >= 2 {
            matched = false
            let n = staged.count
            let rules = fusionRules(endingWith: staged[n - 1].row, after: staged[n - 2].row)
            for i in rules.indices {
                let k = rules[i].stepCount
                guard k <= n, k == 2 || staged[n - 3].row == rules[i].firstRow,
                      let fused = apply(rules[i], from: n - k, skipping: nil) else { continue }
                staged.removeLast(k)
                staged.append(fused)
                matched = true
                break
            }
            guard !matched, n >= 3 else { continue }
            let skipping = fusionRules(endingWith: staged[n - 1].row, after: staged[n - 3].row)
            guard skipping.contains(where: { $0.stepCount == 2 }), isIndependent(staged[n - 2], of: staged[n - 3]) else { continue }
            for i in skipping.indices where skipping[i].stepCount == 2 {
                if let fused = apply(skipping[i], from: n - 3, skipping: n - 2) {
                    let between = staged[n - 2]
                    staged.removeLast(3)
                    staged.append(between)
                    staged.append(fused)
                    matched = true
                    break
                }
            }
        }
    }

    /// Whether `op` may run before `earlier` instead of after it: it only writes
    /// registers (a pure op, of x and f registers), and the two name no register in
    /// common.
    private func isIndependent(_ op: StagedOp, of earlier: StagedOp) -> Bool {
        guard let (pure, registers) = stagedRegisters(op.row), pure,
              let (_, earlierRegisters) = stagedRegisters(earlier.row) else { return false }
        // The masks have a bit per operand position (at most six).
        for r in 0..<6 where registers & (1 << r) != 0 {
            for e in 0..<6 where earlierRegisters & (1 << e) != 0 && op[r] == earlier[e] { return false }
        }
        return true
    }

    /// The super-instruction `rule` makes of the window's last ops, or nil when
    /// they are other ops, their operands do not bind, or a condition fails.
    private func apply(_ rule: FusionRule, from first: Int, skipping: Int?) -> StagedOp? {
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: rule.variables) { values in
            withUnsafeTemporaryAllocation(of: Bool.self, capacity: rule.variables) { bound in
                // Both buffers have `rule.variables` elements, and every variable number
                // in a rule is below it (the generator numbers them so).
                bound.initialize(repeating: false)
                values.initialize(repeating: 0)
                for (k, step) in rule.steps.enumerated() {
                    let op = staged[first + k + (skipping.map { first + k >= $0 ? 1 : 0 } ?? 0)]
                    guard op.row == step.row else { return nil }
                    for (i, variable) in step.arguments.enumerated() {
                        let v = Int(variable)
                        if bound[v] {
                            guard values[v] == op[i] else { return nil }
                        } else {
                            values[v] = op[i]
                            bound[v] = true
                        }
                    }
                }
                for t in rule.temporaries where values[Int(t)] < Int64(reusableFrom) { return nil }
                for (a, b) in rule.distinct where values[Int(a)] == values[Int(b)] { return nil }
                var fused = StagedOp(row: rule.fused)
                for (i, source) in rule.operands.enumerated() {
                    fused[i] = source >= 0 ? values[Int(source)] : rule.constants[Int(-1 - source)]
                }
                fused.retargetable = rule.keepsDestination
                if rule.keepsDestination { fused.destination = staged[staged.count - 1].destination }
                return fused
            }
        }
    }

    /// Encodes every staged op, in order.
    package mutating func flush() {
        guard !staged.isEmpty else { return }
        let ops = staged
        staged.removeAll(keepingCapacity: true)
        let was = fusing
        fusing = false
        for op in ops { encode(op) }
        fusing = was
    }

    /// Nothing written or staged yet.
    package var isEmpty: Bool { bytes.isEmpty && staged.isEmpty }

    /// Marks the op just staged as writing stack slot `slot` through its first
    /// operand, which `retargetDestination` may then change.
    package mutating func noteDestination(_ slot: UInt16) {
        guard let last = staged.indices.last, staged[last].retargetable, staged[last][0] == Int64(slot) else { return }
        staged[last].destination = slot
    }

    /// Makes the last op, which writes stack slot `slot` (`noteDestination`), write
    /// `register` instead (`local.set` or a return fused into the op that produced
    /// the value), then applies the rules again. False, changing nothing, when the
    /// last op is not such an op.
    package mutating func retargetDestination(from slot: UInt16, to register: UInt16) -> Bool {
        guard let last = staged.indices.last, staged[last].destination == slot else { return false }
        staged[last][0] = Int64(register)
        staged[last].destination = nil
        fuseWindow()
        return true
    }

    /// The op staged last, if it is not encoded yet.
    package var lastStaged: StagedOp? { staged.last }

    /// Drops the op staged last (the compiler found it unneeded: an i32 op reads
    /// the i64 an `i32.wrap_i64` would have wrapped).
    package mutating func dropLastStaged() {
        staged.removeLast()
    }
}
