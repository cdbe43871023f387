// Writers for the test-only materialized op type and the compiler's SIMD lowering.

// MARK: Tests

func sampleValue(_ kind: OperandKind, _ i: Int) -> String {
    switch kind {
    case .x: return "XReg(\(i + 1))"
    case .f: return "FReg(\(i + 1))"
    case .v: return "VReg(\(2 * i + 2))"
    case .u8: return "5"
    case .u16: return "3"
    case .u32: return "16"
    case .i32: return "-7"
    case .u64: return "0x1_0000_0001"
    case .i64: return "-0x1_0000_0001"
    case .f32: return "Float(1.5).bitPattern"
    case .f64: return "Double(-2.25).bitPattern"
    case .pcrel: return "PcRelOffset(\(8 * (i + 1)))"
    case .trapCode: return ".unreachable"
    case .branchTable: return "BranchTable([PcRelOffset(12), PcRelOffset(-4), PcRelOffset(20)])"
    }
}

func randomValue(_ kind: OperandKind) -> String {
    switch kind {
    case .x: return "XReg(.random(in: 0...UInt16.max, using: &g))"
    case .f: return "FReg(.random(in: 0...UInt16.max, using: &g))"
    case .v: return "VReg(.random(in: 0...UInt16.max, using: &g))"
    case .u8: return ".random(in: 0...UInt8.max, using: &g)"
    case .u16: return ".random(in: 0...UInt16.max, using: &g)"
    case .u32, .f32: return ".random(in: 0...UInt32.max, using: &g)"
    case .i32: return ".random(in: Int32.min...Int32.max, using: &g)"
    case .u64, .f64: return ".random(in: 0...UInt64.max, using: &g)"
    case .i64: return ".random(in: Int64.min...Int64.max, using: &g)"
    case .pcrel: return "PcRelOffset(.random(in: Int32.min...Int32.max, using: &g))"
    case .trapCode: return "TrapCode.allCases.randomElement(using: &g)!"
    case .branchTable: return "BranchTable((0...Int.random(in: 0...5, using: &g)).map { _ in PcRelOffset(.random(in: Int32.min...Int32.max, using: &g)) })"
    }
}

func genMaterialized() -> String {
    var s = """
        import SheaveBytecode

        /// A materialized op, for tests only: the engine never builds one.
        enum MaterializedOp: Equatable {

        """
    for op in ops {
        if op.operands.isEmpty {
            s += "    case \(op.swiftName)\n"
        } else {
            s += "    case \(op.swiftName)(" + op.operands.map { "\($0.name): \(visitorType($0.kind))" }.joined(separator: ", ") + ")\n"
        }
    }
    s += """

            /// How many ops the table declares.
            static let count = \(ops.count)

            /// Encodes this op. One `if case` per op, not a switch: the type checker
            /// gives up proving a switch over 600 cases exhaustive ("in reasonable time").
            func encode(into e: inout Encoder) {

        """
    for op in ops {
        if op.operands.isEmpty {
            s += "        if case .\(op.swiftName) = self { return e.\(op.swiftName)() }\n"
        } else {
            s += "        if case let .\(op.swiftName)(\(args(op))) = self { return e.\(op.swiftName)(\(args(op))) }\n"
        }
    }
    s += """
                preconditionFailure("every op has a case above")
            }

            /// One op of each kind, with fixed operands (golden tests).
            static let samples: [MaterializedOp] = [

        """
    for op in ops {
        if op.operands.isEmpty {
            s += "        .\(op.swiftName),\n"
        } else {
            let values = op.operands.enumerated().map { "\($1.name): \(sampleValue($1.kind, $0))" }.joined(separator: ", ")
            s += "        .\(op.swiftName)(\(values)),\n"
        }
    }
    s += """
            ]

            /// A random op with random operands.
            static func random<G: RandomNumberGenerator>(using g: inout G) -> MaterializedOp {
                switch Int.random(in: 0..<count, using: &g) {

        """
    for (i, op) in ops.enumerated() {
        if op.operands.isEmpty {
            s += "        case \(i): return .\(op.swiftName)\n"
        } else {
            let values = op.operands.map { "\($0.name): \(randomValue($0.kind))" }.joined(separator: ", ")
            s += "        case \(i): return .\(op.swiftName)(\(values))\n"
        }
    }
    s += """
                default: fatalError("unreachable: index below count")
                }
            }
        }

        /// Builds `MaterializedOp` values from a decoder.
        struct Materializer: OpVisitor {
            typealias Output = MaterializedOp


        """
    for op in ops {
        let body = op.operands.isEmpty ? ".\(op.swiftName)" : ".\(op.swiftName)(" + op.operands.map { "\($0.name): \($0.name)" }.joined(separator: ", ") + ")"
        s += "    mutating func \(op.swiftName)(\(params(op, visitorType))) -> MaterializedOp { \(body) }\n"
    }
    s += "}\n"
    return s
}

// MARK: SheaveCompiler

/// The compiler's lowering of every op that is exactly one Wasm SIMD instruction.
func genSIMDLowering() -> String {
    func type(_ t: String) -> String { ".\(t)" }
    func reg(_ t: String) -> String {
        switch t {
        case "v128": return "VReg"
        case "i32", "i64": return "XReg"
        default: return "FReg"
        }
    }
    func lowering(_ op: Op, _ w: WasmInstruction) -> String {
        var operands: [String] = []
        if let result = w.result { operands.append("\(reg(result))(dst)") }
        for (k, t) in w.inputs.enumerated() { operands.append("\(reg(t))(r[\(k)])") }
        if w.lanes != nil { operands.append("lane") }
        let result = w.result.map(type) ?? "nil"
        let inputs = "[" + w.inputs.map(type).joined(separator: ", ") + "]"
        return "try simdOp(\(inputs), \(result)) { e, dst, r in e.\(op.swiftName)(\(operands.joined(separator: ", "))) }"
    }
    var s = """
        import SheaveBytecode
        import WasmParser

        extension FunctionCompiler {
            /// Compiles a SIMD instruction that is one op.
            mutating func lowerSimd(_ instruction: Instruction.Simd) throws(CompileError) {
                switch instruction {

        """
    for op in ops {
        guard let w = op.wasm, w.lanes == nil else { continue }
        let require = w.isRelaxed ? "try require(.relaxedSIMD, \"relaxed SIMD\"); " : ""
        s += "        case .\(w.name): \(require)\(lowering(op, w))\n"
        // Relaxed instructions that take this op's behaviour (one each allows).
        for relaxed in w.relaxed {
            s += "        case .\(relaxed): try require(.relaxedSIMD, \"relaxed SIMD\"); \(lowering(op, w))\n"
        }
    }
    // Every SIMD instruction WasmParser decodes has an op (relaxed SIMD included), so
    // the switch has no default: a new instruction in WasmParser fails to compile here.
    s += """
                }
            }

            /// Compiles a SIMD lane instruction (`extract_lane`, `replace_lane`), checking its lane index.
            mutating func lowerSimdLane(_ instruction: Instruction.SimdLane, lane: UInt8) throws(CompileError) {
                switch instruction {

        """
    for op in ops {
        guard let w = op.wasm, let lanes = w.lanes else { continue }
        s += "        case .\(w.name):\n"
        s += "            guard lane < \(lanes) else { throw failure(\"invalid lane index \\(lane)\") }\n"
        s += "            \(lowering(op, w))\n"
    }
    s += """
                }
            }
        }

        """
    return s
}
