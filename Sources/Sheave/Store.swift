import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter
import WasmParser
import WasmTypes

/// Runs instances' code: one VM, shared by every instance of the store. It
/// also owns what references point at: each function's `FunctionRef`, and the
/// canonical signature ids that make `call_indirect` work across modules.
public final class Store {
    /// The engine whose configuration the store runs code with.
    public let engine: Engine
    let vm: VM
    /// Canonical type ids: each recursion group's shape (types outside it named by
    /// their ids) -> the id of its first type; the rest follow it. The supertypes of
    /// every id are in `vm.types`.
    private var groupIDs: [[Int]: UInt32] = [:]
    /// Functions reachable through references, by the id a foreign call hands the host.
    private(set) var referencedFunctions: [Callee] = []
    /// Every instance made in this store, owned by it: a reference to one of
    /// their functions may sit in any table or global of the store.
    var instances: [InstanceEntity] = []

    /// The bit that marks a host-call id as "a function reached through a reference"
    /// (other ids are the calling module's import index).
    static let referenceCallBit: UInt32 = 0x8000_0000

    /// A store running code as `engine` is configured; with fuel metering it starts with no fuel.
    public init(engine: Engine = Engine()) {
        self.engine = engine
        let config = engine.config
        vm = VM(stackSize: config.stackSize, dispatchMode: config.dispatch.mode)
        vm.fuelMetering = config.fuelMetering
        if config.fuelMetering { vm.fuel = 0 }
    }

    /// How this store runs code: its engine's configuration.
    public var config: Config { engine.config }

    /// Decides whether the memories and tables of this store's instances may
    /// be made and grow (see `ResourceLimiter`); nil: only their own maximums
    /// and Sheave's limits bound them. Applies to those already made too.
    public var limiter: (any ResourceLimiter)? {
        get { limits.limiter }
        set { limits.limiter = newValue }
    }
    /// The limiter as the store's memories and tables hold it.
    let limits = LimiterBox()

    /// The fuel left (with fuel metering). Set it to refuel.
    public var fuel: Int64 {
        get { vm.fuel }
        set { vm.fuel = max(newValue, 0) }
    }

    /// Called when running code has used up its fuel, on the thread running it:
    /// returns how much fuel to add (0 or less ends the call with the
    /// "all fuel consumed" trap, as without a handler), and may throw to end the
    /// call with that error. What it adds pays first for what the code ran past
    /// zero; the code resumes where it stopped, as if nothing had happened.
    ///
    ///     var refills = 0
    ///     store.fuel = 10_000
    ///     store.outOfFuelHandler = {
    ///         refills += 1
    ///         return refills <= 100 ? 10_000 : 0     // at most a million units in all
    ///     }
    public var outOfFuelHandler: (() throws -> Int64)?

    /// Called when the store's `InterruptHandle` stopped the running code, on the
    /// thread running it: returns true to let the code go on from where it
    /// stopped, false to end the call with the "interrupted" trap (as without a
    /// handler). A time slice: interrupt on a timer, and let the handler decide
    /// whether the call has had enough (Wasmtime's epoch deadline callback).
    public var interruptHandler: (() throws -> Bool)?

    /// Whether code stopped at a checkpoint for `code` resumes: what the handlers say.
    func resumes(after code: TrapCode) throws -> Bool {
        switch code {
        case .outOfFuel:
            guard let outOfFuelHandler else { return false }
            let more = try outOfFuelHandler()
            guard more > 0 else { return false }
            let (sum, overflow) = vm.fuel.addingReportingOverflow(more)
            vm.fuel = overflow ? .max : sum
            return vm.fuel >= 0
        case .interrupted:
            return try interruptHandler?() ?? false
        default:
            return false
        }
    }

    /// Stops the store's running code at its next checkpoint, from any thread
    /// (with `Config.interruptible`).
    public var interruptHandle: InterruptHandle { InterruptHandle(flag: vm.interruptFlag) }

    /// A profiler sampling this store's running code every `interval` seconds.
    public func profiler(interval: Double = 0.000_1) -> Profiler {
        Profiler(sampler: OpSampler(vm: vm, interval: interval))
    }

    /// The canonical id of a host function's signature: the id of the type a module
    /// declares as `(type (func ...))`, a recursion group of its own, final, with no
    /// supertype. Equal types, equal ids, across modules.
    func signatureID(_ type: FunctionType) -> UInt32 {
        typeIDs([DefinedType(body: .function(type), supertype: nil, isFinal: true, group: 0..<1)])[0]
    }

    /// The canonical ids of a module's types (`ModuleInfo.definedTypes`, validated:
    /// a type names only types of its group or before it, and a supertype comes
    /// before its subtype), registering the groups the store has not seen.
    func typeIDs(_ types: [DefinedType]) -> [UInt32] {
        var ids: [UInt32] = []
        var start = 0
        while start < types.count {
            let group = types[start].group
            // Outside the group: an earlier type, whose id is known (a host type's
            // index, which names no module's type, stands for itself).
            let key = recursionGroupKey(Array(types[group]), first: start) { $0 < ids.count ? Int(ids[$0]) : -1 - $0 }
            let first: UInt32
            if let known = groupIDs[key] {
                first = known
            } else {
                first = UInt32(vm.types.count)
                groupIDs[key] = first
                for member in types[group] {
                    let supertype = member.supertype.map { Int($0) >= start ? first + UInt32(Int($0) - start) : ids[Int($0)] }
                    _ = vm.addType(supertype: supertype)
                }
            }
            ids += (0..<UInt32(group.count)).map { first + $0 }
            start = group.upperBound
        }
        return ids
    }

    /// The canonical type id of a function: a wasm function's declared type's, a host function's signature's.
    func typeID(of callee: Callee) -> UInt32 {
        switch callee {
        case .wasm(let instance, let index): return instance.typeIDs[Int(instance.module.info.functionTypes[index])]
        case .host(let host): return signatureID(host.type)
        }
    }

    /// Registers `handle` with the VM; returns its reference value.
    /// `signature`: a wasm function's canonical type id (a host function's comes from its type).
    func makeFunctionRef(_ handle: Callee, code: UnsafeRawPointer?, signature: UInt32? = nil) -> UInt64 {
        let type = handle.type
        let id = UInt32(referencedFunctions.count) | Self.referenceCallBit
        referencedFunctions.append(handle)
        return vm.register(FunctionRef(code: code, signature: signature ?? signatureID(type), context: nil, hostID: id,
                                       slots: UInt16(max(Value.slotCount(type.parameters), Value.slotCount(type.results)))))
    }
}

/// Stops a store's running code at its next checkpoint (a function entry or a
/// loop header) with a trap ("interrupted"). Safe to use from any thread.
public struct InterruptHandle: Sendable {
    let flag: InterruptFlag

    /// Asks the running code to stop. If nothing runs, the next checkpoint reached stops.
    public func interrupt() { flag.interrupt() }
}
