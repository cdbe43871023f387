import SheaveBytecode
import WasmParser
import WasmTypes

// Locals, globals, constants and memory.

extension FunctionCompiler {
    /// The slot of local `index`, and its type.
    @inline(__always) func local(_ index: UInt32) throws(CompileError) -> (slot: UInt16, type: ValueType) {
        guard Int(index) < locals.count else { throw failure("unknown local \(index)") }
        return (UInt16(localSlots[Int(index)]), locals[Int(index)])
    }

    /// A local whose type has no default value (a non-nullable reference) must be set before it is read.
    func isDefaultable(_ type: ValueType) -> Bool {
        if case .ref(let ref) = type { return ref.isNullable }
        return true
    }

    mutating func visitLocalGet(localIndex: UInt32) throws(CompileError) {
        let (l, localType) = try local(localIndex)
        if Int(localIndex) >= type.parameters.count, !isDefaultable(localType), !initializedLocals.contains(localIndex) {
            throw failure("uninitialized local \(localIndex)")
        }
        if entryIsStraightLine { readAtEntry.insert(localIndex) }
        push(localType, isReachable ? .local(l) : .slot)
    }

    mutating func visitLocalSet(localIndex: UInt32) throws(CompileError) {
        let (l, localType) = try local(localIndex)
        try check([localType])
        noteWrite(localIndex)
        if isReachable { store(top: stack.count - 1, into: l) }
        drop(1)
        initializedLocals.insert(localIndex)
    }

    mutating func visitLocalTee(localIndex: UInt32) throws(CompileError) {
        let (l, type) = try local(localIndex)
        try check([type])
        noteWrite(localIndex)
        initializedLocals.insert(localIndex)
        if isReachable {
            store(top: stack.count - 1, into: l)
            stack[stack.count - 1].type = type
            stack[stack.count - 1].location = .local(l)
        } else {
            drop(1)
            push(type)
        }
    }

    /// Writes the stack entry `i` into local `l`: retargets the op that produced it when
    /// possible (`local.set` fused into the producer), else emits a move or a constant.
    private mutating func store(top i: Int, into l: UInt16) {
        let entry = stack[i]
        if entry.location == .local(l) { return }  // local.get x; local.set x
        let copiesOfL = stack.indices.contains { $0 != i && stack[$0].location == .local(l) }
        if entry.location == .slot, !copiesOfL, e.retargetDestination(from: slot(i), to: l) {
            return
        }
        materializeCopies(of: l)
        switch stack[i].location {
        case .slot: move(entry.type, to: l, from: slot(i))
        case .local(let source): move(entry.type, to: l, from: source)
        case .const(let bits): emitConst(bits, type: entry.type, into: l)
        }
    }

    mutating func visitGlobalGet(globalIndex: UInt32) throws(CompileError) {
        guard Int(globalIndex) < module.globals.count else { throw failure("unknown global \(globalIndex)") }
        let type = module.globals[Int(globalIndex)].valueType
        try requireSupported(type)
        if type == .v128 {
            produce(type) { $0.vglobalGet(VReg($1), globalIndex) }
        } else {
            produce(type) { $0.globalGet(XReg($1), globalIndex) }
        }
    }

    mutating func visitGlobalSet(globalIndex: UInt32) throws(CompileError) {
        guard Int(globalIndex) < module.globals.count else { throw failure("unknown global \(globalIndex)") }
        let global = module.globals[Int(globalIndex)]
        guard global.mutability == .variable else { throw failure("global is immutable") }
        try check([global.valueType])
        if isReachable {
            let src = register(stack.count - 1)
            if global.valueType == .v128 {
                emit { $0.vglobalSet(globalIndex, VReg(src)) }
            } else {
                emit { $0.globalSet(globalIndex, XReg(src)) }
            }
        }
        drop(1)
    }

    // MARK: Constants

    mutating func visitI32Const(value: Int32) throws(CompileError) {
        push(.i32, isReachable ? .const(UInt64(UInt32(bitPattern: value))) : .slot)
    }
    mutating func visitI64Const(value: Int64) throws(CompileError) {
        push(.i64, isReachable ? .const(UInt64(bitPattern: value)) : .slot)
    }
    mutating func visitF32Const(value: IEEE754.Float32) throws(CompileError) {
        push(.f32, isReachable ? .const(UInt64(value.bitPattern)) : .slot)
    }
    mutating func visitF64Const(value: IEEE754.Float64) throws(CompileError) {
        push(.f64, isReachable ? .const(value.bitPattern) : .slot)
    }

    // MARK: Memory

    /// The type of memory `index`'s addresses: i64 for a 64-bit memory (memory64), else i32.
    @inline(__always) func addressType(memory index: UInt32) throws(CompileError) -> ValueType {
        guard Int(index) < module.memories.count else { throw failure("unknown memory \(index)") }
        return module.memories[Int(index)].isMemory64 ? .i64 : .i32
    }

    /// Where a load or store goes: memory 0 with 32-bit addresses takes the fast
    /// ops (`xload32`: u32 offset, `memory` in a host register); any other
    /// memory, or 64-bit addresses, the `_m` forms (`xload32_m`).
    struct Access {
        let address: ValueType
        let offset: UInt64
        let memory: UInt32
        /// The fast form's offset; nil: use the `_m` form.
        var fast: UInt32? { FunctionCompiler.hasFastOps(memory, address) ? UInt32(offset) : nil }
    }

    /// Whether memory `index`, of addresses `address`, takes the fast ops (memory 0
    /// with 32-bit addresses: its base in a host register) rather than the `_m` forms.
    static func hasFastOps(_ index: UInt32, _ address: ValueType) -> Bool { index == 0 && address == .i32 }

    @inline(__always) func checkMemArg(_ memarg: MemArg, naturalAlignment: Int) throws(CompileError) -> Access {
        let address = try addressType(memory: memarg.memory)
        guard memarg.align <= naturalAlignment else { throw failure("alignment must not be larger than natural") }
        guard address == .i64 || memarg.offset <= UInt64(UInt32.max) else { throw failure("offset out of range") }
        return Access(address: address, offset: memarg.offset, memory: memarg.memory)
    }

    mutating func visitLoad(_ load: Instruction.Load, memarg: MemArg) throws(CompileError) {
        let access = try checkMemArg(memarg, naturalAlignment: load.naturalAlignment)
        let m = access.memory
        typealias Emit = (inout Encoder, UInt16, UInt16, UInt32) -> Void
        typealias EmitM = (inout Encoder, UInt16, UInt16, UInt64) -> Void
        let emitter: (fast: Emit, general: EmitM)
        switch load {
        case .i32Load: emitter = ({ $0.xload32(XReg($1), XReg($2), $3) }, { $0.xload32M(XReg($1), XReg($2), $3, m) })
        case .i64Load: emitter = ({ $0.xload64(XReg($1), XReg($2), $3) }, { $0.xload64M(XReg($1), XReg($2), $3, m) })
        case .f32Load: emitter = ({ $0.fload32(FReg($1), XReg($2), $3) }, { $0.fload32M(FReg($1), XReg($2), $3, m) })
        case .f64Load: emitter = ({ $0.fload64(FReg($1), XReg($2), $3) }, { $0.fload64M(FReg($1), XReg($2), $3, m) })
        case .i32Load8S: emitter = ({ $0.xload8S32(XReg($1), XReg($2), $3) }, { $0.xload8S32M(XReg($1), XReg($2), $3, m) })
        case .i32Load8U: emitter = ({ $0.xload8U32(XReg($1), XReg($2), $3) }, { $0.xload8U32M(XReg($1), XReg($2), $3, m) })
        case .i32Load16S: emitter = ({ $0.xload16S32(XReg($1), XReg($2), $3) }, { $0.xload16S32M(XReg($1), XReg($2), $3, m) })
        case .i32Load16U: emitter = ({ $0.xload16U32(XReg($1), XReg($2), $3) }, { $0.xload16U32M(XReg($1), XReg($2), $3, m) })
        case .i64Load8S: emitter = ({ $0.xload8S64(XReg($1), XReg($2), $3) }, { $0.xload8S64M(XReg($1), XReg($2), $3, m) })
        case .i64Load8U: emitter = ({ $0.xload8U64(XReg($1), XReg($2), $3) }, { $0.xload8U64M(XReg($1), XReg($2), $3, m) })
        case .i64Load16S: emitter = ({ $0.xload16S64(XReg($1), XReg($2), $3) }, { $0.xload16S64M(XReg($1), XReg($2), $3, m) })
        case .i64Load16U: emitter = ({ $0.xload16U64(XReg($1), XReg($2), $3) }, { $0.xload16U64M(XReg($1), XReg($2), $3, m) })
        case .i64Load32S: emitter = ({ $0.xload32S64(XReg($1), XReg($2), $3) }, { $0.xload32S64M(XReg($1), XReg($2), $3, m) })
        case .i64Load32U: emitter = ({ $0.xload32U64(XReg($1), XReg($2), $3) }, { $0.xload32U64M(XReg($1), XReg($2), $3, m) })
        default:
            try requireSIMD()
            switch load {
            case .v128Load: emitter = ({ $0.v128Load(VReg($1), XReg($2), $3) }, { $0.v128LoadM(VReg($1), XReg($2), $3, m) })
            case .v128Load8X8S: emitter = ({ $0.v128Load8x8S(VReg($1), XReg($2), $3) }, { $0.v128Load8x8SM(VReg($1), XReg($2), $3, m) })
            case .v128Load8X8U: emitter = ({ $0.v128Load8x8U(VReg($1), XReg($2), $3) }, { $0.v128Load8x8UM(VReg($1), XReg($2), $3, m) })
            case .v128Load16X4S: emitter = ({ $0.v128Load16x4S(VReg($1), XReg($2), $3) }, { $0.v128Load16x4SM(VReg($1), XReg($2), $3, m) })
            case .v128Load16X4U: emitter = ({ $0.v128Load16x4U(VReg($1), XReg($2), $3) }, { $0.v128Load16x4UM(VReg($1), XReg($2), $3, m) })
            case .v128Load32X2S: emitter = ({ $0.v128Load32x2S(VReg($1), XReg($2), $3) }, { $0.v128Load32x2SM(VReg($1), XReg($2), $3, m) })
            case .v128Load32X2U: emitter = ({ $0.v128Load32x2U(VReg($1), XReg($2), $3) }, { $0.v128Load32x2UM(VReg($1), XReg($2), $3, m) })
            case .v128Load8Splat: emitter = ({ $0.v128Load8Splat(VReg($1), XReg($2), $3) }, { $0.v128Load8SplatM(VReg($1), XReg($2), $3, m) })
            case .v128Load16Splat: emitter = ({ $0.v128Load16Splat(VReg($1), XReg($2), $3) }, { $0.v128Load16SplatM(VReg($1), XReg($2), $3, m) })
            case .v128Load32Splat: emitter = ({ $0.v128Load32Splat(VReg($1), XReg($2), $3) }, { $0.v128Load32SplatM(VReg($1), XReg($2), $3, m) })
            case .v128Load64Splat: emitter = ({ $0.v128Load64Splat(VReg($1), XReg($2), $3) }, { $0.v128Load64SplatM(VReg($1), XReg($2), $3, m) })
            case .v128Load32Zero: emitter = ({ $0.v128Load32Zero(VReg($1), XReg($2), $3) }, { $0.v128Load32ZeroM(VReg($1), XReg($2), $3, m) })
            case .v128Load64Zero: emitter = ({ $0.v128Load64Zero(VReg($1), XReg($2), $3) }, { $0.v128Load64ZeroM(VReg($1), XReg($2), $3, m) })
            default: throw failure(.unsupported, "\(load) is not supported")
            }
        }
        if let offset = access.fast {
            try unary(.i32, load.type) { emitter.fast(&$0, $1, $2, offset) }
        } else {
            try unary(access.address, load.type) { emitter.general(&$0, $1, $2, access.offset) }
        }
    }

    mutating func visitStore(_ store: Instruction.Store, memarg: MemArg) throws(CompileError) {
        let access = try checkMemArg(memarg, naturalAlignment: store.naturalAlignment)
        let m = access.memory
        typealias EmitM = (inout Encoder, UInt16, UInt16, UInt64) -> Void
        let general: EmitM
        switch store {
        case .i32Store, .i64Store32: general = { $0.xstore32M(XReg($1), $3, XReg($2), m) }
        case .i64Store: general = { $0.xstore64M(XReg($1), $3, XReg($2), m) }
        case .f32Store: general = { $0.fstore32M(XReg($1), $3, FReg($2), m) }
        case .f64Store: general = { $0.fstore64M(XReg($1), $3, FReg($2), m) }
        case .i32Store8, .i64Store8: general = { $0.xstore8M(XReg($1), $3, XReg($2), m) }
        case .i32Store16, .i64Store16: general = { $0.xstore16M(XReg($1), $3, XReg($2), m) }
        case .v128Store:
            try requireSIMD()
            general = { $0.v128StoreM(XReg($1), $3, VReg($2), m) }
        default: throw failure(.unsupported, "\(store) is not supported")
        }
        guard let offset = access.fast else {
            try op([access.address, store.type], nil) { (c: inout FunctionCompiler, _, first) throws(CompileError) in
                let address = c.register(first), value = c.register(first + 1)
                c.emit { general(&$0, address, value, access.offset) }
            }
            return
        }
        typealias Emit = (inout Encoder, UInt16, UInt16) -> Void
        let emitter: Emit
        switch store {
        case .i32Store: emitter = { $0.xstore32(XReg($1), offset, XReg($2)) }
        case .i64Store: emitter = { $0.xstore64(XReg($1), offset, XReg($2)) }
        case .f32Store: emitter = { $0.fstore32(XReg($1), offset, FReg($2)) }
        case .f64Store: emitter = { $0.fstore64(XReg($1), offset, FReg($2)) }
        case .i32Store8, .i64Store8: emitter = { $0.xstore8(XReg($1), offset, XReg($2)) }
        case .i32Store16, .i64Store16: emitter = { $0.xstore16(XReg($1), offset, XReg($2)) }
        case .i64Store32: emitter = { $0.xstore32(XReg($1), offset, XReg($2)) }
        default: emitter = { $0.v128Store(XReg($1), offset, VReg($2)) }
        }
        // A constant value that fits the immediate form is stored without materializing it.
        var immediate: ((inout Encoder, UInt16, Int32) -> Void)?
        switch store {
        case .i32Store8, .i64Store8: immediate = { $0.xstore8I32(XReg($1), offset, $2) }
        case .i32Store16, .i64Store16: immediate = { $0.xstore16I32(XReg($1), offset, $2) }
        case .i32Store, .i64Store32: immediate = { $0.xstore32I32(XReg($1), offset, $2) }
        case .i64Store: immediate = { $0.xstore64I32(XReg($1), offset, $2) }
        default: immediate = nil
        }
        try op([.i32, store.type], nil) { (c: inout FunctionCompiler, _, first) throws(CompileError) in
            if let immediate, case .const(let bits) = c.stack[first + 1].location,
               let value = store == .i64Store ? Int32(exactly: Int64(bitPattern: bits)) : Int32(bitPattern: UInt32(truncatingIfNeeded: bits)) {
                let address = c.register(first)
                c.emit { immediate(&$0, address, value) }
            } else {
                let address = c.register(first), value = c.register(first + 1)
                c.emit { emitter(&$0, address, value) }
            }
        }
    }

    mutating func visitMemorySize(memory: UInt32) throws(CompileError) {
        let address = try addressType(memory: memory)
        produce(address) { $0.memorySize(XReg($1), memory) }
    }

    mutating func visitMemoryGrow(memory: UInt32) throws(CompileError) {
        let address = try addressType(memory: memory)
        try unary(address, address) { $0.memoryGrow(XReg($1), XReg($2), memory) }
    }
}
