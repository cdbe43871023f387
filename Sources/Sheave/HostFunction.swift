import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter
import WasmParser
import WasmTypes

/// A host function: receives its arguments, returns its results.
public struct HostFunction {
    /// Its parameter and result types, checked at each call.
    public let type: FunctionType
    /// The Swift code that runs when wasm calls the function.
    public let body: (Caller, [Value]) throws -> [Value]

    /// A host function that reads what it needs from its caller (its memory, for WASI).
    public init(type: FunctionType, body: @escaping (Caller, [Value]) throws -> [Value]) {
        self.type = type
        self.body = body
    }

    /// A host function that needs nothing from its caller.
    public init(type: FunctionType, body: @escaping ([Value]) throws -> [Value]) {
        self.init(type: type) { _, arguments in try body(arguments) }
    }
}

/// What a host function may reach of the code that called it.
public struct Caller {
    /// The calling instance's memory; nil when it has none, or when the host itself called.
    public let memory: Memory?

    /// A caller whose memory is `memory`.
    package init(memory: Memory?) {
        self.memory = memory
    }
}
