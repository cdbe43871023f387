// What each super-instruction stands for (`Op.fuses`), checked against the table
// and turned into the equivalence test's cases.

/// One step of a fusion, resolved: the op it runs and, for each of that op's
/// operands, what fills it (the super-instruction's operand or a temporary).
struct FusionStep {
    let op: Op
    let arguments: [String]
}

/// The temporaries a fusion may name: registers that nothing but its steps read.
let fusionTemporaries: Set<String> = ["t", "u"]

extension Op {
    /// A fusion's steps, each checked against the table: the op exists, the
    /// arguments are as many as its operands, each is an operand of this op of the
    /// same kind and meaning or a temporary register, a temporary has one kind,
    /// and every operand of this op is used by a step or given as a constant. A
    /// declaration that breaks one of these stops the generator.
    func fusionSteps(_ fusion: Fusion, in table: [Op]) -> [FusionStep] {
        var temporaryKinds: [String: OperandKind] = [:]
        var used = Set(fusion.constants.map(\.0))
        let steps = fusion.steps.map { text -> FusionStep in
            let name = String(text.prefix { $0 != " " })
            guard let step = table.first(where: { $0.name == name }) else { fatalError("\(self.name): no op \(name) in `\(text)`") }
            let arguments = text.dropFirst(name.count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            precondition(arguments.count == step.operands.count, "\(self.name): `\(text)` gives \(arguments.count) operands, \(name) has \(step.operands.count)")
            for (argument, operand) in zip(arguments, step.operands) {
                if let own = operands.first(where: { $0.name == argument }) {
                    precondition(own.kind == operand.kind && own.meaning == operand.meaning,
                                 "\(self.name): \(argument) is \(own.kind)@\(own.meaning), but \(name)'s \(operand.name) is \(operand.kind)@\(operand.meaning)")
                    precondition(!fusion.constants.contains { $0.0 == argument }, "\(self.name): constant \(argument) is filled by a step")
                    used.insert(argument)
                } else {
                    precondition(fusionTemporaries.contains(argument), "\(self.name): `\(argument)` in `\(text)` is neither an operand nor a temporary")
                    precondition(operand.kind == .x || operand.kind == .f, "\(self.name): temporary \(argument) fills \(name)'s \(operand.kind) operand")
                    precondition(temporaryKinds[argument].map { $0 == operand.kind } ?? true, "\(self.name): temporary \(argument) is used as two kinds")
                    temporaryKinds[argument] = operand.kind
                }
            }
            return FusionStep(op: step, arguments: arguments)
        }
        for operand in operands { precondition(used.contains(operand.name), "\(self.name): operand \(operand.name) is in none of its steps") }
        for (a, b) in fusion.distinct {
            precondition([a, b].allSatisfy { name in operands.contains { $0.name == name && ($0.kind == .x || $0.kind == .f) } },
                         "\(self.name): distinct(\(a), \(b)) names a non-register")
        }
        return steps
    }

    /// The temporaries a fusion's steps use, with their kinds, in order of first use.
    func fusionTemporaryKinds(_ fusion: Fusion, in table: [Op]) -> [(String, OperandKind)] {
        var seen: [(String, OperandKind)] = []
        for step in fusionSteps(fusion, in: table) {
            for (argument, operand) in zip(step.arguments, step.op.operands)
            where fusionTemporaries.contains(argument) && !seen.contains(where: { $0.0 == argument }) {
                seen.append((argument, operand.kind))
            }
        }
        return seen
    }

    /// Pairs of register operands (by position) that the op's fusions declare `distinct`.
    var distinctPairs: [(Int, Int)] {
        var pairs: [(Int, Int)] = []
        for fusion in fuses {
            for (a, b) in fusion.distinct {
                let pair = (operands.firstIndex { $0.name == a }!, operands.firstIndex { $0.name == b }!)
                if !pairs.contains(where: { $0 == pair }) { pairs.append(pair) }
            }
        }
        return pairs
    }

    /// The `stands:` and `distinctOperands:` arguments of the op's `OpInfo`, if any.
    var fusionInfo: String {
        guard !fuses.isEmpty else { return "" }
        let stands = fuses.map { quoted($0.steps.joined(separator: "; ")) }.joined(separator: ", ")
        let pairs = distinctPairs
        return ", stands: [\(stands)]" + (pairs.isEmpty ? "" : ", distinctOperands: [\(pairs.map { "(\($0.0), \($0.1))" }.joined(separator: ", "))]")
    }

    /// The op's row: primary opcodes first, then extended ones.
    var row: Int { isExtended ? primary.count + opcode : opcode }
}

/// The case kind of an operand in the test's `FusionOperand.Kind`.
private func fusionKind(_ operand: Operand) -> String {
    switch (operand.kind, operand.meaning) {
    case (.x, _): return ".x"
    case (.f, _): return ".f"
    case (.u8, _): return ".u8"
    case (.u32, .framesize): return ".frameSize"
    case (.u16, .frame): return ".firstSlot"
    case (.u16, .slots): return ".slotCount"
    case (.u32, .value): return ".offset"
    case (.i32, _): return ".i32"
    case (.pcrel, _): return ".label"
    default: fatalError("no equivalence test for an operand of kind \(operand.kind)@\(operand.meaning)")
    }
}

/// The expression that passes an operand's value to the encoder.
private func fusionArgument(_ name: String, _ kind: OperandKind) -> String {
    switch kind {
    case .x: return "o.x(\"\(name)\")"
    case .f: return "o.f(\"\(name)\")"
    case .u8: return "o.u8(\"\(name)\")"
    case .u16: return "o.u16(\"\(name)\")"
    case .u32: return "o.u32(\"\(name)\")"
    case .i32: return "o.i32(\"\(name)\")"
    case .pcrel: return "o.label"
    default: fatalError("no equivalence test for an operand of kind \(kind)")
    }
}

func genFusionCases() -> String {
    var s = """
        import SheaveBytecode

        /// Every super-instruction of the op table with the plain ops it stands for
        /// (`Op.fuses`): `FusionEquivalenceTests` runs each against its steps.
        let fusionCases: [FusionCase] = [

        """
    for op in ops {
        for (k, fusion) in op.fuses.enumerated() {
            let steps = op.fusionSteps(fusion, in: ops)
            let constants = Dictionary(uniqueKeysWithValues: fusion.constants)
            let operands = op.operands.filter { constants[$0.name] == nil }.map { "(\"\($0.name)\", \(fusionKind($0)))" }.joined(separator: ", ")
            let temporaries = op.fusionTemporaryKinds(fusion, in: ops).map { "(\"\($0.0)\", \($0.1 == .x ? ".x" : ".f"))" }.joined(separator: ", ")
            let distinct = fusion.distinct.map { "(\"\($0.0)\", \"\($0.1)\")" }.joined(separator: ", ")
            func call(_ op: Op, _ arguments: [String]) -> String {
                "e.\(op.swiftName)(" + zip(arguments, op.operands).map { argument, operand in
                    constants[argument].map { "\($0)" } ?? fusionArgument(argument, operand.kind)
                }.joined(separator: ", ") + ")"
            }
            s += guarded(op, """
                    FusionCase(
                        name: "\(op.name)\(k == 0 ? "" : " (\(k + 1))")", stands: \(quoted(fusion.steps.joined(separator: "; "))), xBits: \(fusion.xBits), fBits: \(fusion.fBits),
                        operands: [\(operands)],
                        temporaries: [\(temporaries)], distinct: [\(distinct)],
                        fused: { e, o in \(call(op, op.operands.map(\.name))) },
                        steps: { e, o in
                \(steps.map { "            " + call($0.op, $0.arguments) }.joined(separator: "\n"))
                        }),

                """)
        }
    }
    s += "]\n"
    return s
}

// MARK: The compiler's fusion rules

/// The accessor of `StagedOp` that reads an operand of `kind` back.
private func stagedAccessor(_ kind: OperandKind) -> String {
    switch kind {
    case .x: return "x"
    case .f: return "f"
    case .v: return "v"
    case .u8: return "u8"
    case .u16: return "u16"
    case .u32, .f32: return "u32"
    case .i32: return "i32"
    case .u64, .f64: return "u64"
    case .i64: return "i64"
    case .trapCode: return "trap"
    case .pcrel: return "label"
    case .branchTable: fatalError("a branch table is never staged")
    }
}

/// The expression that widens an encoder method's argument `name` of `kind` to a staged operand.
func stagedValue(_ name: String, _ kind: OperandKind) -> String {
    switch kind {
    case .x, .f, .v: return "Int64(\(name).index)"
    case .u8, .u16, .u32, .f32, .i32: return "Int64(\(name))"
    case .u64, .f64: return "Int64(bitPattern: \(name))"
    case .i64: return name
    case .trapCode: return "Int64(\(name).rawValue)"
    case .pcrel: return "Int64(\(name).id)"
    case .branchTable: fatalError("a branch table is never staged")
    }
}

extension Op {
    /// Whether the encoder stages the op (with labels for its branch targets): every op but a branch table.
    var isStaged: Bool { !operands.contains { $0.kind == .branchTable } }

    /// The statement that stages the op, in its encoder method.
    var stageStatement: String {
        precondition(operands.count <= 6, "\(name): a staged op holds at most six operands")
        let values = operands.map { stagedValue($0.name, $0.kind) }
        return "if fusing { return stage(StagedOp(row: \(row)\(values.map { ", " + $0 }.joined()))) }"
    }
}

/// One rule of the matcher, as Swift source: a declaration with its variables numbered.
private struct RuleSource: Equatable {
    var steps: [(row: Int, arguments: [Int])]
    var text: String
    static func == (a: RuleSource, b: RuleSource) -> Bool { a.text == b.text }
}

/// The rules made of `op`'s declaration `fusion`: one for each order of every
/// commutative step's operands.
private func rules(_ op: Op, _ fusion: Fusion) -> [RuleSource] {
    let steps = op.fusionSteps(fusion, in: ops)
    let constants = fusion.constants.map(\.0)
    let temporaries = op.fusionTemporaryKinds(fusion, in: ops).map(\.0)
    let variables = op.operands.map(\.name).filter { !constants.contains($0) } + temporaries
    func number(_ name: String) -> Int { variables.firstIndex(of: name)! }
    let isRegister = Dictionary(uniqueKeysWithValues: op.operands.map { ($0.name, $0.kind == .x || $0.kind == .f) }
        + temporaries.map { ($0, true) })
    // A register the last step only writes (its `dst`, named nowhere else) may be a temporary's register too.
    let last = steps.last!
    let occurrences = steps.flatMap(\.arguments)
    let writtenLast: String? = last.op.operands.first?.name == "dst" && occurrences.filter({ $0 == last.arguments[0] }).count == 1
        ? last.arguments[0] : nil
    // A temporary must not share its register with one a later step reads (that
    // step would read the temporary instead); a register read only up to the step
    // that writes the temporary may be its register (`xeqz32 t, t`: the operand
    // consumed in place).
    var distinct = fusion.distinct.map { (number($0.0), number($0.1)) }
    for t in temporaries {
        let written = steps.firstIndex { $0.arguments.contains(t) }!
        for v in variables where v != t && isRegister[v]! && !distinct.contains(where: { Set([$0.0, $0.1]) == Set([number(t), number(v)]) }) {
            let readLater = steps.indices.contains { k in
                k > written && steps[k].arguments.enumerated().contains { i, argument in
                    argument == v && !(i == 0 && steps[k].op.operands[0].name == "dst")
                }
            }
            if readLater { distinct.append((number(t), number(v))) }
        }
    }
    let operands = op.operands.map { operand in
        constants.firstIndex(of: operand.name).map { -1 - $0 } ?? number(operand.name)
    }
    let keepsDestination = writtenLast != nil && writtenLast == op.operands.first?.name
    // Every order of each commutative step's two operands.
    var orders: [[[String]]] = [steps.map(\.arguments)]
    for (k, step) in steps.enumerated() {
        guard let (a, b) = step.op.commutes else { continue }
        let (i, j) = (step.op.operands.firstIndex { $0.name == a }!, step.op.operands.firstIndex { $0.name == b }!)
        orders += orders.map { order in
            var swapped = order
            swapped[k].swapAt(i, j)
            return swapped
        }
    }
    var result: [RuleSource] = []
    for order in orders {
        let numbered = zip(steps, order).map { (row: $0.op.row, arguments: $1.map(number)) }
        let stepsText = numbered.map { "(row: \($0.row), arguments: \($0.arguments))" }.joined(separator: ", ")
        let text = """
                    // \(op.name): \(zip(steps, order).map { "\($0.op.name) \($1.joined(separator: ", "))" }.joined(separator: "; "))
                    FusionRule(fused: \(op.row), operands: \(operands), steps: [\(stepsText)],
                               temporaries: \(temporaries.map(number)), distinct: [\(distinct.map { "(\($0.0), \($0.1))" }.joined(separator: ", "))],
                               constants: \(fusion.constants.map(\.1)), keepsDestination: \(keepsDestination), variables: \(variables.count)),

            """
        let rule = RuleSource(steps: numbered, text: text)
        if !result.contains(rule) { result.append(rule) }
    }
    return result
}

/// The matcher's rules, grouped by the row of their last step (longest first), and the encoder's
/// `encode(_:)` of a staged op.
func genFusionRules() -> String {
    // Rules grouped by the rows of their last two steps: the matcher looks up the
    // rules for the two ops at the window's end, and most pairs have none.
    var byPair: [Int: [Int: [RuleSource]]] = [:]
    for op in ops {
        for fusion in op.fuses {
            for rule in rules(op, fusion) {
                let n = rule.steps.count
                byPair[rule.steps[n - 1].row, default: [:]][rule.steps[n - 2].row, default: []].append(rule)
            }
        }
    }
    func camelName(_ row: Int) -> String { ops.first { $0.row == row }!.swiftName }
    func name(_ row: Int) -> String {
        let op = ops.first { $0.row == row }!
        return op.swiftName.prefix(1).uppercased() + op.swiftName.dropFirst()
    }
    var s = """
        // The fusion rules: each super-instruction's declarations (`Op.fuses`), with
        // their operands numbered as variables, for `Encoder.stage` to match against
        // the ops it holds. A rule stands once for each order of a commutative step's
        // operands.

        extension Encoder {
            /// The rules whose last two steps are the ops in rows `previous` and `row`, longest first.
            func fusionRules(endingWith row: UInt16, after previous: UInt16) -> [FusionRule] {
                switch row {

        """
    for row in byPair.keys.sorted() {
        s += "        case \(row):\n            switch previous {\n"
        for previous in byPair[row]!.keys.sorted() {
            s += "            case \(previous): return FusionRules.\(camelName(previous))Then\(name(row))\n"
        }
        s += "            default: return []\n            }\n"
    }
    s += """
                default: return []
                }
            }

            /// Whether the op in `row` only writes registers (a pure op), and which of its
            /// operands are x or f registers (a bit per position); nil for an op with v registers.
            func stagedRegisters(_ row: UInt16) -> (pure: Bool, registers: UInt8)? {
                switch row {

        """
    for op in ops where op.isStaged && !op.operands.contains(where: { $0.kind == .v }) {
        let registers = op.operands.indices.filter { op.operands[$0].kind == .x || op.operands[$0].kind == .f }
        s += "        case \(op.row): return (\(op.flags.contains(.pure)), 0b\(String(registers.reduce(0) { $0 | 1 << $1 }, radix: 2)))\n"
    }
    s += """
                default: return nil
                }
            }

            /// Writes a staged op's bytes (`fusing` is off while `flush` does).
            mutating func encode(_ op: StagedOp) {
                switch op.row {

        """
    for op in ops where op.isStaged {
        let arguments = op.operands.enumerated().map { "op.\(stagedAccessor($1.kind))(\($0))" }.joined(separator: ", ")
        s += "        case \(op.row): \(op.swiftName)(\(arguments))\n"
    }
    s += """
                default: preconditionFailure("no staged op has row \\(op.row)")
                }
            }
        }

        enum FusionRules {

        """
    for row in byPair.keys.sorted() {
        for previous in byPair[row]!.keys.sorted() {
            let rules = byPair[row]![previous]!.enumerated()
                .sorted { ($0.element.steps.count, -$0.offset) > ($1.element.steps.count, -$1.offset) }.map(\.element)
            s += "    static let \(camelName(previous))Then\(name(row)): [FusionRule] = [\n"
            for rule in rules { s += rule.text }
            s += "    ]\n"
        }
    }
    s += "}\n"
    return s
}
