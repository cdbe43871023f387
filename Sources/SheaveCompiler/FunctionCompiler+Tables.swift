import SheaveBytecode
import WasmParser
import WasmTypes

// References, tables, indirect calls and bulk memory.

private func x(_ r: UInt16) -> XReg { XReg(r) }

extension FunctionCompiler {
    @inline(__always) func tableType(_ index: UInt32) throws(CompileError) -> TableType {
        guard Int(index) < module.tables.count else { throw failure("unknown table \(index)") }
        return module.tables[Int(index)]
    }

    /// The type of table `index`'s indices: i64 for a 64-bit table (table64), else i32.
    func indexType(table index: UInt32) throws(CompileError) -> ValueType {
        try tableType(index).limits.isMemory64 ? .i64 : .i32
    }

    /// The type of a copy's count between two tables or memories: i64 only when both are 64-bit.
    static func countType(_ a: ValueType, _ b: ValueType) -> ValueType { a == .i64 && b == .i64 ? .i64 : .i32 }

    func elementType(_ index: UInt32) throws(CompileError) -> ReferenceType {
        guard Int(index) < module.elements.count else { throw failure("unknown elem segment \(index)") }
        return module.elements[Int(index)].type
    }

    func checkDataIndex(_ index: UInt32) throws(CompileError) {
        guard module.dataCount != nil else { throw failure("data count section required") }
        guard Int(index) < module.data.count else { throw failure("unknown data segment \(index)") }
    }

    /// An op that consumes `inputs` and produces nothing: checks, reads each operand's
    /// register, emits `body` with them, pops.
    mutating func consume(_ inputs: [ValueType], _ body: @escaping (inout Encoder, [XReg]) -> Void) throws(CompileError) {
        try op(inputs, nil) { (c: inout FunctionCompiler, _, first) throws(CompileError) in
            let registers = (first..<first + inputs.count).map { XReg(c.register($0)) }
            c.emit { body(&$0, registers) }
        }
    }

    /// Type `index`, which must be a function type of the module.
    func functionType(at index: UInt32) throws(CompileError) -> FunctionType {
        guard Int(index) < module.types.count else { throw failure("unknown type \(index)") }
        guard let type = module.functionType(at: index) else { throw failure("type mismatch: type \(index) is not a function type") }
        return type
    }

    /// The type of an indirect call's callee, checked: a type of the module, a table of functions.
    func indirectCallee(typeIndex: UInt32, tableIndex: UInt32) throws(CompileError) -> FunctionType {
        let table = try tableType(tableIndex)
        guard module.isFunctionReference(table.elementType) else { throw failure("type mismatch: an indirect call needs a funcref table") }
        return try functionType(at: typeIndex)
    }

    mutating func visitCallIndirect(typeIndex: UInt32, tableIndex: UInt32) throws(CompileError) {
        let callee = try indirectCallee(typeIndex: typeIndex, tableIndex: tableIndex)
        try check(callee.parameters + [try indexType(table: tableIndex)])
        for r in callee.results { try requireSupported(r) }
        guard isReachable else {
            drop(callee.parameters.count + 1)
            for r in callee.results { push(r) }
            return
        }
        // The callee's frame starts at the first argument; the index, above it, is read before the call.
        let index = register(stack.count - 1)
        let frame = try prepareCall(arguments: callee.parameters.count + 1)
        emit { $0.callIndirect(tableIndex, typeIndex, XReg(index), frame) }
        finishCall(operands: callee.parameters.count + 1, arguments: Self.layout(callee.parameters).count + 1, results: callee.results)
    }

    mutating func visitRefNull(type: HeapType) throws(CompileError) {
        try require(.referenceTypes, "RefNull")
        let refType = ReferenceType(isNullable: true, heapType: type)
        try requireSupported(.ref(refType), "reference type")
        push(.ref(refType), isReachable ? .const(0) : .slot)
    }

    mutating func visitRefIsNull() throws(CompileError) {
        try require(.referenceTypes, "RefIsNull")
        guard let frame = controls.last else { throw failure("operand stack used after the function's end") }
        if stack.count > frame.height {
            switch stack[stack.count - 1].type {
            case .ref(let t)?: try unary(.ref(t), .i32) { $0.xeqz64(x($1), x($2)) }
            case nil: drop(1); push(.i32)  // the unknown type of unreachable code
            default: throw failure("type mismatch: ref.is_null needs a reference")
            }
        } else {
            try check([])
            if !frame.unreachable { throw failure("type mismatch: ref.is_null needs a reference") }
            push(.i32)
        }
    }

    mutating func visitRefFunc(functionIndex: UInt32) throws(CompileError) {
        try require(.referenceTypes, "RefFunc")
        guard Int(functionIndex) < module.functionTypes.count else { throw failure("unknown function \(functionIndex)") }
        guard module.declaredFunctionReferences.contains(functionIndex) else { throw failure("undeclared function reference") }
        let type = ReferenceType(isNullable: false, heapType: .concrete(typeIndex: module.functionTypes[Int(functionIndex)]))
        produce(.ref(type)) { $0.refFunc(x($1), functionIndex) }
    }

    mutating func visitTableGet(table: UInt32) throws(CompileError) {
        try require(.referenceTypes, "TableGet")
        let type = try tableType(table)
        try unary(try indexType(table: table), .ref(type.elementType)) { (e: inout Encoder, dst, index) in e.tableGet(x(dst), table, x(index)) }
    }

    mutating func visitTableSet(table: UInt32) throws(CompileError) {
        try require(.referenceTypes, "TableSet")
        let type = try tableType(table)
        try consume([try indexType(table: table), .ref(type.elementType)]) { $0.tableSet(table, $1[0], $1[1]) }
    }

    mutating func visitTableSize(table: UInt32) throws(CompileError) {
        try require(.referenceTypes, "TableSize")
        produce(try indexType(table: table)) { $0.tableSize(x($1), table) }
    }

    mutating func visitTableGrow(table: UInt32) throws(CompileError) {
        try require(.referenceTypes, "TableGrow")
        let type = try tableType(table), index = try indexType(table: table)
        try op([.ref(type.elementType), index], index) { (c: inout FunctionCompiler, dst, first) throws(CompileError) in
            let value = c.register(first), delta = c.register(first + 1)
            c.emitWithDestination(dst) { $0.tableGrow(x(dst), table, x(value), x(delta)) }
        }
    }

    mutating func visitTableFill(table: UInt32) throws(CompileError) {
        try require(.referenceTypes, "TableFill")
        let type = try tableType(table)
        let index = try indexType(table: table)
        try consume([index, .ref(type.elementType), index]) { $0.tableFill(table, $1[0], $1[1], $1[2]) }
    }

    mutating func visitTableCopy(dstTable: UInt32, srcTable: UInt32) throws(CompileError) {
        try require(.bulkMemory, "TableCopy")
        let to = try tableType(dstTable), from = try tableType(srcTable)
        guard module.isSubtype(.ref(from.elementType), of: .ref(to.elementType)) else { throw failure("type mismatch: table.copy between different element types") }
        let d = try indexType(table: dstTable), s = try indexType(table: srcTable)
        try consume([d, s, Self.countType(d, s)]) { $0.tableCopy(dstTable, srcTable, $1[0], $1[1], $1[2]) }
    }

    mutating func visitTableInit(elemIndex: UInt32, table: UInt32) throws(CompileError) {
        try require(.bulkMemory, "TableInit")
        let type = try tableType(table)
        let element = try elementType(elemIndex)
        guard module.isSubtype(.ref(element), of: .ref(type.elementType)) else { throw failure("type mismatch: table.init element type") }
        try consume([try indexType(table: table), .i32, .i32]) { $0.tableInit(table, elemIndex, $1[0], $1[1], $1[2]) }
    }

    mutating func visitElemDrop(elemIndex: UInt32) throws(CompileError) {
        try require(.bulkMemory, "ElemDrop")
        _ = try elementType(elemIndex)
        if isReachable { emit { $0.elemDrop(elemIndex) } }
    }

    mutating func visitMemoryFill(memory: UInt32) throws(CompileError) {
        try require(.bulkMemory, "MemoryFill")
        let address = try addressType(memory: memory)
        if Self.hasFastOps(memory, address) {
            try consume([.i32, .i32, .i32]) { $0.memoryFill($1[0], $1[1], $1[2]) }
        } else {
            try consume([address, .i32, address]) { $0.memoryFillM(memory, $1[0], $1[1], $1[2]) }
        }
    }

    mutating func visitMemoryCopy(dstMem: UInt32, srcMem: UInt32) throws(CompileError) {
        try require(.bulkMemory, "MemoryCopy")
        let d = try addressType(memory: dstMem), s = try addressType(memory: srcMem)
        if Self.hasFastOps(dstMem, d) && Self.hasFastOps(srcMem, s) {
            try consume([.i32, .i32, .i32]) { $0.memoryCopy($1[0], $1[1], $1[2]) }
        } else {
            try consume([d, s, Self.countType(d, s)]) { $0.memoryCopyM(dstMem, srcMem, $1[0], $1[1], $1[2]) }
        }
    }

    mutating func visitMemoryInit(dataIndex: UInt32, memory: UInt32) throws(CompileError) {
        try require(.bulkMemory, "MemoryInit")
        let address = try addressType(memory: memory)
        try checkDataIndex(dataIndex)
        if Self.hasFastOps(memory, address) {
            try consume([.i32, .i32, .i32]) { $0.memoryInit(dataIndex, $1[0], $1[1], $1[2]) }
        } else {
            try consume([address, .i32, .i32]) { $0.memoryInitM(memory, dataIndex, $1[0], $1[1], $1[2]) }
        }
    }

    mutating func visitDataDrop(dataIndex: UInt32) throws(CompileError) {
        try require(.bulkMemory, "DataDrop")
        try checkDataIndex(dataIndex)
        if isReachable { emit { $0.dataDrop(dataIndex) } }
    }
}

// Typed function references: ref.as_non_null, br_on_null, br_on_non_null, call_ref.
extension FunctionCompiler {
    /// The reference type on top of the stack, or nil for an unreachable stack's unknown bottom.
    func topReference() throws(CompileError) -> ReferenceType? {
        guard let frame = controls.last else { throw failure("operand stack used after the function's end") }
        if stack.count <= frame.height {
            if frame.unreachable { return nil }
            throw failure("type mismatch: expected a reference but the stack is empty")
        }
        switch stack[stack.count - 1].type {
        case .ref(let ref)?: return ref
        case nil: return nil
        default: throw failure("type mismatch: expected a reference")
        }
    }

    mutating func visitRefAsNonNull() throws(CompileError) {
        try require(.functionReferences, "RefAsNonNull")
        let ref = try topReference()
        guard let ref else { return }
        if isReachable {
            let r = register(stack.count - 1)
            let ok = e.makeLabel()
            emit { $0.brIfXnez64(x(r), ok) }
            emit { $0.trap(.nullReference) }
            bind(ok)
        }
        stack[stack.count - 1].type = .ref(ReferenceType(isNullable: false, heapType: ref.heapType))
    }

    mutating func visitBrOnNull(relativeDepth: UInt32) throws(CompileError) {
        try require(.functionReferences, "BrOnNull")
        let depth = try branchTarget(relativeDepth)
        let ref = try topReference()
        let reachable = isReachable
        var r: UInt16 = 0
        if reachable, ref != nil { r = register(stack.count - 1) }
        let entry = ref != nil ? stack.removeLast() : nil
        let target = controls[controls.count - 1 - depth]
        try check(target.labelTypes)
        retype(target.labelTypes, below: 0)
        if reachable {
            let skip = e.makeLabel()
            emit { $0.brIfXnez64(x(r), skip) }
            branch(to: depth)
            bind(skip)
        }
        if let entry, let ref {
            stack.append(Entry(type: .ref(ReferenceType(isNullable: false, heapType: ref.heapType)), location: entry.location, slot: entry.slot))
        } else {
            push(nil)
        }
    }

    mutating func visitBrOnNonNull(relativeDepth: UInt32) throws(CompileError) {
        try require(.functionReferences, "BrOnNonNull")
        let depth = try branchTarget(relativeDepth)
        let target = controls[controls.count - 1 - depth]
        guard case .ref(let labelRef)? = target.labelTypes.last else { throw failure("type mismatch: br_on_non_null needs a label ending in a reference") }
        let ref = try topReference()
        if let ref {
            stack[stack.count - 1].type = .ref(ReferenceType(isNullable: false, heapType: ref.heapType))
        }
        try check(target.labelTypes.dropLast() + [.ref(labelRef)])
        if stack.count <= frameHeight { push(nil) }  // the reference, from an unreachable stack's bottom
        retype(Array(target.labelTypes.dropLast()), below: 1)
        if isReachable, ref != nil {
            let r = register(stack.count - 1)
            let skip = e.makeLabel()
            emit { $0.brIfXeqz64(x(r), skip) }
            branch(to: depth)
            bind(skip)
        }
        drop(1)
    }

    mutating func visitCallRef(typeIndex: UInt32) throws(CompileError) {
        try require(.functionReferences, "CallRef")
        let callee = try functionType(at: typeIndex)
        let refType = ValueType.ref(ReferenceType(isNullable: true, heapType: .concrete(typeIndex: typeIndex)))
        try check(callee.parameters + [refType])
        guard isReachable else {
            drop(callee.parameters.count + 1)
            for r in callee.results { push(r) }
            return
        }
        let ref = register(stack.count - 1)
        let frame = try prepareCall(arguments: callee.parameters.count + 1)
        emit { $0.callRef(x(ref), frame) }
        finishCall(operands: callee.parameters.count + 1, arguments: Self.layout(callee.parameters).count + 1, results: callee.results)
    }

    mutating func visitReturnCallIndirect(typeIndex: UInt32, tableIndex: UInt32) throws(CompileError) {
        let callee = try indirectCallee(typeIndex: typeIndex, tableIndex: tableIndex)
        try checkTailCall(callee)
        try check(callee.parameters + [try indexType(table: tableIndex)])
        guard isReachable else { return markUnreachable() }
        let index = register(stack.count - 1)
        let frame = try prepareCall(arguments: callee.parameters.count + 1)
        let arguments = Self.layout(callee.parameters).count
        emit { $0.returnCallIndirect(tableIndex, typeIndex, XReg(index), frame, Self.slot16(arguments)) }
        // Reached only when the callee was called, not entered in place of this function.
        returnAfterCall(operands: callee.parameters.count + 1, arguments: arguments + 1, results: callee.results)
    }

    mutating func visitReturnCallRef(typeIndex: UInt32) throws(CompileError) {
        try require(.functionReferences, "ReturnCallRef")
        let callee = try functionType(at: typeIndex)
        try checkTailCall(callee)
        let refType = ValueType.ref(ReferenceType(isNullable: true, heapType: .concrete(typeIndex: typeIndex)))
        try check(callee.parameters + [refType])
        guard isReachable else { return markUnreachable() }
        let ref = register(stack.count - 1)
        let frame = try prepareCall(arguments: callee.parameters.count + 1)
        let arguments = Self.layout(callee.parameters).count
        emit { $0.returnCallRef(x(ref), frame, Self.slot16(arguments)) }
        returnAfterCall(operands: callee.parameters.count + 1, arguments: arguments + 1, results: callee.results)
    }

    /// Gives the operands a conditional branch leaves the types of its label
    /// (the `types.count` entries below the top `below` ones): a value that falls
    /// through has the label's type, not its own, which may be a subtype (the
    /// spec's rule, GC issue 516). Where they came from an unreachable stack's
    /// polymorphic bottom, the label's types are pushed instead.
    mutating func retype(_ types: [ValueType], below: Int) {
        let height = frameHeight
        let kept = min(below, max(0, stack.count - height))
        if stack.count - kept - height < types.count {
            // Unreachable code (validation passed on the polymorphic bottom): no slot is read.
            let top = Array(stack.suffix(kept))
            stack.removeLast(stack.count - height)
            for t in types { push(t) }
            for entry in top { push(entry.type, entry.location) }
        } else {
            for (k, t) in types.enumerated() { stack[stack.count - kept - types.count + k].type = t }
        }
    }
}
