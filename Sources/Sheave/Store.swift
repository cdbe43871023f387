import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter
import WasmParser
import WasmTypes

/// Runs instances' code: one VM, shared by every instance of the store. It
/// also owns what references point at: each function's `FunctionRef`, and the
/// canonical signature ids that make `call_indirect` work across modules.
public final class Store {
    /// How a store runs code.
    public struct Configuration: Sendable {
        /// Code consumes fuel at function entries and loop headers and traps
        /// ("all fuel consumed by WebAssembly") when it runs out; see `Store.fuel`.
        public var fuelMetering: Bool
        /// Another thread may stop running code through `Store.interruptHandle`.
        public var interruptible: Bool
        /// The VM's stack in bytes: recursion deeper than it fits traps ("call stack exhausted").
        public var stackSize: Int
        /// The dispatch loop the VM runs (the tail loop in optimized builds by default).
        public var dispatchMode: DispatchMode
        /// The most 64 KiB pages any memory may have: larger memories fail to
        /// instantiate and `memory.grow` past it returns -1.
        public var maximumMemoryPages: Int
        /// The bytecode target. Only the host's (`Target.host`) runs here; compiling
        /// for the others comes with artifacts.
        public var target: Target
        /// The WebAssembly proposals modules may use; others are invalid.
        public var features: Features

        /// A configuration; everything off and a 1 MiB stack by default.
        public init(fuelMetering: Bool = false, interruptible: Bool = false, stackSize: Int = 1 << 20,
                    dispatchMode: DispatchMode = .default, maximumMemoryPages: Int = 65536, target: Target = .host,
                    features: Features = .all) {
            self.fuelMetering = fuelMetering
            self.interruptible = interruptible
            self.stackSize = stackSize
            self.dispatchMode = dispatchMode
            self.maximumMemoryPages = maximumMemoryPages
            self.target = target
            self.features = features
        }

        /// How modules must be compiled to run in such a store.
        package var compileOptions: CompileOptions {
            CompileOptions(checkpoints: fuelMetering || interruptible, features: features, target: target)
        }
    }

    /// How this store runs code.
    public let configuration: Configuration
    let vm: VM
    private var signatureIDs: [FunctionType: UInt32] = [:]
    /// Functions reachable through references, by the id a foreign call hands the host.
    private(set) var referencedFunctions: [Callee] = []
    /// Every instance made in this store, owned by it: a reference to one of
    /// their functions may sit in any table or global of the store.
    var instances: [InstanceEntity] = []

    /// The bit that marks a host-call id as "a function reached through a reference"
    /// (other ids are the calling module's import index).
    static let referenceCallBit: UInt32 = 0x8000_0000

    /// A store without fuel metering or interruption.
    public convenience init(stackSize: Int = 1 << 20, dispatchMode: DispatchMode = .default) {
        self.init(configuration: Configuration(stackSize: stackSize, dispatchMode: dispatchMode))
    }

    /// A store running code as `configuration` says; with fuel metering it starts with no fuel.
    public init(configuration: Configuration) {
        self.configuration = configuration
        vm = VM(stackSize: configuration.stackSize, dispatchMode: configuration.dispatchMode)
        vm.fuelMetering = configuration.fuelMetering
        if configuration.fuelMetering { vm.fuel = 0 }
    }

    /// The fuel left (with fuel metering). Set it to refuel.
    public var fuel: Int64 {
        get { vm.fuel }
        set { vm.fuel = max(newValue, 0) }
    }

    /// Stops the store's running code at its next checkpoint, from any thread
    /// (with `Configuration.interruptible`).
    public var interruptHandle: InterruptHandle { vm.interruptHandle }

    /// A profiler sampling this store's running code every `interval` seconds
    /// (see `Instance.codeOffset(of:)` to place its samples).
    public func profiler(interval: Double = 0.000_1) -> Profiler {
        Profiler(vm: vm, interval: interval)
    }

    /// The canonical id of a signature: equal types, equal ids, across modules.
    func signatureID(_ type: FunctionType) -> UInt32 {
        if let id = signatureIDs[type] { return id }
        let id = UInt32(signatureIDs.count)
        signatureIDs[type] = id
        return id
    }

    /// Registers `handle` with the VM; returns its reference value.
    func makeFunctionRef(_ handle: Callee, code: UnsafeRawPointer?) -> UInt64 {
        let type = handle.type
        let id = UInt32(referencedFunctions.count) | Self.referenceCallBit
        referencedFunctions.append(handle)
        return vm.register(FunctionRef(code: code, signature: signatureID(type), context: nil, hostID: id,
                                       slots: UInt16(max(Value.slotCount(type.parameters), Value.slotCount(type.results)))))
    }
}
