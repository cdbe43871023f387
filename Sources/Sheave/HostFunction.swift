import SheaveInterpreter
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
    /// The store's interruption flag; nil when the host itself called.
    let interrupt: InterruptFlag?

    /// A caller whose memory is `memory`, in a store whose interruption flag is `interrupt`.
    init(memory: Memory?, interrupt: InterruptFlag? = nil) {
        self.memory = memory
        self.interrupt = interrupt
    }

    /// Throws the `interrupted` trap when the store's `InterruptHandle` asked the
    /// running code to stop (and takes the request, as a checkpoint does). A host
    /// function that works long calls it between steps, so that interruption
    /// stops it as it stops wasm code.
    public func checkInterrupt() throws(Trap) {
        if let interrupt, interrupt.take() { throw Trap(code: .interrupted) }
    }
}
