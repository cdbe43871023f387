// Writers for the interpreter's generated files: the handler protocol and
// skeletons, the match loop, the tail loop and its accumulator tables.

// MARK: SheaveInterpreter

/// Bytes in front of every op in the interpreter's code image (`CodeImage`):
/// the address of the op's tail handler, so that dispatch is one load from the
/// code (direct threading). The op's bytes follow unchanged, so every operand
/// sits this much further from the op's start than in the bytecode.
let threadedHeader = 8

/// The expression that reads an operand from `pc` in an interpreter skeleton.
func uncheckedRead(_ operand: Operand, at offset: Int) -> String {
    func load(_ type: String) -> String { "pc.loadUnaligned(fromByteOffset: \(offset), as: \(type).self)" }
    switch operand.kind {
    case .x: return "XReg(\(load("UInt16")), inAccumulator: xaccField == \(offset))"
    case .f: return "FReg(\(load("UInt16")), inAccumulator: faccField == \(offset))"
    case .v: return "VReg(\(load("UInt16")))"
    case .u8: return load("UInt8")
    case .u16: return load("UInt16")
    case .u32, .f32: return load("UInt32")
    case .i32: return load("Int32")
    case .u64, .f64: return load("UInt64")
    case .i64: return load("Int64")
    case .pcrel: return "BranchTarget(start: pc, field: \(offset))"
    case .trapCode: return "TrapCode(rawValue: \(load("UInt8"))) ?? .invalidOpcode"
    case .branchTable: return "BranchTableRef(start: pc, count: \(load("UInt32")), offsets: pc.advanced(by: \(offset + 4)))"
    }
}

func genHandlers() -> String {
    var s = """
        import SheaveBytecode

        /// The semantics of every op, implemented by `Executor` in Handlers/.
        /// No default implementations: an op without a handler does not compile.
        /// Branch targets arrive unread (`BranchTarget`); `pc` has already moved
        /// past the instruction when a handler runs.
        protocol OpHandlers {

        """
    for op in ops {
        let throwsClause = op.flags.contains(.mayStop) ? " throws(Stop)" : ""
        s += guarded(op, "    \(op.docLines)\n    mutating func \(op.swiftName)(\(params(op, handlerType)))\(throwsClause)\n")
    }
    s += "}\n\nextension Executor: OpHandlers {}\n\n"
    s += """
        // Skeletons: each decodes its op's operands straight from the bytecode
        // (trusted, so unchecked), moves `pc` past the op and calls the handler.
        extension Executor {

        """
    for op in ops {
        let mayStop = op.flags.contains(.mayStop)
        var t = "    @inline(__always)\n    mutating func op_\(op.swiftName)()\(mayStop ? " throws(Stop)" : "") {\n"
        if mayStop { t += "        start = pc\n" }
        for (operand, offset) in zip(op.operands, op.operandOffsets) {
            t += "        let \(operand.name) = \(uncheckedRead(operand, at: threadedHeader + offset))\n"
        }
        if let size = op.fixedSize { t += "        pc = pc.advanced(by: \(threadedHeader + size))\n" }
        t += "        \(mayStop ? "try " : "")\(op.swiftName)(\(args(op)))\n"
        t += "    }\n"
        s += guarded(op, t) + "\n"
    }
    s += "}\n"
    return s
}

func genMatchLoop() -> String {
    func call(_ op: Op) -> String { (op.flags.contains(.mayStop) ? "try " : "") + "op_\(op.swiftName)()" }
    var s = """
        import SheaveBytecode

        extension Executor {
            /// The match loop: one `switch` on the opcode, handlers inlined into it.
            /// Returns only by throwing: a trap, a return to the host, or a host call.
            /// `Hook` sees each op before it runs; the loop is specialized for each
            /// hook, so `NoDispatchHook` (an empty function) costs nothing.
            mutating func runMatchLoop<Hook: DispatchHook>(_: Hook.Type) throws(Stop) -> Never {
                while true {
                    Hook.willDispatch(&self)
                    matchLoopReadsSlots()
                    switch pc.load(fromByteOffset: \(threadedHeader), as: UInt8.self) {

        """
    for op in primary {
        s += guarded(op, "            case \(op.opcode): \(call(op)) // \(op.name)\n",
                     otherwise: "            case \(op.opcode): start = pc; throw .trap(.disabledOpcode) // \(op.name)\n")
    }
    s += """
                    case 0xFF:
                        switch pc.loadUnaligned(fromByteOffset: \(threadedHeader + 1), as: UInt16.self) {

        """
    for op in extended {
        s += guarded(op, "                case \(op.opcode): \(call(op)) // \(op.name)\n",
                     otherwise: "                case \(op.opcode): start = pc; throw .trap(.disabledOpcode) // \(op.name)\n")
    }
    s += """
                        default:
                            start = pc
                            throw .trap(.invalidOpcode)
                        }
                    default:
                        start = pc
                        throw .trap(.invalidOpcode)
                    }
                }
            }
        }

        """
    return s
}

func genTailLoop() -> String {
    var s = """
        import SheaveBytecode

        // The tail loop: one function per op; each ends by calling the next op's
        // handler, whose address is in front of that op in the code image
        // (`CodeImage`), a call that the optimizer turns into a jump.
        // All handlers have the type `TailHandler`.

        /// Bytes in front of every op in a code image: the address of its tail handler.
        let threadedHeader = \(threadedHeader)


        """
    func body(_ op: Op, slot: (acc: String, field: Int)? = nil, keep: Bool = false) -> String {
        var b = "    var ex = Executor(pc: pc, fp: fp, links: links, memory: memory, vm: vm.assumingMemoryBound(to: VMState.self), xacc: xacc, facc: facc)\n"
        if let slot {
            b += "    ex.\(slot.acc)Slot = Int(pc.loadUnaligned(fromByteOffset: \(slot.field), as: UInt16.self))\n"
            b += "    ex.\(slot.acc)Field = \(slot.field)\n"
        }
        if keep { b += "    ex.keepsXAcc = true\n" }
        if op.flags.contains(.mayStop) {
            b += "    do { try ex.op_\(op.swiftName)() } catch { return }  // `stop` recorded why and where\n"
        } else {
            b += "    ex.op_\(op.swiftName)()\n"
        }
        b += "    return ex.dispatchNext()\n"
        return b
    }
    let signature = "(_ pc: UnsafeRawPointer, _ fp: UnsafeMutableRawPointer, _ links: UnsafeMutableRawPointer, _ memory: UnsafeMutableRawPointer, _ vm: UnsafeMutableRawPointer, _ xacc: UInt64, _ facc: Double)"
    for op in ops {
        s += guarded(op, "@inline(__always)\nprivate func tail_\(op.swiftName)\(signature) {\n" + body(op) + "}\n") + "\n"
    }
    // Accumulator forms: the same handler, told which slot an accumulator holds
    // (and, for keeping forms, not to write the integer accumulator).
    for op in ops {
        for (acc, names) in [("xacc", op.xaccForms), ("facc", op.faccForms)] {
            for name in names {
                let offset = zip(op.operands, op.operandOffsets).first { $0.0.name == name }!.1
                let slot = threadedHeader + offset
                s += "@inline(__always)\nprivate func tail_\(op.swiftName)_\(acc)_\(name)\(signature) {\n"
                s += body(op, slot: (acc, slot)) + "}\n\n"
                if acc == "xacc" && op.flags.contains(.hasKeepingForms) {
                    s += "@inline(__always)\nprivate func tail_\(op.swiftName)_xacc_\(name)_keep\(signature) {\n"
                    s += body(op, slot: (acc, slot), keep: true) + "}\n\n"
                }
            }
        }
        if op.flags.contains(.hasKeepingForms) {
            s += "@inline(__always)\nprivate func tail_\(op.swiftName)_keep\(signature) {\n" + body(op, keep: true) + "}\n\n"
        }
    }
    // Thin function references are stored through pointers only: a Swift
    // array of them would need reabstraction thunks, which thin functions lack.
    s += """
        /// The number of extended ops.
        let extendedOpCount = \(extended.count)

        /// Fills a 256-entry table with the handlers indexed by primary opcode;
        /// opcodes no op uses trap as invalid.
        func installPrimaryTailHandlers(_ table: UnsafeMutablePointer<TailHandler>) {
            for opcode in 0..<256 { table[opcode] = tailInvalidOpcode }

        """
    for op in primary { s += guarded(op, "    table[\(op.opcode)] = tail_\(op.swiftName)\n", otherwise: "    table[\(op.opcode)] = tailDisabledOpcode\n") }
    s += "    table[0xFF] = tailInvalidOpcode  // extended ops: `CodeImage` takes their handlers from the extended table\n}\n\n"
    s += "/// Fills an `extendedOpCount`-entry table with the handlers indexed by extended opcode.\nfunc installExtendedTailHandlers(_ table: UnsafeMutablePointer<TailHandler>) {\n"
    for op in extended { s += guarded(op, "    table[\(op.opcode)] = tail_\(op.swiftName)\n", otherwise: "    table[\(op.opcode)] = tailDisabledOpcode\n") }
    s += "}\n\n"
    // What `CodeImage` needs to install the float-accumulator forms, by layout index
    // (a primary opcode, or 256 + an extended one).
    func layoutIndex(_ op: Op) -> Int { op.isExtended ? 256 + op.opcode : op.opcode }
    func offset(_ op: Op, _ name: String) -> Int { zip(op.operands, op.operandOffsets).first { $0.0.name == name }!.1 }
    for (acc, kind, flag, forms) in [("xacc", OperandKind.x, OpFlags.writesXAcc, \Op.xaccForms), ("facc", .f, .writesFAcc, \Op.faccForms)] {
        let what = acc == "xacc" ? "integer" : "float"
        s += "/// Where the op with layout index `index` (a primary opcode, or 256 + an extended\n"
        s += "/// one) has the register it leaves in the \(what) accumulator; 0 when it leaves none.\n"
        s += "func \(acc)WriterField(_ index: Int) -> Int {\n    switch index {\n"
        for op in ops where op.flags.contains(flag) {
            precondition(op.operands.first?.name == "dst" && op.operands.first?.kind == kind, "\(op.name) writes the \(acc) but has no dst")
            s += guarded(op, "    case \(layoutIndex(op)): return \(offset(op, "dst"))  // \(op.name)\n")
        }
        s += "    default: return 0\n    }\n}\n\n"
        s += "/// The fields of the op with layout index `index` that it has a \(what)-accumulator\n"
        s += "/// form for, with that form's handler, first field first.\n"
        s += "func \(acc)Forms(_ index: Int) -> [(field: Int, handler: TailHandler)] {\n    switch index {\n"
        for op in ops where !op[keyPath: forms].isEmpty {
            let list = op[keyPath: forms].map { "(\(offset(op, $0)), tail_\(op.swiftName)_\(acc)_\($0))" }.joined(separator: ", ")
            s += guarded(op, "    case \(layoutIndex(op)): return [\(list)]  // \(op.name)\n")
        }
        s += "    default: return []\n    }\n}\n\n"
    }
    s += "/// The keeping forms of the op with layout index `index` (`hasKeepingForms`): the\n"
    s += "/// one that reads no operand from the accumulator (field 0), then one per x field.\n"
    s += "func xaccKeepingForms(_ index: Int) -> [(field: Int, handler: TailHandler)] {\n    switch index {\n"
    for op in ops where op.flags.contains(.hasKeepingForms) {
        let list = ["(0, tail_\(op.swiftName)_keep)"] + op.xaccForms.map { "(\(offset(op, $0)), tail_\(op.swiftName)_xacc_\($0)_keep)" }
        s += "    case \(layoutIndex(op)): return [\(list.joined(separator: ", "))]  // \(op.name)\n"
    }
    s += "    default: return []\n    }\n}\n\n"
    s += "/// Whether the op with layout index `index` writes a value it loaded from memory to its x `dst`.\n"
    s += "func xaccWriterLoads(_ index: Int) -> Bool {\n    switch index {\n"
    for op in ops where op.flags.contains(.loadsXAcc) {
        s += "    case \(layoutIndex(op)): return true  // \(op.name)\n"
    }
    s += "    default: return false\n    }\n}\n\n"
    s += "/// For an op that leaves the integer accumulator as it was (`keepsXAcc`): the field\n"
    s += "/// of the f register it writes, or 0 when it writes none; -1 for any other op.\n"
    s += "func xaccKeptField(_ index: Int) -> Int {\n    switch index {\n"
    for op in ops where op.flags.contains(.keepsXAcc) {
        let field = op.operands.first.map { $0.name == "dst" && $0.kind == .f } == true ? offset(op, "dst") : 0
        s += guarded(op, "    case \(layoutIndex(op)): return \(field)  // \(op.name)\n")
    }
    s += "    default: return -1\n    }\n}\n"
    return s
}
