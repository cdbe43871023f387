import Atomics
import SheaveBytecode

/// Why the run loop stopped. Handlers throw it; the loops turn it into a `RunResult`.
enum Stop: Error {
    /// The entry function returned to the host.
    case returned
    /// A `call_host` op (or an indirect call to a host function) wants host function `id`.
    case hostCall(UInt32)
    /// Execution trapped.
    case trap(TrapCode)
    /// A `lazy_entry` stub: a call (or tail call) entered the frame of function
    /// `index` of this context, which has no code yet (compiled lazily); the run goes
    /// on at the function's first op once the host has compiled it (`VM.resume(at:)`),
    /// as if the call had found the code there (a first op reads no accumulator).
    case compile(UInt32)
    /// A checkpoint found the fuel used up (`.outOfFuel`) or the store
    /// interrupted (`.interrupted`): the code stopped after it, and may resume.
    case checkpoint(TrapCode)
    /// A tail call from the frame the host entered to host function `id` (another
    /// instance's function, or the host's): the host makes it in this call's place.
    case tailCall(UInt32)
    /// A `throw` of tag `id` (an index of the module's tags): its payload is in
    /// `hostFrame`/`hostSlots`. `VM.run` looks for the handler.
    case thrown(UInt32)
    /// A `throw_ref` of a non-null `exnref`, which is in `hostFrame` (one slot).
    /// No payload: a 64-bit one would make `Stop` larger, and every handler that
    /// may stop pays for its size (+1.9% instructions on `indirect` when it had one).
    case rethrown

    /// Whether the loop records the op that stopped it (a trap, a throw: for the
    /// backtrace), not the op after it (where a host call or checkpoint resumes).
    var recordsItsOp: Bool {
        switch self {
        case .trap, .thrown, .rethrown: return true
        case .returned, .hostCall, .checkpoint, .tailCall, .compile: return false
        }
    }
}

/// The handler type shared by every op in the tail loop. The hot state is
/// passed in arguments, so it lives in host registers across the jumps:
/// - `pc`: the op to run, in a code image: its handler's address, then its bytes.
/// - `fp`: the frame pointer; register n is the 8 bytes at `fp + 8n`.
/// - `links`: the top of the link stack, which grows down from the stack's
///   end: each call pushes 16 bytes (return pc, caller's fp).
/// - `memory`: base address of linear memory 0 (its size is in `VMState`).
/// - `vm`: the `VMState`, with everything else (stack limit, tables, where to
///   leave the stop reason); untyped because C function types cannot name it.
/// - `xacc`, `facc`: the accumulators, the last x and f values an op wrote
///   (`Executor.xacc`), for the accumulator forms of the next op to read.
///
/// The next handler's address comes from the code (`CodeImage`), so there is no
/// handler table to carry; the sixth integer argument register, which held it
/// before direct threading, carries `xacc`.
///
/// The C convention is what Swift 6 mode accepts for a table of plain function
/// pointers (`@convention(thin)` references crash the 6.3 compiler at -Onone
/// and are refused in Swift 6 mode); at -O the calls compile to `jmp *%reg`
/// all the same.
typealias TailHandler = @convention(c) (
    _ pc: UnsafeRawPointer, _ fp: UnsafeMutableRawPointer, _ links: UnsafeMutableRawPointer, _ memory: UnsafeMutableRawPointer,
    _ vm: UnsafeMutableRawPointer, _ xacc: UInt64, _ facc: Double
) -> Void

/// A branch's target as a handler sees it: the op's first byte and where its
/// pc-relative `Int32` offset sits. The offset is read only when the branch is
/// taken (`address`), so the next pc is control-dependent on the condition:
/// the CPU predicts the branch and decodes the next op at once. Given a
/// resolved address instead, LLVM reads both candidates and picks one with a
/// `cmov`, and every op after a conditional branch then waited for the
/// condition's operands to be loaded and compared (docs/design.md).
struct BranchTarget {
    /// The first byte of the branching op; the offset is relative to it.
    var start: UnsafeRawPointer
    /// Where the offset sits, from `start`.
    var field: Int

    @inline(__always) var address: UnsafeRawPointer {
        start.advanced(by: Int(start.loadUnaligned(fromByteOffset: field, as: Int32.self)))
    }
}

/// A `br_table32` operand as the interpreter sees it: the offsets stay in the bytecode.
struct BranchTableRef {
    /// The first byte of the `br_table32` op; offsets are relative to it.
    var start: UnsafeRawPointer
    /// The number of targets before the default.
    var count: UInt32
    /// `count + 1` unaligned `Int32` offsets, in the host's byte order (the target's).
    var offsets: UnsafeRawPointer
}

/// A function as references and tables see it. The VM keeps every one in its
/// function registry (`VM.register`); a reference is 1 + its index there, and
/// 0 is null. A reference is never an address, so no value a module or the host
/// forges can make the interpreter read outside the registry: an index past
/// its end traps.
public struct FunctionRef: Equatable, @unchecked Sendable {
    /// The function's first op; nil for a host function.
    public var code: UnsafeRawPointer?
    /// The canonical signature id, compared by `call_indirect`.
    public var signature: UInt32
    /// The execution context the code must run in (`ExecutionContext.identity`).
    /// A call from another context, or to a host function, goes through the host.
    public var context: UnsafeRawPointer?
    /// The id the host receives when the call goes through it.
    public var hostID: UInt32
    /// How many slots the function's arguments and results take.
    public var slots: UInt16

    /// A function reference; see the properties for each part.
    public init(code: UnsafeRawPointer?, signature: UInt32, context: UnsafeRawPointer?, hostID: UInt32, slots: UInt16) {
        self.code = code
        self.signature = signature
        self.context = context
        self.hostID = hostID
        self.slots = slots
    }
}

/// A table as the interpreter sees it: references, 8 bytes each.
struct TableState {
    var entries: UnsafeMutablePointer<UInt64>
    var count: Int
    var object: Unmanaged<FunctionTable>
}

/// A linear memory as the interpreter sees it: its base (valid for `byteCount`
/// bytes; never null) and size, re-read from `object` whenever any memory grows.
struct MemoryState {
    var base: UnsafeMutableRawPointer
    var byteCount: Int
    var object: Unmanaged<LinearMemory>
}

/// An element or data segment as `table.init` / `memory.init` see it; empty once dropped.
struct SegmentState {
    var base: UnsafeRawPointer?
    var count: Int
}

/// The machine state that does not travel in host registers. Owned by `VM`,
/// reached through one pointer from every handler.
struct VMState {
    /// Linear memory 0 (a valid address even when its size is 0) and its size in bytes.
    var memory: UnsafeMutableRawPointer
    var memorySize: Int
    /// Every memory, by index (trusted to be in range); memory 0 is also `memory`
    /// and `memorySize`, kept equal to `memories[0]` (see `VM.refresh`).
    var memories: UnsafeMutablePointer<MemoryState>
    /// The current execution context's identity: `FunctionRef.context` must match for a direct call.
    var context: UnsafeRawPointer?
    /// The current context's globals: a pointer to each 8-byte cell.
    var globals: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>>
    /// Tables, by table index (trusted to be in range).
    var tables: UnsafeMutablePointer<TableState>
    /// Canonical signature ids, by the module's type index (`call_indirect`'s type operand).
    var signatures: UnsafeMutablePointer<UInt32>
    /// The store's canonical types and their supertypes (`TypeHierarchy`'s buffers,
    /// set again whenever it grows): a callee whose type is not the one
    /// `call_indirect` names may still be of a subtype of it.
    var typeDepths: UnsafeMutablePointer<UInt32>
    var typeChainStarts: UnsafeMutablePointer<UInt32>
    var typeChains: UnsafeMutablePointer<UInt32>
    var typeCount: Int
    /// `ref.func` values, by function index.
    var functionRefs: UnsafeMutablePointer<UInt64>
    /// The function registry: a non-null reference `r` names `functions[r - 1]`
    /// when `r - 1 < functionCount`.
    var functions: UnsafeMutablePointer<FunctionRef>
    var functionCount: Int
    /// Element segments (references) and data segments (bytes), by index.
    var elements: UnsafeMutablePointer<SegmentState>
    var dataSegments: UnsafeMutablePointer<SegmentState>

    /// Fuel left; `checkpoint` ops subtract from it. Without metering it starts at
    /// `Int64.max` and is topped up whenever it would run out.
    var fuel: Int64
    var fuelMetering: Bool
    /// Set to non-zero by another thread to stop the run at the next checkpoint.
    var interrupt: UnsafeAtomic<Int>

    /// Where the run loop stopped: the op to resume at (after a host call) or
    /// the trapping op, and the frame pointer and link stack top at that point.
    var pc: UnsafeRawPointer?
    var fp: UnsafeMutableRawPointer
    var links: UnsafeMutableRawPointer
    var stop: Stop
    /// For a host call: the slots holding its arguments and receiving its results.
    var hostFrame: UnsafeMutableRawPointer?
    var hostSlots: Int
    /// Whether a tail call through the host from the entry frame ends this call
    /// (`Stop.tailCall`), for the host to make in its place; set per `startCall`.
    var tailCallsLeave = false

    /// The profiler's state while profiling (see `OpSampler`), else nil.
    var profile: UnsafeMutablePointer<ProfileState>?

    /// Always 0, read by the selects (`Executor.pick`): the optimizer cannot know
    /// its value, so it cannot turn a masked merge back into a select.
    var opaqueZero: UInt64 = 0

    /// What a checkpoint whose cost is already taken from `fuel` stops for: an
    /// interruption, or the fuel used up when it is metered (unmetered fuel that
    /// ran down is topped up); nil to go on. The `checkpoint` op's rare half and
    /// the VM's exception landings (`VM.land`) both ask it.
    mutating func checkpointStop() -> TrapCode? {
        if interrupt.exchange(0, ordering: .relaxed) != 0 { return .interrupted }
        guard fuel < 0 else { return nil }
        guard fuelMetering else {
            fuel = .max
            return nil
        }
        return .outOfFuel
    }
}

/// The canonical types of a store (ids the `Store` hands out) with their declared
/// supertypes: for each id, its depth (0 for a type without a supertype) and its
/// chain of supertypes from the root down to itself, in one flat buffer. A type
/// is a subtype of another when the other sits in its chain at the other's depth:
/// a compare, not a walk. The VM state holds the buffers for `call_indirect`.
public final class TypeHierarchy {
    /// How many ids there are.
    public private(set) var count = 0
    private var capacity = 16, chainCount = 0, chainCapacity = 64
    private(set) var depths: UnsafeMutablePointer<UInt32> = .allocate(capacity: 16)
    private(set) var chainStarts: UnsafeMutablePointer<UInt32> = .allocate(capacity: 16)
    private(set) var chains: UnsafeMutablePointer<UInt32> = .allocate(capacity: 64)

    init() {}

    deinit {
        depths.deallocate()
        chainStarts.deallocate()
        chains.deallocate()
    }

    /// Adds the next id, whose supertype is `supertype` (an id already added), if any.
    func add(supertype: UInt32?) -> UInt32 {
        let id = count
        let inherited = supertype.flatMap { Int($0) < count ? Int($0) : nil }
        let length = inherited.map { Int(depths[$0]) + 2 } ?? 1
        if count == capacity {
            capacity *= 2
            depths = Self.grow(depths, count, capacity)
            chainStarts = Self.grow(chainStarts, count, capacity)
        }
        if chainCount + length > chainCapacity {
            chainCapacity = max(chainCapacity * 2, chainCount + length)
            chains = Self.grow(chains, chainCount, chainCapacity)
        }
        // The supertype's chain (its `depth + 1` entries from its start, all written), then the id.
        if let inherited { (chains + chainCount).initialize(from: chains + Int(chainStarts[inherited]), count: length - 1) }
        chains[chainCount + length - 1] = UInt32(id)
        depths[id] = UInt32(length - 1)
        chainStarts[id] = UInt32(chainCount)
        chainCount += length
        count += 1
        return UInt32(id)
    }

    private static func grow(_ buffer: UnsafeMutablePointer<UInt32>, _ count: Int, _ capacity: Int) -> UnsafeMutablePointer<UInt32> {
        let new = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        new.initialize(from: buffer, count: count)
        buffer.deallocate()
        return new
    }

    /// Whether type `a` is `b` or declares it as a supertype, directly or not.
    public func isSubtype(_ a: UInt32, of b: UInt32) -> Bool {
        Self.isSubtype(a, of: b, depths: depths, chainStarts: chainStarts, chains: chains, count: count)
    }

    /// The check on the buffers (`call_indirect` makes it on the VM state's copies):
    /// ids past `count` are related only when equal.
    @inline(__always)
    static func isSubtype(_ a: UInt32, of b: UInt32, depths: UnsafeMutablePointer<UInt32>, chainStarts: UnsafeMutablePointer<UInt32>,
                          chains: UnsafeMutablePointer<UInt32>, count: Int) -> Bool {
        guard Int(a) < count, Int(b) < count else { return a == b }
        // Both ids are below `count`: their depths and starts are written, and a's chain
        // holds depths[a] + 1 entries, so an index up to depths[a] lies in it.
        let depth = depths[Int(b)]
        return depth <= depths[Int(a)] && chains[Int(chainStarts[Int(a)] + depth)] == b
    }
}
