import WasmTypes

/// Names host functions, memories, tables, globals and other instances' exports
/// for modules to import, then instantiates modules against them.
public struct Linker {
    /// What has been defined: module name → field name → extern.
    public private(set) var definitions: [String: [String: Extern]] = [:]

    /// A linker with nothing defined.
    public init() {}

    /// Defines `extern` as `module`.`name`.
    public mutating func define(_ module: String, _ name: String, _ extern: Extern) {
        definitions[module, default: [:]][name] = extern
    }

    /// Defines every export of `instance` under the module name `module`.
    public mutating func define(_ module: String, instance: Instance) {
        for name in instance.module.info.exports.map(\.name) {
            if let extern = instance.export(name) { define(module, name, extern) }
        }
    }

    /// Defines a host function with untyped values.
    public mutating func defineFunction(_ module: String, _ name: String, parameters: [ValueType], results: [ValueType],
                                        _ body: @escaping (Caller, [Value]) throws -> [Value]) {
        define(module, name, .function(Function(type: FunctionType(parameters: parameters, results: results), body)))
    }

    /// Instantiates `module` in `store`, resolving its imports from the definitions.
    public func instantiate(_ module: Module, in store: Store) throws -> Instance {
        try Instance(module: module, store: store, imports: definitions)
    }
}

// MARK: Typed host functions

extension Linker {
    /// Defines a host function taking no argument.
    public mutating func defineFunction<R: WasmValue>(_ module: String, _ name: String, _ body: @escaping () throws -> R) {
        defineFunction(module, name, parameters: [], results: [R.valueType]) { _, _ in [try body().value] }
    }

    /// Defines a host function taking one argument.
    public mutating func defineFunction<A: WasmValue, R: WasmValue>(_ module: String, _ name: String, _ body: @escaping (A) throws -> R) {
        defineFunction(module, name, parameters: [A.valueType], results: [R.valueType]) { _, args in
            [try body(A(args[0])).value]
        }
    }

    /// Defines a host function taking two arguments.
    public mutating func defineFunction<A: WasmValue, B: WasmValue, R: WasmValue>(_ module: String, _ name: String, _ body: @escaping (A, B) throws -> R) {
        defineFunction(module, name, parameters: [A.valueType, B.valueType], results: [R.valueType]) { _, args in
            [try body(A(args[0]), B(args[1])).value]
        }
    }

    /// Defines a host function taking one argument and returning nothing.
    public mutating func defineFunction<A: WasmValue>(_ module: String, _ name: String, _ body: @escaping (A) throws -> Void) {
        defineFunction(module, name, parameters: [A.valueType], results: []) { _, args in
            try body(A(args[0]))
            return []
        }
    }
}
