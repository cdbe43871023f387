import WasmParser
import WasmTypes

// Types as Wasm 3.0 defines them: the type section's recursion groups of
// function, struct and array types, each with at most one declared supertype;
// their equivalence (iso-recursive: two types are the same when their groups
// have the same shape and they sit at the same place in it); and subtyping,
// between concrete types by declared supertypes, and between the abstract heap
// types (any, eq, i31, struct, array, none; func, nofunc; extern, noextern;
// exn, noexn).

/// A type of the type section: its composite type, its declared supertype,
/// whether it is final, and the type indices of its recursion group.
public struct DefinedType: Equatable, Sendable {
    /// A function, struct or array type.
    public var body: CompositeType
    /// The type index of its declared supertype, if any (always a smaller index).
    public var supertype: UInt32?
    /// Whether no type may declare it as its supertype.
    public var isFinal: Bool
    /// The type indices of its recursion group (its own among them).
    public var group: Range<Int>

    /// A type; see the properties.
    public init(body: CompositeType, supertype: UInt32?, isFinal: Bool, group: Range<Int>) {
        self.body = body
        self.supertype = supertype
        self.isFinal = isFinal
        self.group = group
    }

    /// A struct's fields, an array's element; none for a function type.
    public var fields: [FieldType] {
        switch body {
        case .function: return []
        case .structType(let type): return type.fields
        case .arrayType(let type): return [type.element]
        }
    }

    /// What a concrete heap type naming it holds.
    public var kind: HeapKind {
        switch body {
        case .function: return .function
        case .structType: return .structure
        case .arrayType: return .array
        }
    }
}

/// What values of a concrete heap type are: functions, structs or arrays.
public enum HeapKind: Sendable {
    case function, structure, array
}

/// The shape of a recursion group as a list of numbers, for hashing and comparing:
/// a type outside the group is named by `outside` (its canonical id, within a module
/// or a store), one inside by its place in the group. Equal keys, equal groups.
package func recursionGroupKey(_ members: [DefinedType], first: Int, outside: (Int) -> Int) -> [Int] {
    var key: [Int] = [members.count]
    func reference(_ index: Int) {
        if index >= first && index < first + members.count {
            key += [1, index - first]
        } else {
            key += [2, outside(index)]
        }
    }
    func heap(_ type: HeapType) {
        switch type {
        case .abstract(let abstract):
            key += [3, Int(abstract.rawValue)]
        case .concrete(let index):
            reference(Int(index))
        }
    }
    func value(_ type: ValueType) {
        switch type {
        case .i32: key.append(10)
        case .i64: key.append(11)
        case .f32: key.append(12)
        case .f64: key.append(13)
        case .v128: key.append(14)
        case .ref(let ref):
            key += [15, ref.isNullable ? 1 : 0]
            heap(ref.heapType)
        }
    }
    func field(_ field: FieldType) {
        key.append(field.isMutable ? 1 : 0)
        switch field.storage {
        case .packed(.i8): key.append(20)
        case .packed(.i16): key.append(21)
        case .value(let type): value(type)
        }
    }
    for member in members {
        key.append(member.isFinal ? 1 : 0)
        if let supertype = member.supertype { reference(Int(supertype)) } else { key.append(0) }
        switch member.body {
        case .function(let type):
            key += [30, type.parameters.count, type.results.count]
            type.parameters.forEach(value)
            type.results.forEach(value)
        case .structType(let type):
            key += [31, type.fields.count]
            type.fields.forEach(field)
        case .arrayType(let type):
            key.append(32)
            field(type.element)
        }
    }
    return key
}

extension ModuleInfo {
    /// Adds a type of the type section (the decoder and the artifact loader);
    /// `canonicalizeTypes()` follows the last.
    mutating func append(_ type: DefinedType) {
        definedTypes.append(type)
        if case .function(let function) = type.body {
            types.append(function)
        } else {
            types.append(FunctionType(parameters: [], results: []))
        }
    }

    /// Finds each type's first equivalent (`canonicalTypes`), group by group: a
    /// group is keyed by its shape, types outside it by their canonical types.
    /// References past the group itself are left for validation to refuse.
    mutating func canonicalizeTypes() {
        var firsts: [[Int]: Int] = [:]
        canonicalTypes = []
        var start = 0
        while start < definedTypes.count {
            let group = definedTypes[start].group
            guard group.lowerBound == start, group.upperBound > start, group.upperBound <= definedTypes.count else {
                // Not a group's first type where one should start: neither the decoder nor the
                // artifact reader builds such a grouping (both check it); each type on its own.
                canonicalTypes.append(start)
                start += 1
                continue
            }
            let key = recursionGroupKey(Array(definedTypes[group]), first: start) { [canonicalTypes] in
                $0 < canonicalTypes.count ? canonicalTypes[$0] : -1 - $0
            }
            let first = firsts[key] ?? start
            firsts[key] = first
            for k in 0..<group.count { canonicalTypes.append(first + k) }
            start = group.upperBound
        }
    }

    /// The function type at type index `index`: nil when it is out of range or a
    /// struct or array type.
    public func functionType(at index: UInt32) -> FunctionType? {
        guard Int(index) < types.count, case .function(let type) = definedTypes[Int(index)].body else { return nil }
        return type
    }

    /// Whether values of `type` can live in a slot and be compiled: every value type
    /// whose type index (if any) names a type of the module. References of GC's
    /// types are only ever null or passed along so far: no op Sheave compiles
    /// looks inside one (its instructions are refused as unsupported).
    public func isSupported(_ type: ValueType) -> Bool {
        unknownTypeIndex(in: type) == nil
    }

    /// Why values of `type` cannot be compiled, nil when they can: a type index
    /// past the module's types is invalid ("unknown type"), any other heap type
    /// Sheave does not have yet is unsupported. `what` names the type in the message.
    func refusal(of type: ValueType, _ what: String = "value type") -> CompileError? {
        if let index = unknownTypeIndex(in: type) { return CompileError(.invalid, "unknown type \(index)") }
        return isSupported(type) ? nil : CompileError(.unsupported, "\(what) \(type) is not supported")
    }

    /// The type index `type` names that is not one of the module's types, if any.
    func unknownTypeIndex(in type: ValueType, below limit: Int? = nil) -> UInt32? {
        if case .ref(let ref) = type, case .concrete(let index) = ref.heapType, Int(index) >= (limit ?? types.count) { return index }
        return nil
    }

    /// Whether `a` may be used where `b` is expected.
    public func isSubtype(_ a: ValueType, of b: ValueType) -> Bool {
        a.isSubtype(of: b, concrete: isConcreteSubtype, kind: kind)
    }

    func isSubtype(_ a: HeapType, of b: HeapType) -> Bool {
        a.isSubtype(of: b, concrete: isConcreteSubtype, kind: kind)
    }

    /// What type `index` holds (a function type for an index out of range, which
    /// validation refuses before it matters).
    func kind(_ index: UInt32) -> HeapKind {
        Int(index) < definedTypes.count ? definedTypes[Int(index)].kind : .function
    }

    /// Whether type `i` is type `j` or declares it as a supertype, directly or not.
    func isConcreteSubtype(_ i: UInt32, _ j: UInt32) -> Bool {
        guard Int(i) < canonicalTypes.count, Int(j) < canonicalTypes.count else { return false }
        var k = Int(i)
        while true {
            if canonicalTypes[k] == canonicalTypes[Int(j)] { return true }
            // A supertype has a smaller index (validation), so the walk ends.
            guard let s = definedTypes[k].supertype, Int(s) < k else { return false }
            k = Int(s)
        }
    }

    /// Whether `type` is a reference to functions (funcref or a typed function reference).
    public func isFunctionReference(_ type: ReferenceType) -> Bool {
        isSubtype(type.heapType, of: .abstract(.funcRef))
    }
}

extension ValueType {
    /// The one subtype check: whether a value of this type may be used where `other`
    /// is expected. Two concrete heap types are related when `concrete` says so, and
    /// `kind` says what a concrete type holds.
    /// `otherKind` says what `other`'s concrete types hold when they are another
    /// module's (`kind` by default).
    package func isSubtype(of other: ValueType, concrete: (UInt32, UInt32) -> Bool,
                           kind: (UInt32) -> HeapKind = { _ in .function }, otherKind: ((UInt32) -> HeapKind)? = nil) -> Bool {
        guard case .ref(let a) = self, case .ref(let b) = other else { return self == other }
        if a.isNullable && !b.isNullable { return false }
        return a.heapType.isSubtype(of: b.heapType, concrete: concrete, kind: kind, otherKind: otherKind)
    }
}

extension HeapType {
    /// Whether this heap type lies below `other`: the abstract hierarchies (none
    /// below i31, struct, array and every struct and array type, those below eq,
    /// eq below any; nofunc below every function type, those below func; noextern
    /// below extern; noexn below exn), and two concrete types that `concrete` relates.
    package func isSubtype(of other: HeapType, concrete: (UInt32, UInt32) -> Bool,
                           kind: (UInt32) -> HeapKind = { _ in .function }, otherKind: ((UInt32) -> HeapKind)? = nil) -> Bool {
        func kindOfOther(_ index: UInt32) -> HeapKind { otherKind?(index) ?? kind(index) }
        switch (self, other) {
        // Two concrete types are related only as `concrete` says: their indices may be two modules'.
        case (.concrete(let i), .concrete(let j)): return concrete(i, j)
        case let (x, y) where x == y: return true
        case (.abstract(.noFunc), .concrete(let j)): return kindOfOther(j) == .function
        case (.abstract(.noneRef), .concrete(let j)): return kindOfOther(j) != .function
        case (.concrete(let i), .abstract(let top)):
            switch kind(i) {
            case .function: return top == .funcRef
            case .structure: return top == .structRef || top == .eq || top == .any
            case .array: return top == .arrayRef || top == .eq || top == .any
            }
        case (.abstract(let a), .abstract(let b)):
            switch b {
            case .funcRef: return a == .noFunc
            case .externRef: return a == .noExtern
            case .exnRef: return a == .noExn
            case .any: return [.eq, .i31, .structRef, .arrayRef, .noneRef].contains(a)
            case .eq: return [.i31, .structRef, .arrayRef, .noneRef].contains(a)
            case .i31, .structRef, .arrayRef: return a == .noneRef
            default: return false
            }
        default: return false
        }
    }
}
