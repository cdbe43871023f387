import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter
import WasmParser
import WasmTypes

/// Something an instance exports and another imports.
public enum Extern {
    /// A function.
    case function(FunctionHandle)
    /// A memory.
    case memory(Memory)
    /// A global.
    case global(GlobalCell)
    /// A table.
    case table(Table)
}

/// A function: exported by an instance, or defined by the host.
public enum FunctionHandle {
    /// Function `index` of an instance.
    case wasm(Instance, index: Int)
    /// A function the host defines in Swift.
    case host(HostFunction)

    /// The function's parameter and result types.
    public var type: FunctionType {
        switch self {
        case .wasm(let instance, let index): return instance.module.info.functionType(index)
        case .host(let host): return host.type
        }
    }
}

/// A global's storage: one cell, shared by exporter and importers. Every cell
/// is 16 bytes, room for a v128, so that no global op the interpreter runs can
/// reach past a cell, whatever the bytecode says.
public final class GlobalCell {
    /// The global's value type and mutability.
    public let type: GlobalType
    let cell: UnsafeMutablePointer<UInt64>

    /// A global of `type` holding `value`.
    public init(type: GlobalType, value: Value) {
        self.type = type
        cell = .allocate(capacity: 2)
        cell.initialize(repeating: 0, count: 2)
        self.value = value
    }

    deinit { cell.deallocate() }

    /// The global's current value.
    public var value: Value {
        get { Value.decode(UnsafeBufferPointer(start: cell, count: 2), as: [type.valueType])[0] }
        set {
            let slots = newValue.slots
            for (i, slot) in slots.enumerated() { cell[i] = slot }
        }
    }
}
