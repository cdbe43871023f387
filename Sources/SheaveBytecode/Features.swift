// Which WebAssembly proposals compiled code may use: recorded, with the target,
// in every artifact's header, and chosen by the embedder through `Sheave.Config`.

/// WebAssembly proposals a module may use; a module using a disabled one is invalid.
public struct Features: OptionSet, Hashable, Sendable {
    /// The features as bits.
    public let rawValue: Int
    /// Features from their bits.
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Sign-extension operators (`i32.extend8_s` and the like).
    public static let signExtension = Features(rawValue: 1 << 0)
    /// Non-trapping float-to-int conversions (`i32.trunc_sat_f32_s` and the like).
    public static let nonTrappingFloatToInt = Features(rawValue: 1 << 1)
    /// Blocks with parameters or several results, functions with several results.
    public static let multiValue = Features(rawValue: 1 << 2)
    /// `memory.fill`, `memory.copy`, `memory.init`, `data.drop`, `table.copy`, `table.init`, `elem.drop`, passive segments.
    public static let bulkMemory = Features(rawValue: 1 << 3)
    /// `funcref` and `externref` values, the table instructions, several tables, typed `select`.
    public static let referenceTypes = Features(rawValue: 1 << 4)
    /// Typed function references: `(ref $t)`, `call_ref`, `ref.as_non_null`, `br_on_null`, `br_on_non_null`.
    public static let functionReferences = Features(rawValue: 1 << 5)
    /// 128-bit SIMD: `v128` values and their instructions. Only in a build with the
    /// `InterpreterSIMD` trait (the default); elsewhere a module using it is refused.
    public static let simd = Features(rawValue: 1 << 6)
    /// Tail calls: `return_call`, `return_call_indirect`, `return_call_ref`.
    public static let tailCall = Features(rawValue: 1 << 7)
    /// Relaxed SIMD: instructions whose result may depend on the machine. Sheave
    /// gives one allowed result, the same everywhere. Needs `simd`.
    public static let relaxedSIMD = Features(rawValue: 1 << 8)
    /// Several memories in one module, and every memory op naming any of them.
    public static let multiMemory = Features(rawValue: 1 << 9)
    /// Memories and tables with 64-bit addresses and indices (`(memory i64 1)`, `(table i64 1 funcref)`).
    public static let memory64 = Features(rawValue: 1 << 10)
    /// Exception handling (Wasm 3.0): tags (defined, imported, exported), `throw`,
    /// `throw_ref`, `try_table` with its four kinds of catch clause, and `exnref`
    /// values. The legacy `try`/`catch`/`delegate` are not decoded.
    public static let exceptions = Features(rawValue: 1 << 11)
    /// Garbage collection (Wasm 3.0), so far its types: recursion groups, declared
    /// subtypes, struct and array types, and the abstract heap types (any, eq, i31,
    /// struct, array, none, nofunc, noextern). Its instructions are not compiled yet.
    public static let gc = Features(rawValue: 1 << 12)
    /// Everything Sheave implements: WebAssembly 2.0, typed function references, tail calls,
    /// relaxed SIMD, multi-memory, memory64, exception handling, and GC's types.
    public static let all: Features = [.signExtension, .nonTrappingFloatToInt, .multiValue, .bulkMemory, .referenceTypes, .functionReferences,
                                       .simd, .tailCall, .relaxedSIMD, .multiMemory, .memory64, .exceptions, .gc]
    /// WebAssembly 1.0 (the MVP).
    public static let mvp: Features = []
    /// Each proposal by the name the spec suite's manifest and Wasmtime's `-W` give it.
    public static let named: [(name: String, feature: Features)] = [
        ("sign-extension", .signExtension), ("nontrapping-float-to-int", .nonTrappingFloatToInt),
        ("multi-value", .multiValue), ("bulk-memory", .bulkMemory), ("reference-types", .referenceTypes),
        ("function-references", .functionReferences), ("simd", .simd), ("tail-call", .tailCall), ("relaxed-simd", .relaxedSIMD),
        ("multi-memory", .multiMemory), ("memory64", .memory64), ("exceptions", .exceptions), ("gc", .gc),
    ]
}
