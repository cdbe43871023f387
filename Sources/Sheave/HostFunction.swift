import SheaveInterpreter
import WasmTypes

/// A function the host defines in Swift: its type, checked at each call, and its body.
struct HostFunction {
    let type: FunctionType
    let body: (Caller, [Value]) throws -> [Value]
}

/// What a host function may reach of the code that called it.
public struct Caller {
    /// The calling instance's memory 0; nil when it has none, or when the host itself called.
    public var memory: Memory? { entity?.apiMemory() }
    /// The store's interruption flag; nil when the host itself called.
    let interrupt: InterruptFlag?
    /// The calling instance; nil when the host itself called.
    let entity: InstanceEntity?

    /// A caller in a store whose interruption flag is `interrupt`, from the
    /// code of `entity`; without them, the host itself.
    init(interrupt: InterruptFlag? = nil, entity: InstanceEntity? = nil) {
        self.interrupt = interrupt
        self.entity = entity
    }

    /// The calling instance's export named `name`: its functions, memory,
    /// globals and tables, as `Instance.export` gives them; nil when it exports
    /// nothing by that name, or when the host itself called.
    ///
    ///     linker.defineFunction("env", "log", parameters: Int32.self, Int32.self) { caller, start, length in
    ///         guard case .memory(let memory)? = caller.export("memory") else { return }
    ///         print(String(decoding: try memory.read(at: Int(start), count: Int(length)), as: UTF8.self))
    ///     }
    public func export(_ name: String) -> Extern? { entity?.export(name) }

    /// Throws the `interrupted` trap when the store's `InterruptHandle` asked the
    /// running code to stop (and takes the request, as a checkpoint does). A host
    /// function that works long calls it between steps, so that interruption
    /// stops it as it stops wasm code.
    public func checkInterrupt() throws(Trap) {
        if let interrupt, interrupt.take() { throw Trap(code: .interrupted) }
    }
}
