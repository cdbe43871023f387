import SheaveBytecode
import WasmParser
import WasmTypes

// Blocks, branches, calls and returns.
//
// At every block boundary the whole operand stack is in canonical slots, so
// all paths into a label agree on where each value is. A branch carrying
// values copies them into the target's canonical slots (from higher slots to
// lower ones, so ascending order never overwrites a value not yet copied).

extension FunctionCompiler {
    func blockSignature(_ blockType: BlockType) throws(CompileError) -> (params: [ValueType], results: [ValueType]) {
        if case .funcType(let index) = blockType, let type = module.functionType(at: index) {
            if !type.parameters.isEmpty || type.results.count > 1 { try require(.multiValue, "a block with parameters or several results") }
        }
        switch blockType {
        case .empty: return ([], [])
        case .type(let t):
            try requireSupported(t)
            return ([], [t])
        case .funcType(let index):
            let type = try functionType(at: index)
            return (type.parameters, type.results)
        }
    }

    mutating func enter(_ kind: Control.Kind, _ blockType: BlockType) throws(CompileError) -> Control {
        entryIsStraightLine = false
        let (params, results) = try blockSignature(blockType)
        try check(params)
        if isReachable { materializeAll() }
        if !isReachable {
            // Make the parameters concrete entries of the new frame. The polymorphic
            // stack may hold fewer values than the parameters: the height is taken
            // after they are pushed, never below the enclosing block's.
            drop(params.count)
            for p in params { push(p) }
        }
        let height = stack.count - params.count
        for i in height..<stack.count { stack[i].type = params[i - height] }
        return Control(kind: kind, params: params, results: results, height: height, unreachable: false, label: e.makeLabel(),
                       initializedLocals: initializedLocals)
    }

    mutating func visitBlock(blockType: BlockType) throws(CompileError) {
        var frame = try enter(.block, blockType)
        frame.dead = !isReachable
        controls.append(frame)
    }

    mutating func visitLoop(blockType: BlockType) throws(CompileError) {
        var frame = try enter(.loop, blockType)
        frame.dead = !isReachable
        controls.append(frame)
        loopDepth += 1
        bind(frame.label)
        // Each iteration passes the loop header: the place to consume fuel and notice interruption.
        if checkpoints && isReachable { emit { $0.checkpoint(1) } }
    }

    mutating func visitIf(blockType: BlockType) throws(CompileError) {
        try check([.i32])
        let reachable = isReachable
        let condition = reachable ? register(stack.count - 1) : 0
        let conditionSlot = stack.isEmpty ? 0 : stack[stack.count - 1].slot
        drop(1)
        var frame = try enter(.if, blockType)
        let elseLabel = e.makeLabel()
        frame.elseLabel = elseLabel
        if reachable {
            // The false branch needs the parameters as they are now: keep a copy.
            for (k, p) in frame.params.enumerated() {
                let late = lateSlots
                lateSlots += Self.width(p)
                frame.savedParams.append(late)
                move(p, to: 0, from: slot(frame.height + k))
                lateSlotFields.append((field: e.position - 4, late: late))  // encoded: no fusion moves it
            }
            emitBranch(on: condition, whenTrue: false, to: elseLabel, consuming: conditionSlot)
        }
        frame.dead = !reachable
        controls.append(frame)
    }

    mutating func visitElse() throws(CompileError) {
        guard var frame = controls.last, frame.kind == .if else { throw failure(.malformed, "else without if") }
        try checkExact(frame.results, frame)
        if frame.emits {
            materializeAll(from: frame.height)
            emitJump(to: frame.label)
        }
        bind(frame.elseLabel!)
        frame.elseLabel = nil
        frame.kind = .else
        initializedLocals = frame.initializedLocals
        stack.removeLast(stack.count - frame.height)
        let parent = controls[controls.count - 2]
        let parentReachable = !parent.unreachable && !parent.dead
        frame.unreachable = false
        frame.dead = !parentReachable
        // Restore the parameters the true branch may have consumed.
        for (k, p) in frame.params.enumerated() {
            push(p)
            if parentReachable {
                move(p, to: slot(frame.height + k), from: 0)
                lateSlotFields.append((field: e.position - 2, late: frame.savedParams[k]))  // encoded: no fusion moves it
            }
        }
        controls[controls.count - 1] = frame
    }

    /// The stack holds exactly `types` above the frame's height (or the frame is unreachable).
    func checkExact(_ types: [ValueType], _ frame: Control) throws(CompileError) {
        try check(types)
        if stack.count - frame.height > types.count {
            throw failure("type mismatch: \(stack.count - frame.height - types.count) value(s) left on the stack at the end of a block")
        }
    }

    mutating func visitEnd() throws(CompileError) {
        guard let frame = controls.last else { throw failure(.malformed, "unexpected end") }
        try checkExact(frame.results, frame)
        if frame.kind == .function {
            if frame.emits { emitReturn() }
            controls.removeLast()
            bind(frame.label)
            return
        }
        if frame.kind == .if, frame.params != frame.results {
            throw failure("type mismatch: if without else must leave its parameters as its results")
        }
        if frame.kind == .tryTable { closeTryTable(frame) }
        if frame.emits { materializeAll(from: frame.height) }
        if frame.kind == .loop { loopDepth -= 1 } else { bind(frame.label) }
        if let elseLabel = frame.elseLabel {
            // An `if` without `else`: the false branch passes its parameters through.
            if frame.params.isEmpty || frame.savedParams.isEmpty {
                bind(elseLabel)
            } else {
                let skip = e.makeLabel()
                emitJump(to: skip)
                bind(elseLabel)
                let first = slotAt(frame.height), offsets = Self.layout(frame.params).slots
                for (k, p) in frame.params.enumerated() {
                    move(p, to: Self.slot16(first + offsets[k]), from: 0)
                    lateSlotFields.append((field: e.position - 2, late: frame.savedParams[k]))  // encoded: no fusion moves it
                }
                bind(skip)
            }
        }
        controls.removeLast()
        initializedLocals = frame.initializedLocals
        stack.removeLast(stack.count - frame.height)
        for r in frame.results { push(r) }
    }

    /// Copies the top values a branch to `target` carries into its canonical slots
    /// (or, for the function, into the result slots 0...) without changing the stack.
    mutating func emitBranchValues(to depth: Int) {
        let frame = controls[controls.count - 1 - depth]
        let count = frame.labelTypes.count
        let first = stack.count - count
        let targetBase = frame.kind == .function ? 0 : slotAt(frame.height)
        let targetOffsets = Self.layout(frame.labelTypes).slots
        // Results go to slots 0..., which are locals: a value still lazily in a
        // local could be overwritten before it is copied. Copy such values to
        // their canonical slots first (above every local), without changing the
        // stack's state: this code runs on the branch's path only.
        var sources: [Int?] = (0..<count).map { _ in nil }
        if frame.kind == .function && count > 1 {
            for k in 0..<count {
                if case .local(let l) = stack[first + k].location {
                    let canonical = slot(first + k)
                    move(stack[first + k].type, to: canonical, from: l)
                    sources[k] = Int(canonical)
                }
            }
        }
        for k in 0..<count {
            let target = Self.slot16(targetBase + targetOffsets[k])
            if let source = sources[k] {
                if source != Int(target) { move(stack[first + k].type, to: target, from: Self.slot16(source)) }
            } else {
                copy(first + k, to: target)
            }
        }
    }

    mutating func emitReturn() {
        // A single result the last op just wrote: that op writes slot 0 instead (nothing
        // runs between it and the return, and every op reads its operands before writing).
        if type.results.count == 1, stack.count > frameHeight, stack[stack.count - 1].location == .slot,
           e.retargetDestination(from: slot(stack.count - 1), to: 0) {
            emit { $0.ret() }
            return
        }
        emitBranchValues(to: controls.count - 1)
        emit { $0.ret() }
    }

    @inline(__always) func branchTarget(_ relativeDepth: UInt32) throws(CompileError) -> Int {
        guard Int(relativeDepth) < controls.count else { throw failure("unknown label \(relativeDepth)") }
        return Int(relativeDepth)
    }

    mutating func markUnreachable() {
        entryIsStraightLine = false
        let frame = controls[controls.count - 1]
        stack.removeLast(stack.count - frame.height)
        controls[controls.count - 1].unreachable = true
    }

    mutating func visitBr(relativeDepth: UInt32) throws(CompileError) {
        let depth = try branchTarget(relativeDepth)
        let target = controls[controls.count - 1 - depth]
        try check(target.labelTypes)
        if isReachable { branch(to: depth) }
        markUnreachable()
    }

    mutating func visitBrIf(relativeDepth: UInt32) throws(CompileError) {
        let depth = try branchTarget(relativeDepth)
        let target = controls[controls.count - 1 - depth]
        try check([.i32])
        let reachable = isReachable
        let condition = reachable ? register(stack.count - 1) : 0
        let conditionSlot = stack.isEmpty ? 0 : stack[stack.count - 1].slot
        drop(1)
        try check(target.labelTypes)
        // br_if leaves its label's types on the stack: not the operands' own (sub)types,
        // and not unknown ones where it popped from an unreachable stack's bottom.
        retype(target.labelTypes, below: 0)
        guard reachable else { return }
        let count = target.labelTypes.count
        let inPlace = target.kind != .function && stack.count - count == target.height
            && (stack.count - count..<stack.count).allSatisfy { stack[$0].location == .slot }
        if inPlace {
            emitBranch(on: condition, whenTrue: true, to: target.label, consuming: conditionSlot)
        } else {
            let skip = e.makeLabel()
            emitBranch(on: condition, whenTrue: false, to: skip, consuming: conditionSlot)
            branch(to: depth)
            bind(skip)
        }
    }

    mutating func visitBrTable(targets: BrTable) throws(CompileError) {
        try check([.i32])
        let reachable = isReachable
        var index: UInt16 = 0
        if reachable { index = register(stack.count - 1) }
        drop(1)
        let depths = try (targets.labelIndices + [targets.defaultIndex]).map { (d: UInt32) throws(CompileError) in try branchTarget(d) }
        let arity = controls[controls.count - 1 - depths.last!].labelTypes.count
        for depth in depths {
            let types = controls[controls.count - 1 - depth].labelTypes
            guard types.count == arity else { throw failure("type mismatch: br_table targets have different arities") }
            try check(types)
        }
        if reachable {
            // Each target gets a stub that copies the values and jumps (or returns);
            // a target block that takes no values is branched to directly (a stub
            // would be a lone jump: one more dispatch per br_table).
            var stubs: [Label] = []
            var stubFor: [Int: Label] = [:]
            for depth in depths {
                let target = controls[controls.count - 1 - depth]
                if arity == 0 && target.kind != .function {
                    stubs.append(target.label)
                    continue
                }
                if let existing = stubFor[depth] { stubs.append(existing); continue }
                let stub = e.makeLabel()
                stubFor[depth] = stub
                stubs.append(stub)
            }
            emit { $0.brTable32(XReg(index), stubs) }
            for (depth, stub) in stubFor.sorted(by: { $0.key < $1.key }) {
                bind(stub)
                branch(to: depth)
            }
        }
        markUnreachable()
    }

    /// Emits the moves and the jump (or return) of a branch to the block `depth` levels out.
    mutating func branch(to depth: Int) {
        let target = controls[controls.count - 1 - depth]
        if target.kind == .function {
            emitReturn()
        } else {
            emitBranchValues(to: depth)
            emitJump(to: target.label)
        }
    }

    /// Writes a call's arguments (the top `count` entries) to their canonical slots
    /// and returns the callee's frame offset: the first argument's slot.
    mutating func prepareCall(arguments count: Int) throws(CompileError) -> UInt16 {
        let first = stack.count - count
        materializeAll(from: first)
        let frame = slotAt(first)
        guard frame < Int(UInt16.max) else { throw failure(.unsupported, "call frame beyond 65,535 slots") }
        return UInt16(frame)
    }

    /// Replaces a call's operands with its results and makes room in the frame for the callee's window.
    /// `arguments` counts the slots the callee's window takes from its first argument.
    mutating func finishCall(operands: Int, arguments: Int, results: [ValueType]) {
        let first = stack.count - operands
        let frame = slotAt(first)
        stack.removeLast(operands)
        for r in results { push(r) }
        maxDepth = max(maxDepth, frame - base + max(arguments, Self.layout(results).count))
    }

    mutating func visitReturn() throws(CompileError) {
        try check(type.results)
        if isReachable { emitReturn() }
        markUnreachable()
    }

    mutating func visitUnreachable() throws(CompileError) {
        if isReachable { emit { $0.trap(.unreachable) } }
        markUnreachable()
    }

    mutating func visitNop() throws(CompileError) {}

    mutating func visitCall(functionIndex: UInt32) throws(CompileError) {
        try visitCall(functionIndex: functionIndex, tail: false)
    }

    /// A call; `tail`: a `return_call` of an import (`return_call_host`).
    mutating func visitCall(functionIndex: UInt32, tail: Bool) throws(CompileError) {
        guard Int(functionIndex) < module.functionTypes.count else { throw failure("unknown function \(functionIndex)") }
        let callee = module.functionType(Int(functionIndex))
        try check(callee.parameters)
        for r in callee.results { try requireSupported(r) }
        guard isReachable else {
            drop(callee.parameters.count)
            for r in callee.results { push(r) }
            return
        }
        let frame = try prepareCall(arguments: callee.parameters.count)
        if Int(functionIndex) < module.importedFunctionCount {
            let slots = Self.slot16(max(Self.layout(callee.parameters).count, Self.layout(callee.results).count))
            if tail {
                emit { $0.returnCallHost(functionIndex, frame, slots) }
            } else {
                emit { $0.callHost(functionIndex, frame, slots) }
            }
        } else if callsByReference(functionIndex) {
            emit { $0.callFunc(functionIndex, frame) }
        } else {
            let start = e.position
            emit { $0.call(PcRelOffset(0), frame) }
            callSites.append((instructionStart: start, callee: Int(functionIndex)))
        }
        finishCall(operands: callee.parameters.count, arguments: Self.layout(callee.parameters).count, results: callee.results)
    }

    /// Compiled alone (`CompileOptions.lazy`), a function's code lies apart from its
    /// callees', so a direct call to another defined function goes through the
    /// callee's reference (`call_func`, `return_call_func`): the VM enters it
    /// directly once it is compiled, and the host compiles it and makes the call
    /// until then. A call to the function itself stays pc-relative.
    func callsByReference(_ functionIndex: UInt32) -> Bool {
        lazy && Int(functionIndex) != index
    }

    // MARK: Tail calls

    /// Checks that tail calls are on and that the callee's results are this
    /// function's (each a subtype of the one it returns as).
    func checkTailCall(_ callee: FunctionType) throws(CompileError) {
        try require(.tailCall, "a tail call")
        guard callee.results.count == type.results.count,
              zip(callee.results, type.results).allSatisfy({ module.isSubtype($0, of: $1) }) else {
            throw failure("type mismatch: a tail call's callee returns \(callee.results), the function \(type.results)")
        }
    }

    /// After a tail call whose callee may run as an ordinary call (a host or
    /// another instance's function): its results, on the stack, returned.
    mutating func returnAfterCall(operands: Int, arguments: Int, results: [ValueType]) {
        finishCall(operands: operands, arguments: arguments, results: results)
        emitReturn()
        markUnreachable()
    }

    mutating func visitReturnCall(functionIndex: UInt32) throws(CompileError) {
        guard Int(functionIndex) < module.functionTypes.count else { throw failure("unknown function \(functionIndex)") }
        let callee = module.functionType(Int(functionIndex))
        try checkTailCall(callee)
        if Int(functionIndex) < module.importedFunctionCount {
            // An import (the host's, or another instance's): the host makes the call in
            // this one's place when the host entered this frame; else it is an ordinary
            // call, and the code after it returns its results.
            try visitCall(functionIndex: functionIndex, tail: true)
            if isReachable { emitReturn() }
            return markUnreachable()
        }
        try check(callee.parameters)
        guard isReachable else { return markUnreachable() }
        let frame = try prepareCall(arguments: callee.parameters.count)
        let arguments = Self.layout(callee.parameters).count
        if callsByReference(functionIndex) {
            emit { $0.returnCallFunc(functionIndex, frame, Self.slot16(arguments)) }
            // Reached only when the callee was called, not entered in place of this function.
            return returnAfterCall(operands: callee.parameters.count, arguments: arguments, results: callee.results)
        }
        let start = e.position
        emit { $0.returnCall(PcRelOffset(0), frame, Self.slot16(arguments)) }
        callSites.append((instructionStart: start, callee: Int(functionIndex)))
        // The arguments' window lies in this frame until they move.
        maxDepth = max(maxDepth, Int(frame) - base + arguments)
        stack.removeLast(callee.parameters.count)
        markUnreachable()
    }

    // MARK: Exceptions

    /// `throw`: the payload's values go to a window at the top of the frame, as a
    /// call's arguments do, and `throw_exception` names it.
    mutating func visitThrow(tagIndex: UInt32) throws(CompileError) {
        try require(.exceptions, "throw")
        guard Int(tagIndex) < module.tags.count else { throw failure("unknown tag \(tagIndex)") }
        let payload = module.types[Int(module.tags[Int(tagIndex)])].parameters
        try check(payload)
        guard isReachable else { return markUnreachable() }
        let frame = try prepareCall(arguments: payload.count)
        let slots = Self.layout(payload).count
        emit { $0.throwException(tagIndex, frame, Self.slot16(slots)) }
        maxDepth = max(maxDepth, Int(frame) - base + slots)
        stack.removeLast(payload.count)
        markUnreachable()
    }

    /// `try_table`: a block whose code (the region from here to its `end`) has
    /// catch clauses. Nothing is emitted for them here: each becomes a side-table
    /// entry (`ExceptionHandler`) and a landing after the function's code, which
    /// the VM enters when an exception the clause catches is thrown in the region.
    mutating func visitTryTable(blockType: BlockType, tryCatch: TryCatch) throws(CompileError) {
        try require(.exceptions, "try_table")
        // The clauses' labels are those around the try_table: checked before its own is pushed.
        var clauses: [(kind: ExceptionHandler.Kind, tag: UInt32, values: [ValueType], depth: Int)] = []
        for clause in tryCatch.catches {
            let kind: ExceptionHandler.Kind, tag: UInt32, label: UInt32
            switch clause {
            case .catch(let t, let l): (kind, tag, label) = (.catch, t, l)
            case .catchRef(let t, let l): (kind, tag, label) = (.catchRef, t, l)
            case .catchAll(let l): (kind, tag, label) = (.catchAll, 0, l)
            case .catchAllRef(let l): (kind, tag, label) = (.catchAllRef, 0, l)
            }
            var values: [ValueType] = []
            if kind.hasTag {
                guard Int(tag) < module.tags.count else { throw failure("unknown tag \(tag)") }
                values = module.types[Int(module.tags[Int(tag)])].parameters
            }
            if kind.passesReference { values.append(.ref(ReferenceType(isNullable: false, heapType: .abstract(.exnRef)))) }
            let depth = try branchTarget(label)
            let expected = controls[controls.count - 1 - depth].labelTypes
            guard values.count == expected.count, zip(values, expected).allSatisfy({ module.isSubtype($0, of: $1) }) else {
                throw failure("type mismatch: a catch clause passes \(values) to a label of \(expected)")
            }
            clauses.append((kind, tag, values, depth))
        }
        let reachable = isReachable
        var frame = try enter(.tryTable, blockType)
        frame.dead = !reachable
        controls.append(frame)
        guard reachable else { return }
        // The VM writes a clause's values from the try_table's stack base: what is
        // above it is dead once the exception lands.
        let window = slotAt(frame.height)
        var pending: [PendingCatch] = []
        for clause in clauses {
            // The target is the block `depth` labels out from the try_table (one more now it is pushed).
            let target = controls[controls.count - 2 - clause.depth]
            let types = target.labelTypes
            let targetBase = target.kind == .function ? 0 : slotAt(target.height)
            let offsets = Self.layout(types).slots
            let moves = types.indices.map { k in (type: types[k], to: Self.slot16(targetBase + offsets[k]), from: Self.slot16(window + offsets[k])) }
            let payloadSlots = clause.kind.hasTag ? Self.layout(Array(clause.values.dropLast(clause.kind.passesReference ? 1 : 0))).count : 0
            let entry = ExceptionHandler(start: 0, end: 0, kind: clause.kind, tag: clause.tag, slot: Self.slot16(window),
                                         payloadSlots: Self.slot16(payloadSlots), landing: 0)
            pending.append(PendingCatch(clause: entry, moves: moves, target: target.kind == .function ? nil : target.label))
            maxDepth = max(maxDepth, window - base + Self.layout(clause.values).count)
        }
        // A region starts at an op boundary: no op before it fuses with one inside.
        openTryTables.append((start: e.position, catches: pending))
    }

    /// At a `try_table`'s `end`: its clauses cover the code from its start to here.
    mutating func closeTryTable(_ frame: Control) {
        guard !frame.dead, let open = openTryTables.popLast() else { return }
        for var pending in open.catches {
            (pending.clause.start, pending.clause.end) = (UInt32(open.start), UInt32(e.position))
            catches.append(pending)
        }
    }

    /// After the function's code, each clause's landing: the moves of its values
    /// from the window to the target label's slots, then the branch. The VM enters
    /// it with the accumulators empty (`CodeImage` treats it as an entry).
    mutating func emitLandings() {
        for k in catches.indices {
            catches[k].clause.landing = UInt32(e.position)
            for move in catches[k].moves where move.to != move.from { self.move(move.type, to: move.to, from: move.from) }
            if let target = catches[k].target { emitJump(to: target) } else { emit { $0.ret() } }
        }
    }

    /// `throw_ref`: throws again the exception an `exnref` names; null traps.
    mutating func visitThrowRef() throws(CompileError) {
        try require(.exceptions, "throw_ref")
        try check([.ref(.exnRef)])
        guard isReachable else { return markUnreachable() }
        let reference = register(stack.count - 1)
        emit { $0.throwRef(XReg(reference)) }
        markUnreachable()
    }

    mutating func visitDrop() throws(CompileError) {
        _ = try popAny()
    }

    mutating func visitSelect() throws(CompileError) {
        try check([.i32])
        guard stack.count >= frameHeight + 3 || !isReachable else {
            throw failure("type mismatch: select needs three operands")
        }
        let n = stack.count
        // Both values must have one numeric type.
        let a = n - 3 >= frameHeight ? stack[n - 3].type : nil
        let b = n - 2 >= frameHeight ? stack[n - 2].type : nil
        let type = a ?? b
        if let t = type {
            if case .ref = t { throw failure("type mismatch: select without a type needs numeric operands") }
        }
        if let a, let b, a != b { throw failure("type mismatch: select operands differ (\(a), \(b))") }
        try selectTyped(type)
    }

    mutating func visitTypedSelect(type: ValueType) throws(CompileError) {
        try require(.referenceTypes, "typed select")
        try requireSupported(type)
        try check([type, type, .i32])
        try selectTyped(type)
    }

    private mutating func selectTyped(_ type: ValueType?) throws(CompileError) {
        if isReachable, stack.count >= 3 {
            // A select on an `eqz` or on a bit test fuses with it by the encoder's rules.
            let first = stack.count - 3
            e.reusableFrom = stack[first].slot
            let dst = slot(first)
            let a = register(first), b = register(first + 1), c = register(first + 2)
            if stack[first].type == .v128 {
                emitWithDestination(dst) { $0.vselect(VReg(dst), XReg(c), VReg(a), VReg(b)) }
            } else {
                emitWithDestination(dst) { $0.xselect(XReg(dst), XReg(c), XReg(a), XReg(b)) }
            }
            stack.removeLast(3)
            push(type)
        } else {
            drop(3)
            push(type)
        }
    }
}
