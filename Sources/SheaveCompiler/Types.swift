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
            case .abstract(.funcRef), .abstract(.externRef): return true
            case .concrete(let index): return Int(index) < types.count
            default: return false
            }
        }
    }

    /// Whether `a` may be used where `b` is expected.
    public func isSubtype(_ a: ValueType, of b: ValueType) -> Bool {
        if a == b { return true }
        guard case .ref(let ra) = a, case .ref(let rb) = b else { return false }
        if ra.isNullable && !rb.isNullable { return false }
        return isSubtype(ra.heapType, of: rb.heapType)
    }

    func isSubtype(_ a: HeapType, of b: HeapType) -> Bool {
        switch (a, b) {
        case let (x, y) where x == y: return true
        case (.concrete, .abstract(.funcRef)): return true
        case (.concrete(let i), .concrete(let j)):
            // Without GC, function types are equivalent when they are structurally equal.
            return Int(i) < types.count && Int(j) < types.count && types[Int(i)] == types[Int(j)]
        default: return false
        }
    }

    /// Whether `type` is a reference to functions (funcref or a typed function reference).
    public func isFunctionReference(_ type: ReferenceType) -> Bool {
        isSubtype(type.heapType, of: .abstract(.funcRef))
    }
}
