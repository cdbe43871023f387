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
    /// Defines a host function of any number of typed parameters and results;
    /// `body` gets the `Caller` (the calling instance's memory and exports) first.
    ///
    ///     linker.defineFunction("env", "divmod", parameters: Int32.self, Int32.self, results: Int32.self, Int32.self) {
    ///         caller, a, b in (a / b, a % b)
    ///     }
    public mutating func defineFunction<each P: WasmValue, each R: WasmValue>(
        _ module: String, _ name: String, parameters: repeat (each P).Type, results: repeat (each R).Type,
        body: @escaping (Caller, repeat each P) throws -> (repeat each R)
    ) {
        define(module, name, typed: body)
    }

    /// Defines a host function whose parameter and result types are those of
    /// `body` (any number of each), for a body that needs no `Caller`:
    ///
    ///     linker.defineFunction("math", "twice") { (x: Int64) -> Int64 in x * 2 }
    ///     linker.defineFunction("env", "log") { (code: Int32) in print(code) }
    public mutating func defineFunction<each P: WasmValue, each R: WasmValue>(
        _ module: String, _ name: String, _ body: @escaping (repeat each P) throws -> (repeat each R)
    ) {
        define(module, name, typed: { (_: Caller, arguments: repeat each P) in try body(repeat each arguments) })
    }

    /// Defines `body` with the types of its parameters and results.
    private mutating func define<each P: WasmValue, each R: WasmValue>(
        _ module: String, _ name: String, typed body: @escaping (Caller, repeat each P) throws -> (repeat each R)
    ) {
        defineFunction(module, name, parameters: valueTypes(repeat (each P).self), results: valueTypes(repeat (each R).self)) { caller, arguments in
            // The runtime checked the arguments against `parameterTypes`: one of each type.
            var values = arguments.makeIterator()
            let results = try body(caller, repeat (each P)(values.next()!))
            var out: [Value] = []
            for result in repeat each results { out.append(result.value) }
            return out
        }
    }
}
