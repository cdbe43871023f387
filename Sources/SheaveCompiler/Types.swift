import WasmParser
import WasmTypes

// Reference types and subtyping, as far as Wasm 2.0 and typed function
// references need: funcref and externref, nullable or not, and (ref null $t)
// naming a function type, which is a subtype of funcref.

extension ModuleInfo {
    /// Whether values of `type` can live in a slot and be compiled.
    public func isSupported(_ type: ValueType) -> Bool {
        switch type {
        case .i32, .i64, .f32, .f64: return true
        case .v128: return true
        case .ref(let ref):
            switch ref.heapType {
            case .abstract(.funcRef), .abstract(.externRef), .abstract(.exnRef), .abstract(.noExn): return true
            case .concrete(let index): return Int(index) < types.count
            default: return false
            }
        }
    }

    /// Why values of `type` cannot be compiled, nil when they can: a type index
    /// past the module's types is invalid ("unknown type"), any other heap type
    /// Sheave does not have yet is unsupported. `what` names the type in the message.
    func refusal(of type: ValueType, _ what: String = "value type") -> CompileError? {
        if let index = unknownTypeIndex(in: type) { return CompileError(.invalid, "unknown type \(index)") }
        return isSupported(type) ? nil : CompileError(.unsupported, "\(what) \(type) is not supported")
    }

    /// The type index `type` names that is not one of the module's types, if any.
    func unknownTypeIndex(in type: ValueType) -> UInt32? {
        if case .ref(let ref) = type, case .concrete(let index) = ref.heapType, Int(index) >= types.count { return index }
        return nil
    }

    /// Whether `a` may be used where `b` is expected.
    public func isSubtype(_ a: ValueType, of b: ValueType) -> Bool {
        a.isSubtype(of: b, concrete: sameFunctionType)
    }

    func isSubtype(_ a: HeapType, of b: HeapType) -> Bool {
        a.isSubtype(of: b, concrete: sameFunctionType)
    }

    /// Without GC, function types are equivalent when they are structurally equal.
    private func sameFunctionType(_ i: UInt32, _ j: UInt32) -> Bool {
        Int(i) < types.count && Int(j) < types.count && types[Int(i)] == types[Int(j)]
    }

    /// Whether `type` is a reference to functions (funcref or a typed function reference).
    public func isFunctionReference(_ type: ReferenceType) -> Bool {
        isSubtype(type.heapType, of: .abstract(.funcRef))
    }
}

extension ValueType {
    /// The one subtype check: whether a value of this type may be used where `other`
    /// is expected. Two concrete heap types are related when `concrete` says so
    /// (within a module, when their function types are equal).
    package func isSubtype(of other: ValueType, concrete: (UInt32, UInt32) -> Bool) -> Bool {
        if self == other { return true }
        guard case .ref(let a) = self, case .ref(let b) = other else { return false }
        if a.isNullable && !b.isNullable { return false }
        return a.heapType.isSubtype(of: b.heapType, concrete: concrete)
    }
}

extension HeapType {
    /// Whether this heap type lies below `other`: itself, a concrete function type
    /// below funcref, and two concrete types that `concrete` relates.
    package func isSubtype(of other: HeapType, concrete: (UInt32, UInt32) -> Bool) -> Bool {
        switch (self, other) {
        case let (x, y) where x == y: return true
        case (.concrete, .abstract(.funcRef)): return true
        case (.abstract(.noExn), .abstract(.exnRef)): return true
        case (.concrete(let i), .concrete(let j)): return concrete(i, j)
        default: return false
        }
    }
}
