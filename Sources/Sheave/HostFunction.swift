import WasmTypes

/// A function the host defines in Swift: its type, checked at each call, and its body.
struct HostFunction {
    let type: FunctionType
    let body: (Caller, [Value]) throws -> [Value]
}

/// What a host function may reach of the code that called it.
public struct Caller {
    /// The calling instance's memory; nil when it has none, or when the host itself called.
    public let memory: Memory?

    /// A caller whose memory is `memory`.
    init(memory: Memory?) {
        self.memory = memory
    }
}
