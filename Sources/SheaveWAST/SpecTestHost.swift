import Sheave

/// The host module named `spectest` that the spec test suite imports from.
public enum SpecTestHost {
    /// Fresh instances of its exports: print functions, globals, tables (32- and 64-bit) and a memory.
    public static func exports() -> [String: Extern] {
        func printer(_ params: [ValueType]) -> Extern {
            .function(Function(type: FunctionType(parameters: params, results: [])) { _, _ in [] })
        }
        var exports: [String: Extern] = [
            "print": printer([]),
            "print_i32": printer([.i32]),
            "print_i64": printer([.i64]),
            "print_f32": printer([.f32]),
            "print_f64": printer([.f64]),
            "print_i32_f32": printer([.i32, .f32]),
            "print_f64_f64": printer([.f64, .f64]),
        ]
        let globals: [(String, ValueType, Value)] = [
            ("global_i32", .i32, .i32(666)), ("global_i64", .i64, .i64(666)),
            ("global_f32", .f32, .f32(Float(666.6).bitPattern)), ("global_f64", .f64, .f64(Double(666.6).bitPattern)),
        ]
        for (name, type, value) in globals {
            if let global = try? Global(type: GlobalType(mutability: .constant, valueType: type), value: value) {
                exports[name] = .global(global)
            }
        }
        if let table = Table(type: TableType(elementType: .funcRef, limits: Limits(min: 10, max: 20))) {
            exports["table"] = .table(table)
        }
        if let table = Table(type: TableType(elementType: .funcRef, limits: Limits(min: 10, max: 20, isMemory64: true))) {
            exports["table64"] = .table(table)
        }
        if let memory = Memory(type: MemoryType(min: 1, max: 2)) {
            exports["memory"] = .memory(memory)
        }
        return exports
    }
}
