import SheaveBytecode
import WasmParser
import WasmTypes

// References, tables, indirect calls and bulk memory.

private func x(_ r: UInt16) -> XReg { XReg(r) }

extension FunctionCompiler {
    func tableType(_ index: UInt32) throws(CompileError) -> TableType {
        guard Int(index) < module.tables.count else { throw failure("unknown table \(index)") }
        return module.tables[Int(index)]
    }

    func elementType(_ index: UInt32) throws(CompileError) -> ReferenceType {
        guard Int(index) < module.elements.count else { throw failure("unknown elem segment \(index)") }
        return module.elements[Int(index)].type
    }

    func checkDataIndex(_ index: UInt32) throws(CompileError) {
        guard module.dataCount != nil else { throw failure("data count section required") }
        guard Int(index) < module.data.count else { throw failure("unknown data segment \(index)") }
    }

    mutating func visitCallIndirect(typeIndex: UInt32, tableIndex: UInt32) throws(CompileError) {
        let table = try tableType(tableIndex)
        guard table.elementType == .funcRef else { throw failure("type mismatch: call_indirect needs a funcref table") }
        guard Int(typeIndex) < module.types.count else { throw failure("unknown type \(typeIndex)") }
        let callee = module.types[Int(typeIndex)]
        try check(callee.parameters + [.i32])
        for r in callee.results where !Self.isSupported(r) { throw failure(.unsupported, "value type \(r) is not supported") }
        guard isReachable else {
            drop(callee.parameters.count + 1)
            for r in callee.results { push(r) }
            return
        }
        let index = register(stack.count - 1)
        let first = stack.count - 1 - callee.parameters.count
        materializeAll(from: first)
        // The callee's frame starts at the first argument; the index is read before the call.
        guard base + first < Int(UInt16.max) else { throw failure(.unsupported, "call frame beyond 65,535 slots") }
        let frame = UInt16(base + first)
        emit { $0.callIndirect(tableIndex, typeIndex, XReg(index), frame) }
        stack.removeLast(callee.parameters.count + 1)
        for r in callee.results { push(r) }
        maxDepth = max(maxDepth, first + max(callee.parameters.count + 1, callee.results.count))
    }

    mutating func visitRefNull(type: HeapType) throws(CompileError) {
        let refType: ReferenceType
        switch type {
        case .abstract(.funcRef): refType = .funcRef
        case .abstract(.externRef): refType = .externRef
        default: throw failure(.unsupported, "reference type \(type) is not supported")
        }
        push(.ref(refType), isReachable ? .const(0) : .slot)
    }

    mutating func visitRefIsNull() throws(CompileError) {
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
        guard Int(functionIndex) < module.functionTypes.count else { throw failure("unknown function \(functionIndex)") }
        guard module.declaredFunctionReferences.contains(functionIndex) else { throw failure("undeclared function reference") }
        push(.ref(.funcRef))
        if isReachable {
            let dst = slot(stack.count - 1)
            emitWithDestination(dst) { $0.refFunc(x(dst), functionIndex) }
        }
    }

    mutating func visitTableGet(table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        try unary(.i32, .ref(type.elementType)) { (e: inout Encoder, dst, index) in e.tableGet(x(dst), table, x(index)) }
    }

    mutating func visitTableSet(table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        try op([.i32, .ref(type.elementType)], nil) { (c: inout FunctionCompiler, _, first) throws(CompileError) in
            let index = c.register(first), value = c.register(first + 1)
            c.emit { $0.tableSet(table, x(index), x(value)) }
        }
    }

    mutating func visitTableSize(table: UInt32) throws(CompileError) {
        _ = try tableType(table)
        push(.i32)
        if isReachable {
            let dst = slot(stack.count - 1)
            emitWithDestination(dst) { $0.tableSize(x(dst), table) }
        }
    }

    mutating func visitTableGrow(table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        try op([.ref(type.elementType), .i32], .i32) { (c: inout FunctionCompiler, dst, first) throws(CompileError) in
            let value = c.register(first), delta = c.register(first + 1)
            c.emitWithDestination(dst) { $0.tableGrow(x(dst), table, x(value), x(delta)) }
        }
    }

    mutating func visitTableFill(table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        try op([.i32, .ref(type.elementType), .i32], nil) { (c: inout FunctionCompiler, _, first) throws(CompileError) in
            let start = c.register(first), value = c.register(first + 1), count = c.register(first + 2)
            c.emit { $0.tableFill(table, x(start), x(value), x(count)) }
        }
    }

    mutating func visitTableCopy(dstTable: UInt32, srcTable: UInt32) throws(CompileError) {
        let to = try tableType(dstTable), from = try tableType(srcTable)
        guard to.elementType == from.elementType else { throw failure("type mismatch: table.copy between different element types") }
        try op([.i32, .i32, .i32], nil) { (c: inout FunctionCompiler, _, first) throws(CompileError) in
            let d = c.register(first), s = c.register(first + 1), n = c.register(first + 2)
            c.emit { $0.tableCopy(dstTable, srcTable, x(d), x(s), x(n)) }
        }
    }

    mutating func visitTableInit(elemIndex: UInt32, table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        let element = try elementType(elemIndex)
        guard element == type.elementType else { throw failure("type mismatch: table.init element type") }
        try op([.i32, .i32, .i32], nil) { (c: inout FunctionCompiler, _, first) throws(CompileError) in
            let d = c.register(first), s = c.register(first + 1), n = c.register(first + 2)
            c.emit { $0.tableInit(table, elemIndex, x(d), x(s), x(n)) }
        }
    }

    mutating func visitElemDrop(elemIndex: UInt32) throws(CompileError) {
        _ = try elementType(elemIndex)
        if isReachable { emit { $0.elemDrop(elemIndex) } }
    }

    mutating func visitMemoryFill(memory: UInt32) throws(CompileError) {
        try checkMemory(memory)
        try op([.i32, .i32, .i32], nil) { (c: inout FunctionCompiler, _, first) throws(CompileError) in
            let d = c.register(first), v = c.register(first + 1), n = c.register(first + 2)
            c.emit { $0.memoryFill(x(d), x(v), x(n)) }
        }
    }

    mutating func visitMemoryCopy(dstMem: UInt32, srcMem: UInt32) throws(CompileError) {
        try checkMemory(dstMem)
        try checkMemory(srcMem)
        try op([.i32, .i32, .i32], nil) { (c: inout FunctionCompiler, _, first) throws(CompileError) in
            let d = c.register(first), s = c.register(first + 1), n = c.register(first + 2)
            c.emit { $0.memoryCopy(x(d), x(s), x(n)) }
        }
    }

    mutating func visitMemoryInit(dataIndex: UInt32, memory: UInt32) throws(CompileError) {
        try checkMemory(memory)
        try checkDataIndex(dataIndex)
        try op([.i32, .i32, .i32], nil) { (c: inout FunctionCompiler, _, first) throws(CompileError) in
            let d = c.register(first), s = c.register(first + 1), n = c.register(first + 2)
            c.emit { $0.memoryInit(dataIndex, x(d), x(s), x(n)) }
        }
    }

    mutating func visitDataDrop(dataIndex: UInt32) throws(CompileError) {
        try checkDataIndex(dataIndex)
        if isReachable { emit { $0.dataDrop(dataIndex) } }
    }
}
