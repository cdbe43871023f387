import Atomics
import CSheaveSystem
import Dispatch
import SheaveBytecode

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which dispatch loop runs the bytecode. Both run the same handlers and give the same results.
public enum DispatchMode: String, Sendable, CaseIterable {
    /// A `switch` on each opcode inside one loop: portable, one dispatch point.
    case match
    /// Each handler ends by calling the next op's handler, whose address the
    /// code image keeps in front of the op (direct threading); the optimizer
    /// turns the call into a jump.
    case tail

    /// True when this build turns the tail loop's calls into jumps. A debug
    /// build (`-Onone`) does not, and each op would take native stack.
    public static var tailLoopIsSafe: Bool {
        #if DEBUG
        return false
        #else
        return true
        #endif
    }

    /// The tail loop where it is safe (optimized builds), else the match loop.
    public static var `default`: DispatchMode { tailLoopIsSafe ? .tail : .match }
}

/// Why `VM.run()` returned.
public enum RunResult: Equatable {
    /// The entry function returned: read its results with `endCall`.
    case returned
    /// The bytecode called host function `id`. Its arguments are in
    /// `hostSlots`; write its results there and call `run()` again to resume.
    case hostCall(id: UInt32)
    /// The entry frame tail-called host function `id` (only when the call was
    /// started with `tailCallsLeave`): `endCallForTailCall` gives its arguments,
    /// and the host makes the call in this one's place.
    case tailCall(id: UInt32)
    /// An exception that no wasm code of this call caught. The VM is back in the
    /// state it had before `startCall`; `lastBacktrace` holds the wasm frames,
    /// the throw first.
    case exception(ExceptionRecord)
    /// Execution trapped at `pc` (the trapping op). The VM is back in the state
    /// it had before `startCall`; `lastBacktrace` holds the wasm frames.
    case trap(TrapCode, pc: UnsafeRawPointer?)
    /// A checkpoint stopped the code: its fuel is used up (`.outOfFuel`; `fuel`
    /// is negative, the debt) or the store was interrupted (`.interrupted`).
    /// Call `run()` again to resume after the checkpoint (with fuel added first,
    /// for `.outOfFuel`), or `trapStoppedCall` to end the call with that trap.
    case checkpoint(TrapCode)
    /// The bytecode called function `function` of this context, which has no code
    /// yet (a lazily compiled module's: its reference's code is a `lazy_entry`
    /// stub), and the call entered its frame: compile it, give its reference the
    /// code (`setCode`), and `resume(at:)` its first op.
    case compile(function: UInt32)
}

/// A thrown exception: its tag, an object compared by identity (the context's
/// `tags` give the module's), and its payload's slots. An `exnref` names one.
/// Sendable as the errors that carry it must be: its tag and payload never
/// change, and `annotation` is written only by the thread running the store
/// the exception is raised in, as the store's own state is.
public final class ExceptionRecord: Equatable, @unchecked Sendable {
    public let tag: AnyObject
    public let payload: [UInt64]
    /// What the embedder notes on its way out (Sheave: the wasm frames it has
    /// left in other instances' calls); cleared when wasm code catches it.
    public var annotation: Any?

    public init(tag: AnyObject, payload: [UInt64]) {
        self.tag = tag
        self.payload = payload
    }

    /// One exception is itself alone, whatever it carries.
    public static func == (a: ExceptionRecord, b: ExceptionRecord) -> Bool { a === b }
}

/// Bytecode prepared to run, at a stable address, kept alive while a VM runs it.
/// Immutable, so it may be shared between threads.
///
/// **Direct threading.** The image is not the bytecode itself: in front of
/// every op it holds the address of that op's tail handler (`threadedHeader`
/// bytes), followed by the op's bytes unchanged. A handler dispatches the next
/// op with one load from the code and a jump, where indexing a handler table by
/// the opcode took two dependent loads and one more instruction. Branch and
/// call offsets are rewritten for the longer layout (`br_table32`'s too); a
/// target that is not the start of an op (which neither the compiler nor the
/// artifact verifier lets through) is sent to a trap at the image's end. The
/// match loop runs the same image, switching on the opcode behind the header.
///
/// Offsets and addresses stay those of the bytecode for everyone outside:
/// `address(at:)` takes a bytecode offset, `offset(of:)` gives one back.
/// The code images an instance's functions run in: one image of every function
/// (compiled eagerly, or loaded from an artifact), or one image per function
/// compiled so far (lazily). The exception path asks for the image that holds
/// an op, then asks that image for the op's catch clauses.
public protocol CodeImages: AnyObject {
    /// The image that holds `address`, or nil when none does.
    func image(containing address: UnsafeRawPointer) -> CodeImage?
}

public final class CodeImage: CodeImages, @unchecked Sendable {
    /// The first byte of the image.
    public let base: UnsafeRawPointer
    /// The number of bytes of bytecode (not of the image).
    public let count: Int
    /// The bytecode offset of every op, ascending; op `i` starts at image offset
    /// `starts[i] + threadedHeader * i`.
    private let starts: [Int]
    /// The image's size: the ops with their headers, then the trap for bad targets.
    private let imageCount: Int

    /// Where each function starts (bytecode offsets, ascending) and its
    /// `try_table` clauses, innermost first: read only when something throws.
    private let functionStarts: [Int]
    private let handlers: [[ExceptionHandler]]

    /// An image of `bytes`, bytecode of this instruction set. Malformed bytes
    /// (an unknown opcode, a truncated op) become ops that trap as invalid.
    /// `handlers[k]` are the catch clauses of the function at `functionStarts[k]`
    /// (compiled or verified: their landings are ops of that function).
    /// `parallelFrom`: the bytecode size from which the image is made on every core
    /// (`Int.max`: never; the image is the same either way).
    public init(_ bytes: [UInt8], functionStarts: [Int] = [], handlers: [[ExceptionHandler]] = [], parallelFrom: Int = CodeImage.parallelThreshold) {
        precondition(handlers.isEmpty || handlers.count == functionStarts.count, "one list of handlers per function")
        self.functionStarts = functionStarts
        self.handlers = handlers
        // Where each op starts, and its layout (-1: a malformed op, one byte long).
        var starts: [Int] = []
        var layouts: [Int32] = []
        starts.reserveCapacity(bytes.count / 6)
        layouts.reserveCapacity(bytes.count / 6)
        let allLayouts = OpLayout.all  // read once: each read of the static checks its initialization
        bytes.withUnsafeBytes { code in
            var at = 0
            while at < code.count {
                let layout = OpLayout.of(code, at: at, in: allLayouts)
                starts.append(at)
                layouts.append(Int32(layout ?? -1))
                at += layout.map { allLayouts[$0].size(code, at: at) } ?? 1
            }
        }
        self.starts = starts
        count = bytes.count
        imageCount = bytes.count + threadedHeader * (starts.count + 1) + 1
        let image = UnsafeMutableRawPointer.allocate(byteCount: imageCount, alignment: 16)
        base = UnsafeRawPointer(image)
        let trapOffset = imageCount - threadedHeader - 1
        // The trap for bad targets: an invalid opcode's handler and an opcode no op has.
        image.storeBytes(of: VM.invalidOpcodeHandler, toByteOffset: trapOffset, as: TailHandler.self)
        image.storeBytes(of: Self.invalidOpcode, toByteOffset: trapOffset + threadedHeader, as: UInt8.self)
        bytes.withUnsafeBytes { code in
            // A landing is entered from the VM, not from the op before it: it starts with the accumulators empty.
            let landings = handlers.joined().compactMap { Self.op(startingAt: Int($0.landing), in: starts) }.sorted()
            let runs = Self.runs(starts: starts, functionStarts: functionStarts, from: parallelFrom)
            if runs.count == 1 {
                fill(runs[0])
            } else {
                // Each run writes its own part of the image, and reads only what is written
                // above (the code, the op starts and layouts): the threads share nothing else.
                nonisolated(unsafe) let fillRun = fill
                DispatchQueue.concurrentPerform(iterations: runs.count) { fillRun(runs[$0]) }
            }

            /// Chooses the handlers of the ops in `ops` (whole functions: no branch leaves
            /// them, and a call enters a function at its first op) and writes them to the image.
            func fill(_ ops: Range<Int>) {
                let entries = landings.filter { ops.contains($0) }.map { $0 - ops.lowerBound }
                let opHandlers = AccumulatorChoice(code: code, starts: Array(starts[ops]), layouts: Array(layouts[ops]), entries: entries).handlers()
                for i in ops { write(i, handler: opHandlers[i - ops.lowerBound]) }
            }

            func write(_ i: Int, handler: TailHandler) {
                let start = starts[i]
                let at = start + threadedHeader * i
                image.storeBytes(of: handler, toByteOffset: at, as: TailHandler.self)
                guard layouts[i] >= 0 else {
                    // Unknown or cut short: a one-byte op that traps in both loops.
                    image.storeBytes(of: Self.invalidOpcode, toByteOffset: at + threadedHeader, as: UInt8.self)
                    return
                }
                let layout = allLayouts[Int(layouts[i])]
                (image + at + threadedHeader).copyMemory(from: code.baseAddress! + start, byteCount: layout.size(code, at: start))
                func rewrite(_ field: Int) {
                    let offset = Int(code.loadUnaligned(fromByteOffset: start + field, as: Int32.self))
                    let target = imageOffset(ofOp: start + offset) ?? trapOffset
                    image.storeBytes(of: Int32(target - at), toByteOffset: at + threadedHeader + field, as: Int32.self)
                }
                layout.forEachBranchField(code, at: start, rewrite)
            }
        }
    }

    deinit { UnsafeMutableRawPointer(mutating: base).deallocate() }

    /// Below this many bytes of bytecode an image is made on the calling thread alone.
    public static let parallelThreshold = 256 << 10

    /// The ops (indices) in runs of whole functions of about a quarter of `threshold`
    /// bytes of bytecode each, made on every core; one run for an image smaller than
    /// `threshold`, or one without its functions' starts.
    static func runs(starts: [Int], functionStarts: [Int], from threshold: Int) -> [Range<Int>] {
        let whole = [0..<starts.count]
        guard let last = starts.last, last >= threshold, functionStarts.count > 1 else { return whole }
        var runs: [Range<Int>] = []
        var first = 0
        for offset in functionStarts.dropFirst() {
            // A run ends before a function's first op, once it holds its share.
            guard offset - starts[first] >= threshold / 4, let op = Self.op(startingAt: offset, in: starts), op > first else { continue }
            runs.append(first..<op)
            first = op
        }
        runs.append(first..<starts.count)
        return runs
    }

    /// The image's bytes (headers, ops, the trap at its end): for tests comparing two images.
    package var imageBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: imageCount) }

    /// A primary opcode no op has: the match loop traps on it as the tail loop's
    /// invalid-opcode handler does.
    private static let invalidOpcode: UInt8 = 0xFE

    /// The address of the op at bytecode offset `offset`.
    public func address(at offset: Int) -> UnsafeRawPointer {
        guard let at = imageOffset(ofOp: offset) else { preconditionFailure("offset \(offset) is not the start of an op") }
        return base + at
    }

    /// The first catch clause that covers the op at `address` and `catches`, or nil.
    /// `returnAddress`: `address` is where a call returns to, so the op that
    /// covers it is the call just before.
    public func handler(at address: UnsafeRawPointer, returnAddress: Bool,
                        where catches: (ExceptionHandler) -> Bool) -> ExceptionHandler? {
        guard !handlers.isEmpty, let found = offset(of: returnAddress ? address - 1 : address) else { return nil }
        // The function: the last that starts at or before the op.
        let k = Self.firstOp(in: functionStarts) { start, _ in start > found } - 1
        guard k >= 0 else { return nil }
        return handlers[k].first { $0.covers(found) && catches($0) }
    }

    /// Whether the op a call returns to `address` from (the one just before it)
    /// is a tail call (`OpFlags.tailCall`). The exception path's question only:
    /// it decodes the opcode's facts.
    public func isTailCall(before address: UnsafeRawPointer) -> Bool {
        guard let found = offset(of: address - 1) else { return false }
        let i = firstOp { start, _ in start > found } - 1
        guard i >= 0 else { return false }
        // The op's bytes follow its header; an extended opcode is 0xFF and a u16 (host order).
        let op = base + starts[i] + threadedHeader * (i + 1)
        let byte = op.load(as: UInt8.self)
        let flags = byte == 0xFF ? ExtendedOpcode(rawValue: op.loadUnaligned(fromByteOffset: 1, as: UInt16.self))?.info.flags
                                 : Opcode(rawValue: byte)?.info.flags
        return flags?.contains(.tailCall) ?? false
    }

    public func image(containing address: UnsafeRawPointer) -> CodeImage? {
        address >= base && address < base + imageCount ? self : nil
    }

    /// The bytecode offset of `address` in this image, or nil when it lies elsewhere.
    /// An address inside an op's header is the op's start.
    public func offset(of address: UnsafeRawPointer?) -> Int? {
        guard let address, address >= base, address < base + imageCount else { return nil }
        let target = address - base
        // The last op whose image offset is at most `target`.
        let low = firstOp { start, i in start + threadedHeader * i > target }
        guard low > 0 else { return 0 }
        let i = low - 1
        let into = target - (starts[i] + threadedHeader * i)
        return min(starts[i] + max(into - threadedHeader, 0), count)
    }

    /// The image offset of the op starting at bytecode offset `offset`; nil when no op starts there.
    private func imageOffset(ofOp offset: Int) -> Int? {
        Self.op(startingAt: offset, in: starts).map { offset + threadedHeader * $0 }
    }

    /// The index in `starts` (ascending bytecode offsets of ops) of the op that
    /// starts at `offset`; nil when none does.
    static func op(startingAt offset: Int, in starts: [Int]) -> Int? {
        let i = firstOp(in: starts) { start, _ in start >= offset }
        return i < starts.count && starts[i] == offset ? i : nil
    }

    /// The index of the first op for which `isPast(bytecode offset, index)` holds
    /// (`starts.count` if none); `isPast` must be false up to some op and true after.
    private func firstOp(where isPast: (Int, Int) -> Bool) -> Int { Self.firstOp(in: starts, where: isPast) }

    private static func firstOp(in starts: [Int], where isPast: (Int, Int) -> Bool) -> Int {
        var low = 0, high = starts.count
        while low < high {
            let mid = (low + high) / 2
            if isPast(starts[mid], mid) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}

/// What building a code image needs to know of an opcode, read once per opcode
/// from the generated `branchFieldRows`. Plain values, so that looking one up
/// per op copies no array.
struct OpLayout {
    /// The op's size, or for `br_table32` its size without the targets; 0 for an opcode no op has.
    var fixedSize: Int
    /// Where, from the op's start, its `pcrel` operand is; 0 when it has none (no op has two).
    var branchField: Int
    /// Where `br_table32`'s target count is (the targets follow it); 0 for other ops.
    var branchTable: Int
    /// The op's tail handler.
    var handler: TailHandler

    /// The op's size; for `br_table32` this reads the target count, so the op
    /// must have been checked to fit (`of`).
    func size(_ code: UnsafeRawBufferPointer, at: Int) -> Int {
        guard branchTable != 0 else { return fixedSize }
        return fixedSize + 4 * (Int(code.loadUnaligned(fromByteOffset: at + branchTable, as: UInt32.self)) + 1)
    }

    /// Calls `body` with where, from the op's start, each of its `pcrel` operands
    /// is: its branch field, or each of `br_table32`'s targets. The op must have
    /// been checked to fit (`of`), which covers the table.
    func forEachBranchField(_ code: UnsafeRawBufferPointer, at start: Int, _ body: (Int) -> Void) {
        if branchField != 0 { body(branchField) }
        guard branchTable != 0 else { return }
        let count = Int(code.loadUnaligned(fromByteOffset: start + branchTable, as: UInt32.self)) + 1
        for k in 0..<count { body(branchTable + 4 + 4 * k) }
    }

    /// The layout of the op at `at` (an index into `all`), or nil when its opcode
    /// is unknown or it runs past the end.
    /// `all`: `OpLayout.all`, read once by the caller (each read of the static checks its initialization).
    static func of(_ code: UnsafeRawBufferPointer, at: Int, in all: UnsafeMutablePointer<OpLayout>) -> Int? {
        let opcode = Int(code[at])
        var index = opcode
        if opcode == 0xFF {
            guard at + 3 <= code.count else { return nil }
            let extended = Int(code.loadUnaligned(fromByteOffset: at + 1, as: UInt16.self))
            guard extended < extendedOpCount else { return nil }
            index = 256 + extended
        }
        let layout = all[index]
        guard layout.fixedSize != 0, at + layout.fixedSize <= code.count else { return nil }
        if layout.branchTable != 0 {
            let targets = Int(code.loadUnaligned(fromByteOffset: at + layout.branchTable, as: UInt32.self)) + 1
            guard targets <= (code.count - at - layout.fixedSize) / 4 else { return nil }
        }
        return index
    }

    /// Primary opcodes at their value, extended ones at 256 + theirs; sizes and
    /// branch fields from the generated `branchFieldRows`.
    nonisolated(unsafe) static let all: UnsafeMutablePointer<OpLayout> = {
        let table = UnsafeMutablePointer<OpLayout>.allocate(capacity: 256 + extendedOpCount)
        func layout(row: Int, handler: TailHandler) -> OpLayout {
            let fields = branchFieldRows[(3 * row)..<(3 * row + 3)].map(Int.init)
            return OpLayout(fixedSize: fields[0], branchField: fields[1], branchTable: fields[2], handler: handler)
        }
        for byte in 0..<256 {
            table[byte] = byte < primaryOpcodeCount ? layout(row: byte, handler: VM.primaryHandler(byte))
                                                    : OpLayout(fixedSize: 0, branchField: 0, branchTable: 0, handler: VM.invalidOpcodeHandler)
        }
        for index in 0..<extendedOpCount {
            table[256 + index] = layout(row: primaryOpcodeCount + index, handler: VM.extendedHandler(index))
        }
        return table
    }()
}

/// The Sheave virtual machine: a stack, the state of the current call, and the dispatch loops.
///
/// A call takes three steps:
///
///     vm.startCall(code.address(at: 0), arguments: [30])
///     loop: switch vm.run() {
///     case .returned: let results = vm.endCall(resultCount: 1)
///     case .hostCall(let id): /* read and write vm.hostSlots */ continue loop
///     case .checkpoint(let code): /* add fuel and continue loop, or vm.trapStoppedCall(code) */
///     case .trap(let code, _): /* the VM is already unwound */
///     }
///
/// Calls nest: while the VM is stopped at a host call, the host may start,
/// run and end another call; when it ends, the outer call resumes.
public final class VM {
    /// The canonical types of the store this VM runs code for (`addType` adds them).
    public let types = TypeHierarchy()

    /// Adds a canonical type whose supertype is `supertype`, if any; returns its id.
    public func addType(supertype: UInt32?) -> UInt32 {
        let id = types.add(supertype: supertype)
        state.pointee.typeDepths = types.depths
        state.pointee.typeChainStarts = types.chainStarts
        state.pointee.typeChains = types.chains
        state.pointee.typeCount = types.count
        return id
    }

    /// What `startCall` saved, restored when its call ends or traps (Pulley's setjmp).
    private struct Entry {
        var frame: UnsafeMutableRawPointer
        /// The link stack's top while this call runs: its (0, 0) record.
        var links: UnsafeMutableRawPointer
        var savedPC: UnsafeRawPointer?
        var savedFP: UnsafeMutableRawPointer
        var savedLinks: UnsafeMutableRawPointer
        var savedHostFrame: UnsafeMutableRawPointer?
        var savedHostSlots: Int
        var savedTailCallsLeave: Bool
        var pendingTrap: TrapCode?
        /// An exception the host raised at the host call this call is stopped at
        /// (`raise`): the next `run` looks for its handler from there.
        var pendingException: ExceptionRecord?
    }

    /// The dispatch loop `run` uses. `.tail` falls back to `.match` where
    /// `DispatchMode.tailLoopIsSafe` is false.
    public var dispatchMode: DispatchMode

    /// Whether `checkpoint` ops consume fuel (and trap when it runs out).
    public var fuelMetering: Bool {
        get { state.pointee.fuelMetering }
        set {
            state.pointee.fuelMetering = newValue
            if !newValue { state.pointee.fuel = .max }
        }
    }

    /// The fuel left, when metering; `checkpoint` ops consume it.
    public var fuel: Int64 {
        get { state.pointee.fuel }
        set { state.pointee.fuel = newValue }
    }

    /// Stops the code this VM runs at its next checkpoint, from any thread.
    public let interruptFlag: InterruptFlag

    /// The stack's size in bytes.
    public let stackSize: Int
    /// Frames grow up from `stackBase`; the link stack grows down from `stackEnd`.
    private let stackBase: UnsafeMutableRawPointer
    private let stackEnd: UnsafeMutableRawPointer
    private let state: UnsafeMutablePointer<VMState>
    private var entries: [Entry] = []
    /// The thread whose native stack `nativeStackLow` describes, and that stack's lowest address.
    private var nativeStackThread: pthread_t?
    private var nativeStackLow: UInt = 0
    /// Native stack a nested call must leave free: every nested call (a host
    /// function calling back into wasm, a call to another instance's function)
    /// runs the loop again on the host thread's stack, which no VM stack bounds.
    static let nativeStackMargin = 256 << 10
    /// The wasm frames of the last trap, innermost first: the trapping pc, then each
    /// return address; at most `backtraceLimit` of them.
    public private(set) var lastBacktrace: [UnsafeRawPointer] = []
    /// How many outer frames of the last trap's backtrace were counted but not kept.
    public private(set) var lastBacktraceOmitted = 0
    /// The most frames a backtrace keeps (a runaway recursion has millions).
    public static let backtraceLimit = 1000

    /// What the bytecode reaches besides its frame: memory, globals, tables,
    /// segments. Setting it switches the VM to another instance's context.
    public var context: ExecutionContext {
        didSet { syncContext() }
    }

    nonisolated(unsafe) private static let primaryHandlers: UnsafeMutablePointer<TailHandler> = {
        let table = UnsafeMutablePointer<TailHandler>.allocate(capacity: 256)
        installPrimaryTailHandlers(table)
        return table
    }()

    nonisolated(unsafe) private static let extendedHandlers: UnsafeMutablePointer<TailHandler> = {
        let table = UnsafeMutablePointer<TailHandler>.allocate(capacity: max(extendedOpCount, 1))
        installExtendedTailHandlers(table)
        return table
    }()

    /// The tail handlers of a primary and an extended opcode, for `CodeImage`.
    static func primaryHandler(_ opcode: Int) -> TailHandler { primaryHandlers[opcode] }
    static func extendedHandler(_ opcode: Int) -> TailHandler { extendedHandlers[opcode] }

    /// The handler of an op that traps as invalid.
    static let invalidOpcodeHandler: TailHandler = tailInvalidOpcode

    /// Starts recording every op into `profile`. A profiled run takes the match
    /// loop, whose hook records each op: the tail loop's handlers are in the code.
    func installProfile(_ profile: UnsafeMutablePointer<ProfileState>) {
        state.pointee.profile = profile
    }

    /// Stops recording ops.
    func removeProfile() {
        state.pointee.profile = nil
    }

    /// The placeholder base of an absent or empty memory: never dereferenced, as every size check fails.
    nonisolated(unsafe) static let noMemory = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)

    /// The largest stack a VM takes; a larger request gets this much.
    public static let maximumStackSize = 1 << 32

    /// A VM with a stack of `stackSize` bytes (at most `maximumStackSize`): deep
    /// recursion past it traps with a stack overflow. The stack is address space
    /// whose pages cost nothing until used; should the host refuse that much, the
    /// VM takes the largest power-of-two fraction of it the host grants.
    public init(stackSize: Int = 1 << 20, dispatchMode: DispatchMode = .default,
                context: ExecutionContext = ExecutionContext(memory: nil)) {
        precondition(stackSize >= 64, "the stack must hold at least a few frames")
        var size = min(stackSize, Self.maximumStackSize)
        var mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        while mapped == nil || mapped == MAP_FAILED, size > 1 << 16 {
            size /= 2
            mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        }
        guard let mapped, mapped != MAP_FAILED else { fatalError("the host has no 64 KiB of address space left for a stack") }
        self.stackSize = size
        self.dispatchMode = dispatchMode
        self.context = context
        stackBase = mapped
        stackEnd = stackBase + size
        interruptFlag = InterruptFlag()
        state = .allocate(capacity: 1)
        state.initialize(to: VMState(
            memory: Self.noMemory, memorySize: 0, memories: context.memoryStates,
            context: nil, globals: context.globalCells, tables: context.tableStates,
            signatures: context.signatureIDs, typeDepths: types.depths, typeChainStarts: types.chainStarts,
            typeChains: types.chains, typeCount: 0, functionRefs: context.functionRefs,
            functions: .allocate(capacity: 16), functionCount: 0,
            elements: context.elementStates, dataSegments: context.dataStates,
            fuel: .max, fuelMetering: false, interrupt: interruptFlag.flag,
            pc: nil, fp: stackBase, links: stackEnd, stop: .returned, hostFrame: nil, hostSlots: 0, profile: nil))
        syncContext()
    }

    deinit {
        state.pointee.functions.deinitialize(count: state.pointee.functionCount)
        state.pointee.functions.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
        munmap(stackBase, stackSize)
    }

    private var functionCapacity = 16

    /// Adds `function` to the registry; returns the reference value that names it.
    /// The registry may move as it grows, so no pointer into it outlives one op.
    public func register(_ function: FunctionRef) -> UInt64 {
        let count = state.pointee.functionCount
        if count == functionCapacity {
            functionCapacity *= 2
            let grown = UnsafeMutablePointer<FunctionRef>.allocate(capacity: functionCapacity)
            grown.moveInitialize(from: state.pointee.functions, count: count)
            state.pointee.functions.deallocate()
            state.pointee.functions = grown
        }
        (state.pointee.functions + count).initialize(to: function)
        state.pointee.functionCount = count + 1
        return UInt64(count) + 1
    }

    /// The registered function a reference names; nil for null or a value that names none.
    public func function(_ reference: UInt64) -> FunctionRef? {
        let k = reference &- 1
        guard k < UInt64(state.pointee.functionCount) else { return nil }
        return state.pointee.functions[Int(k)]
    }

    /// Sets the execution context of the registered function `reference` names.
    public func setContext(_ context: ExecutionContext, of reference: UInt64) {
        let k = reference &- 1
        precondition(k < UInt64(state.pointee.functionCount), "not a registered function")
        state.pointee.functions[Int(k)].context = context.identity
    }

    /// Goes on, at `entry` (a function's first op), with the call that stopped the run
    /// to have its callee compiled (`RunResult.compile`); then `run()`.
    public func resume(at entry: UnsafeRawPointer) {
        guard !entries.isEmpty, case .compile = state.pointee.stop else { preconditionFailure("resume(at:) without a call stopped for compiling") }
        state.pointee.pc = entry
    }

    /// Sets the first op of the registered function `reference` names: a lazily
    /// compiled function's, once compiled (until then its code is a `lazy_entry` stub).
    public func setCode(_ code: UnsafeRawPointer, of reference: UInt64) {
        let k = reference &- 1
        precondition(k < UInt64(state.pointee.functionCount), "not a registered function")
        state.pointee.functions[Int(k)].code = code
    }

    private func syncContext() {
        // Memory 0's base and size, and the tables' and memories' states, are re-read
        // by `run` before any op runs (`refresh`), not here as well.
        state.pointee.context = context.identity
        state.pointee.memories = context.memoryStates
        state.pointee.globals = context.globalCells
        state.pointee.tables = context.tableStates
        state.pointee.signatures = context.signatureIDs
        state.pointee.functionRefs = context.functionRefs
        state.pointee.elements = context.elementStates
        state.pointee.dataSegments = context.dataStates
    }

    /// Re-reads the current context's tables and memories (after something grew
    /// one of them), and memory 0 into `memory` and `memorySize`. Out of line, for
    /// the grow handlers (a handler itself touches no object: see `growMemory`).
    @inline(never)
    static func refresh(_ state: UnsafeMutablePointer<VMState>) {
        guard let identity = state.pointee.context else { return }
        let context = Unmanaged<ExecutionContext>.fromOpaque(identity).takeUnretainedValue()
        context.refresh()
        if context.memories.isEmpty {
            state.pointee.memory = noMemory
            state.pointee.memorySize = 0
        } else {
            state.pointee.memory = context.memoryStates[0].base
            state.pointee.memorySize = context.memoryStates[0].byteCount
        }
    }

    /// The exceptions an `exnref` names, the reference minus one, and each one's
    /// reference. Kept while the VM lives: without a collector (issue 23) nothing
    /// tells when no `exnref` to one is left; only a `catch_ref` or
    /// `catch_all_ref` adds one, a `catch` or `catch_all` none.
    private var exceptions: [ExceptionRecord] = []
    private var exceptionReferences: [ObjectIdentifier: UInt64] = [:]

    /// The `exnref` that names `exception` (registered on first use).
    public func reference(to exception: ExceptionRecord) -> UInt64 {
        if let known = exceptionReferences[ObjectIdentifier(exception)] { return known }
        exceptions.append(exception)
        let reference = UInt64(exceptions.count)
        exceptionReferences[ObjectIdentifier(exception)] = reference
        return reference
    }

    /// The exception an `exnref` names; nil for null or a value that names none.
    public func exception(_ reference: UInt64) -> ExceptionRecord? {
        let k = reference &- 1
        return k < UInt64(exceptions.count) ? exceptions[Int(k)] : nil
    }

    /// Makes the host call the VM is stopped at throw `exception` (a host
    /// function threw a wasm exception): the next `run` lands it at the first wasm
    /// handler that catches it, from the call outwards, or ends the call with it.
    public func raise(_ exception: ExceptionRecord) {
        precondition(!entries.isEmpty && state.pointee.pc != nil, "raise outside a stopped call")
        entries[entries.count - 1].pendingException = exception
    }

    /// How many calls are in progress (more than one while a host function re-enters).
    public var depth: Int { entries.count }

    // MARK: The three steps

    /// Starts a call of the function whose first op is at `entry`, with `arguments`
    /// in its first registers. Nested inside a host call, the new frame goes
    /// above the host call's slots and its links below the outer call's.
    /// `tailCallsLeave`: a tail call through the host from the entry frame ends
    /// the call (`RunResult.tailCall`) for the host to make in its place.
    public func startCall(_ entry: UnsafeRawPointer, arguments: [UInt64], tailCallsLeave: Bool = false) {
        let frame: UnsafeMutableRawPointer
        if entries.isEmpty {
            frame = stackBase
        } else {
            precondition(state.pointee.hostFrame != nil, "startCall nests only inside a host call")
            frame = state.pointee.hostFrame! + state.pointee.hostSlots * 8
        }
        let links = (entries.isEmpty ? stackEnd : state.pointee.links) - 16
        var record = Entry(frame: frame, links: links, savedPC: state.pointee.pc, savedFP: state.pointee.fp,
                           savedLinks: state.pointee.links,
                           savedHostFrame: state.pointee.hostFrame, savedHostSlots: state.pointee.hostSlots,
                           savedTailCallsLeave: state.pointee.tailCallsLeave)
        // The entry link and the arguments must fit; the callee's push_frame checks the rest.
        let needed = UInt(bitPattern: frame) + UInt(arguments.count) * 8
        if needed > UInt(bitPattern: links) || (!entries.isEmpty && !nativeStackHasRoom()) {
            record.pendingTrap = .stackOverflow
        } else {
            links.storeBytes(of: 0, as: UInt.self)  // return pc 0: back to the host
            links.storeBytes(of: 0, toByteOffset: 8, as: UInt.self)
            for (i, value) in arguments.enumerated() {
                frame.storeBytes(of: value, toByteOffset: i * 8, as: UInt64.self)
            }
        }
        entries.append(record)
        state.pointee.pc = entry
        state.pointee.fp = frame
        state.pointee.links = links
        state.pointee.hostFrame = nil
        state.pointee.hostSlots = 0
        state.pointee.tailCallsLeave = tailCallsLeave
    }

    /// Whether the host thread's native stack has `nativeStackMargin` left below
    /// this point: a nested call that would leave less traps "call stack
    /// exhausted" instead of letting a deep chain of calls between instances
    /// overflow the thread's stack (session 14: 9,500 nested calls crashed the CLI).
    /// Asked only for nested calls; the stack's bounds are read once per thread.
    func nativeStackHasRoom() -> Bool {
        var marker = 0
        let here = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
        let thread = pthread_self()
        if nativeStackThread.map({ pthread_equal($0, thread) == 0 }) ?? true {
            guard let low = Self.nativeStackLowestAddress() else { return true }
            nativeStackThread = thread
            nativeStackLow = low
        }
        return here > nativeStackLow &+ UInt(Self.nativeStackMargin)
    }

    /// The lowest address of the calling thread's stack; nil where the system does not say.
    static func nativeStackLowestAddress() -> UInt? {
        var low: UInt = 0
        return sheave_thread_stack_low(&low) == 0 ? low : nil
    }

    /// Runs until the call returns, calls the host, or traps. A thrown exception
    /// lands at its handler and the run goes on; one no frame of this call catches
    /// ends it (`RunResult.exception`).
    public func run() -> RunResult {
        precondition(!entries.isEmpty, "run() without startCall")
        if let pending = entries[entries.count - 1].pendingTrap {
            lastBacktrace = []
            lastBacktraceOmitted = 0
            unwind()
            return .trap(pending, pc: nil)
        }
        guard let pc = state.pointee.pc else { preconditionFailure("the call has already returned") }
        // The host, since the last run, may have grown a memory or table through the API.
        Self.refresh(state)
        if let raised = entries[entries.count - 1].pendingException {
            entries[entries.count - 1].pendingException = nil
            if let end = land(raised, at: pc, returnAddress: true) { return end }
        }
        while true {
            dispatch()
            // No bytecode runs until the next `run`: samples until then count as outside.
            state.pointee.profile?.pointee.published.store(0, ordering: .relaxed)
            switch state.pointee.stop {
            case .returned:
                state.pointee.pc = nil
                return .returned
            case .hostCall(let id):
                return .hostCall(id: id)
            case .tailCall(let id):
                return .tailCall(id: id)
            case .thrown(let tag):
                let tags = context.tags
                // A tag index the compiler or the verifier checked; a context without tags
                // (the interpreter's own tests) throws a placeholder one.
                let record = ExceptionRecord(tag: Int(tag) < tags.count ? tags[Int(tag)] : Self.unknownTag, payload: Array(hostSlots))
                if let end = land(record, at: state.pointee.pc!, returnAddress: false) { return end }
            case .rethrown:
                guard let reference = hostSlots.first, let record = exception(reference) else {
                    // Only forged code or a careless host makes an `exnref` that names nothing.
                    return endWithTrap(.badSignature)
                }
                if let end = land(record, at: state.pointee.pc!, returnAddress: false) { return end }
            case .checkpoint(let code):
                return .checkpoint(code)
            case .compile(let index):
                return .compile(function: index)
            case .trap(let code):
                return endWithTrap(code)
            }
        }
    }

    /// The tag of an exception thrown in a context that has none (tests of the interpreter alone).
    private static let unknownTag = UnknownTag()
    private final class UnknownTag: Sendable {}

    /// Runs the loop from `state.pc` until it stops.
    private func dispatch() {
        let pc = state.pointee.pc!, fp = state.pointee.fp, links = state.pointee.links
        switch DispatchMode.tailLoopIsSafe && state.pointee.profile == nil ? dispatchMode : .match {
        case .match:
            var executor = Executor(pc: pc, fp: fp, links: links, memory: state.pointee.memory, vm: state)
            do {
                if state.pointee.profile == nil {
                    try executor.runMatchLoop(NoDispatchHook.self)
                } else {
                    try executor.runMatchLoop(ProfilingHook.self)
                }
            } catch {
                executor.exit(error)
            }
        case .tail:
            let handler = pc.loadUnaligned(as: TailHandler.self)
            handler(pc, fp, links, state.pointee.memory, UnsafeMutableRawPointer(state), 0, 0)
        }
    }

    /// Ends the call with the trap the loop stopped at.
    private func endWithTrap(_ code: TrapCode) -> RunResult {
        let trapPC = state.pointee.pc
        (lastBacktrace, lastBacktraceOmitted) = backtrace(from: trapPC)
        unwind()
        return .trap(code, pc: trapPC)
    }

    /// A landing is a checkpoint: with fuel metered it costs one unit, and it
    /// notices an interruption, so that code whose every throw lands where it
    /// throws again (only forged code) still stops. A stop here resumes at the landing.
    private func landingCheckpoint() -> TrapCode? {
        state.pointee.fuel &-= 1
        return state.pointee.checkpointStop()
    }

    /// Lands `exception`, thrown by the op at `pc` (or, with `returnAddress`, by the
    /// call that returns to `pc`), at the first catch clause that catches it: in
    /// this frame, then in each caller's up to the frame the host entered. The
    /// clause's values go to its slots of that frame, and the run goes on at its
    /// landing (nil). When none catches, the call ends with the exception.
    private func land(_ exception: ExceptionRecord, at pc: UnsafeRawPointer, returnAddress: Bool) -> RunResult? {
        if let code = context.code {
            let tags = context.tags
            var (address, isReturn) = (pc, returnAddress)
            var fp = state.pointee.fp, links = state.pointee.links
            // The image of the op at `address` (the call before it, for a return address).
            func image(_ address: UnsafeRawPointer, _ isReturn: Bool) -> CodeImage? {
                code.image(containing: isReturn ? address - 1 : address)
            }
            // Thrown by the callee of a tail call that the host made as an ordinary
            // call: to wasm this frame is gone already, and so are its clauses.
            var frameIsGone = returnAddress && image(pc, true)?.isTailCall(before: pc) == true
            while true {
                let frameImage = image(address, isReturn)
                let found = frameIsGone ? nil : frameImage?.handler(at: address, returnAddress: isReturn) { clause in
                    !clause.kind.hasTag || (Int(clause.tag) < tags.count && tags[Int(clause.tag)] === exception.tag)
                }
                frameIsGone = false
                if let clause = found, let frameImage {
                    // The clause's slots lie in the frame (compiler, or verifier: `slot` plus
                    // what it writes is within the function's frame); check anyway.
                    let window = fp + Int(clause.slot) &* 8
                    guard UInt(bitPattern: window) + UInt(clause.writtenSlots) * 8 <= UInt(bitPattern: links) else { break }
                    for i in 0..<Int(clause.payloadSlots) {
                        window.storeBytes(of: i < exception.payload.count ? exception.payload[i] : 0, toByteOffset: i * 8, as: UInt64.self)
                    }
                    if clause.kind.passesReference {
                        window.storeBytes(of: reference(to: exception), toByteOffset: Int(clause.payloadSlots) * 8, as: UInt64.self)
                    }
                    exception.annotation = nil
                    state.pointee.pc = frameImage.address(at: Int(clause.landing))
                    state.pointee.fp = fp
                    state.pointee.links = links
                    state.pointee.hostFrame = nil
                    state.pointee.hostSlots = 0
                    return landingCheckpoint().map { .checkpoint($0) }
                }
                // The caller's frame; a return pc of 0 is the host's: the call ends here.
                guard let returnPC = UnsafeRawPointer(bitPattern: links.load(as: UInt.self)) else { break }
                fp = links.load(fromByteOffset: 8, as: UnsafeMutableRawPointer.self)
                links += 16
                (address, isReturn) = (returnPC, true)
            }
        }
        (lastBacktrace, lastBacktraceOmitted) = backtrace(from: returnAddress ? pc - 1 : pc)
        unwind()
        return .exception(exception)
    }

    /// Ends a call that returned: reads its first `resultCount` registers and
    /// restores the state saved by `startCall`.
    public func endCall(resultCount: Int) -> [UInt64] {
        precondition(!entries.isEmpty && state.pointee.pc == nil, "endCall before the call returned")
        let frame = entries[entries.count - 1].frame
        let results = (0..<resultCount).map { frame.load(fromByteOffset: $0 * 8, as: UInt64.self) }
        unwind()
        return results
    }

    /// Ends the call stopped at a checkpoint (`RunResult.checkpoint`) as the trap
    /// `code`: records its backtrace, as a trap does, restores the state saved by
    /// its `startCall`, and leaves no fuel debt behind.
    public func trapStoppedCall(_ code: TrapCode) -> VMTrap {
        precondition(!entries.isEmpty, "no call to end")
        let pc = state.pointee.pc
        (lastBacktrace, lastBacktraceOmitted) = backtrace(from: pc)
        unwind()
        if code == .outOfFuel && fuelMetering && fuel < 0 { fuel = 0 }
        return VMTrap(code: code, backtrace: lastBacktrace, omittedFrames: lastBacktraceOmitted)
    }

    /// Abandons the innermost call (for example when a host function it called failed),
    /// restoring the state saved by its `startCall`.
    public func abandonCall() {
        precondition(!entries.isEmpty, "no call to abandon")
        unwind()
    }

    /// The slots of the host call the VM is stopped at: its arguments on entry, its results on resuming.
    public var hostSlots: UnsafeMutableBufferPointer<UInt64> {
        guard let frame = state.pointee.hostFrame else { return UnsafeMutableBufferPointer(start: nil, count: 0) }
        return UnsafeMutableBufferPointer(start: frame.assumingMemoryBound(to: UInt64.self), count: state.pointee.hostSlots)
    }

    private func unwind() {
        let record = entries.removeLast()
        state.pointee.pc = record.savedPC
        state.pointee.fp = record.savedFP
        state.pointee.links = record.savedLinks
        state.pointee.hostFrame = record.savedHostFrame
        state.pointee.hostSlots = record.savedHostSlots
        state.pointee.tailCallsLeave = record.savedTailCallsLeave
    }

    /// Ends the call stopped at a tail call (`RunResult.tailCall`): returns the
    /// slots that hold the callee's arguments (as many as it takes or returns) and
    /// restores the state saved by its `startCall`. The host then makes the call.
    public func endCallForTailCall() -> [UInt64] {
        precondition(!entries.isEmpty, "no call to end")
        let arguments = Array(hostSlots)
        unwind()
        return arguments
    }

    /// The trapping pc, then the return pc of each link up to the innermost call's
    /// entry link: the first `backtraceLimit`, and how many more there were.
    private func backtrace(from pc: UnsafeRawPointer?) -> ([UnsafeRawPointer], omitted: Int) {
        var frames: [UnsafeRawPointer] = pc.map { [$0] } ?? []
        let entryLinks = entries[entries.count - 1].links
        var link = state.pointee.links
        while link < entryLinks, frames.count < Self.backtraceLimit,
              let returnPC = UnsafeRawPointer(bitPattern: link.load(as: UInt.self)) {
            frames.append(returnPC)
            link += 16
        }
        // Links are 16 bytes each, between the innermost and the entry's.
        return (frames, frames.count == Self.backtraceLimit && link < entryLinks ? link.distance(to: entryLinks) / 16 : 0)
    }
}

/// Stops a VM's code at its next checkpoint (a function entry or a loop header
/// of code compiled with checkpoints), with a trap of kind `interrupted`.
/// Safe to use from any thread.
public final class InterruptFlag: @unchecked Sendable {
    let flag = UnsafeAtomic<Int>.create(0)

    deinit { flag.destroy() }

    /// Asks the running code to stop. If nothing runs, the next checkpoint reached stops.
    public func interrupt() {
        flag.store(1, ordering: .relaxed)
    }

    /// Whether an interruption was asked for; clears the request.
    public func take() -> Bool {
        flag.exchange(0, ordering: .relaxed) != 0
    }
}
