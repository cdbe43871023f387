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
    /// The fusion's steps, each checked against the table: the op exists, the
    /// arguments are as many as its operands, each is an operand of this op of the
    /// same kind and meaning or a temporary register, a temporary has one kind,
    /// and every operand of this op is used. A declaration that breaks one of
    /// these stops the generator.
    func fusionSteps(in table: [Op]) -> [FusionStep] {
        guard let fusion = fuses else { return [] }
        var temporaryKinds: [String: OperandKind] = [:]
        var used: Set<String> = []
        let steps = fusion.steps.map { text -> FusionStep in
            let name = String(text.prefix { $0 != " " })
            guard let step = table.first(where: { $0.name == name }) else { fatalError("\(self.name): no op \(name) in `\(text)`") }
            let arguments = text.dropFirst(name.count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            precondition(arguments.count == step.operands.count, "\(self.name): `\(text)` gives \(arguments.count) operands, \(name) has \(step.operands.count)")
            for (argument, operand) in zip(arguments, step.operands) {
                if let own = operands.first(where: { $0.name == argument }) {
                    precondition(own.kind == operand.kind && own.meaning == operand.meaning,
                                 "\(self.name): \(argument) is \(own.kind)@\(own.meaning), but \(name)'s \(operand.name) is \(operand.kind)@\(operand.meaning)")
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

    /// The temporaries the fusion's steps use, with their kinds, in order of first use.
    func fusionTemporaryKinds(in table: [Op]) -> [(String, OperandKind)] {
        var seen: [(String, OperandKind)] = []
        for step in fusionSteps(in: table) {
            for (argument, operand) in zip(step.arguments, step.op.operands)
            where fusionTemporaries.contains(argument) && !seen.contains(where: { $0.0 == argument }) {
                seen.append((argument, operand.kind))
            }
        }
        return seen
    }
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
    for op in ops where op.fuses != nil {
        let fusion = op.fuses!
        let steps = op.fusionSteps(in: ops)
        let operands = op.operands.map { "(\"\($0.name)\", \(fusionKind($0)))" }.joined(separator: ", ")
        let temporaries = op.fusionTemporaryKinds(in: ops).map { "(\"\($0.0)\", \($0.1 == .x ? ".x" : ".f"))" }.joined(separator: ", ")
        let distinct = fusion.distinct.map { "(\"\($0.0)\", \"\($0.1)\")" }.joined(separator: ", ")
        func call(_ op: Op, _ arguments: [String]) -> String {
            "e.\(op.swiftName)(" + zip(arguments, op.operands).map { fusionArgument($0, $1.kind) }.joined(separator: ", ") + ")"
        }
        s += guarded(op, """
                FusionCase(
                    name: "\(op.name)", stands: \(quoted(fusion.steps.joined(separator: "; "))), xBits: \(fusion.xBits), fBits: \(fusion.fBits),
                    operands: [\(operands)],
                    temporaries: [\(temporaries)], distinct: [\(distinct)],
                    fused: { e, o in \(call(op, op.operands.map(\.name))) },
                    steps: { e, o in
            \(steps.map { "            " + call($0.op, $0.arguments) }.joined(separator: "\n"))
                    }),

            """)
    }
    s += "]\n"
    return s
}
