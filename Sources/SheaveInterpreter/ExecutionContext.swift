/// What the bytecode of one instance reaches besides its frame: memories,
/// globals, tables, signature ids, `ref.func` values, and the passive element
/// and data segments. The VM runs in one context at a time (`VM.context`).
public final class ExecutionContext {
    /// Linear memories, by index.
    public let memories: [LinearMemory]
    /// Linear memory 0, or nil when there is none.
    public var memory: LinearMemory? { memories.first }
    /// Tables, by index.
    public let tables: [FunctionTable]
    let tableStates: UnsafeMutablePointer<TableState>
    let memoryStates: UnsafeMutablePointer<MemoryState>
    let globalCells: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>>
    let signatureIDs: UnsafeMutablePointer<UInt32>
    let functionRefs: UnsafeMutablePointer<UInt64>
    let functionRefCount: Int
    let elementStates: UnsafeMutablePointer<SegmentState>
    let elementCount: Int
    let dataStates: UnsafeMutablePointer<SegmentState>
    let dataCount: Int
    /// The code the context's functions run, where the VM looks for the handler
    /// of a thrown exception (nil: no handler catches one): one image, or the
    /// images of the functions a lazily compiled module has compiled so far.
    public var code: (any CodeImages)?
    /// Each of the module's exception tags, by index: objects compared by identity
    /// (an import is the object it names), which a thrown exception carries.
    public var tags: [AnyObject] = []
    /// Owned copies of the segments' contents, freed at deinit.
    private var segmentStorage: [UnsafeMutableRawPointer] = []

    /// - Parameters:
    ///   - globals: a pointer to each global's cell, kept alive by the caller. Every cell
    ///     must hold 16 bytes (two `UInt64`s, as `GlobalCell` allocates), whatever the
    ///     global's type: `vglobal_get/set` move 16 bytes, and an artifact's bytecode is
    ///     verified for index ranges, not for the types of the globals it names.
    ///   - signatures: canonical signature id of each of the module's types.
    ///   - functionRefCount: how many functions `ref.func` may name (set each with `setFunctionRef`).
    ///   - elements: each element segment's references.
    ///   - data: each data segment's bytes.
    public init(memories: [LinearMemory], globals: [UnsafeMutablePointer<UInt64>] = [], tables: [FunctionTable] = [],
                signatures: [UInt32] = [], functionRefCount: Int = 0, elements: [[UInt64]] = [], data: [[UInt8]] = []) {
        self.memories = memories
        self.tables = tables
        memoryStates = .allocate(capacity: max(memories.count, 1))
        for (i, memory) in memories.enumerated() {
            (memoryStates + i).initialize(to: MemoryState(base: memory.base, byteCount: memory.byteCount, object: .passUnretained(memory)))
        }
        tableStates = .allocate(capacity: max(tables.count, 1))
        for (i, table) in tables.enumerated() {
            (tableStates + i).initialize(to: TableState(entries: table.entries, count: table.count, object: .passUnretained(table)))
        }
        globalCells = .allocate(capacity: max(globals.count, 1))
        globalCells.initialize(from: globals, count: globals.count)
        signatureIDs = .allocate(capacity: max(signatures.count, 1))
        signatureIDs.initialize(from: signatures, count: signatures.count)
        functionRefs = .allocate(capacity: max(functionRefCount, 1))
        functionRefs.initialize(repeating: 0, count: max(functionRefCount, 1))
        self.functionRefCount = functionRefCount
        elementStates = .allocate(capacity: max(elements.count, 1))
        elementCount = elements.count
        dataStates = .allocate(capacity: max(data.count, 1))
        dataCount = data.count
        for (i, refs) in elements.enumerated() {
            let storage = UnsafeMutableRawPointer.allocate(byteCount: max(refs.count * 8, 8), alignment: 8)
            refs.withUnsafeBytes { if let base = $0.baseAddress { storage.copyMemory(from: base, byteCount: $0.count) } }
            segmentStorage.append(storage)
            (elementStates + i).initialize(to: SegmentState(base: UnsafeRawPointer(storage), count: refs.count))
        }
        for (i, bytes) in data.enumerated() {
            let storage = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
            bytes.withUnsafeBytes { if let base = $0.baseAddress { storage.copyMemory(from: base, byteCount: $0.count) } }
            segmentStorage.append(storage)
            (dataStates + i).initialize(to: SegmentState(base: UnsafeRawPointer(storage), count: bytes.count))
        }
    }

    /// A context with one memory or none (the interpreter's tests and tools).
    public convenience init(memory: LinearMemory?, tables: [FunctionTable] = [], signatures: [UInt32] = []) {
        self.init(memories: memory.map { [$0] } ?? [], tables: tables, signatures: signatures)
    }

    deinit {
        memoryStates.deallocate()
        tableStates.deallocate()
        globalCells.deallocate()
        signatureIDs.deallocate()
        functionRefs.deallocate()
        elementStates.deallocate()
        dataStates.deallocate()
        for storage in segmentStorage { storage.deallocate() }
    }

    /// This context's identity, compared with `FunctionRef.context`.
    public var identity: UnsafeRawPointer { UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()) }

    /// Sets the value `ref.func index` produces.
    public func setFunctionRef(_ index: Int, _ reference: UInt64) {
        precondition(index >= 0 && index < functionRefCount, "function index out of range")
        functionRefs[index] = reference
    }

    /// The references of element segment `index` (empty once dropped).
    public func elementSegment(_ index: Int) -> [UInt64] {
        let state = elementStates[index]
        guard let base = state.base else { return [] }
        return Array(UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt64.self), count: state.count))
    }

    /// Drops element segment `index`, as `elem.drop` does.
    public func dropElementSegment(_ index: Int) { elementStates[index].count = 0 }

    /// Drops data segment `index`, as `data.drop` does.
    public func dropDataSegment(_ index: Int) { dataStates[index].count = 0 }

    /// Re-reads every table and memory, which a grow may have moved or resized:
    /// one from this context (the same object may be imported under two indices),
    /// another context's, or the host's through the embedding API.
    func refresh() {
        for (i, table) in tables.enumerated() {
            tableStates[i].entries = table.entries
            tableStates[i].count = table.count
        }
        for (i, memory) in memories.enumerated() {
            memoryStates[i].base = memory.base
            memoryStates[i].byteCount = memory.byteCount
        }
    }
}
