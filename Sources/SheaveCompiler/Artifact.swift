import SheaveBytecode
import WasmParser
import WasmTypes

// A compiled artifact (`.cwasm`): a module compiled once, loaded many times
// without recompiling.
//
//     offset  size  field
//     0       8     magic "SHEAVE\r\n" (the CR LF catches text-mode mangling)
//     8       4     format version
//     12      8     instruction-set fingerprint (generated from the op table)
//     20      1+n   target name ("pulley64"), length-prefixed
//     ..      8     enabled features (`Features.rawValue`)
//     ..      1     flags: bit 0 = compiled with checkpoints
//     ..      8     body length
//     ..      body  the module's sections, then the function offsets, each function's catch clauses and the bytecode
//     end-4   4     CRC-32 of every byte before it
//
// Everything but the bytecode is little-endian; the bytecode's immediates are
// in the target's byte order. Loading checks, in order: magic, version, instruction set, target,
// length, checksum, then decodes the sections with checked reads, validates the
// module as the compiler would, and verifies the bytecode (`BytecodeVerifier`).

/// Why an artifact could not be loaded.
public struct ArtifactError: Error, Equatable, CustomStringConvertible {
    /// What kind of problem.
    public enum Kind: Equatable, Sendable {
        /// The file does not start with the artifact magic.
        case notAnArtifact
        /// Written by another version of the format, or for another instruction set.
        case unsupportedVersion
        /// Compiled for another target than the one required.
        case wrongTarget
        /// Shorter than its header says.
        case truncated
        /// The checksum does not match: the file was damaged.
        case checksumMismatch
        /// Well-formed on the outside, but its contents are inconsistent.
        case damaged
        /// Its bytecode breaks a rule the interpreter relies on.
        case unverifiable
    }

    /// What kind of problem.
    public let kind: Kind
    /// What exactly, for people.
    public let message: String

    /// An error of `kind`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// A readable form, for messages and logs.
    public var description: String { message }
}

/// The artifact format's constants.
public enum Artifact {
    /// The first eight bytes of every artifact.
    public static let magic: [UInt8] = Array("SHEAVE\r\n".utf8)
    /// The format version this build writes and reads.
    public static let formatVersion: UInt32 = 6
    /// The usual file extension, as Wasmtime's.
    public static let fileExtension = "cwasm"

    /// Whether `bytes` look like an artifact (start with the magic).
    public static func isArtifact(_ bytes: [UInt8]) -> Bool {
        bytes.count >= magic.count && Array(bytes[0..<magic.count]) == magic
    }

    /// The target an artifact's header names; nil when `bytes` are no artifact or
    /// the header cannot be read this far (loading then says why).
    public static func target(of bytes: [UInt8]) -> Target? {
        guard isArtifact(bytes) else { return nil }
        var header = ArtifactReader(bytes)
        header.skip(magic.count)
        guard (try? header.u32()) != nil, (try? header.u64()) != nil, let name = try? header.string8() else { return nil }
        return Target(rawValue: name)
    }
}

extension CompiledModule {
    /// The module as an artifact: everything instantiation needs, for `options.target`.
    public func serialized() -> [UInt8] {
        precondition(!options.lazy, "a lazily compiled module has no code to serialize: compile it whole")
        var body = ArtifactWriter()
        body.module(info)
        body.u32(UInt32(functionOffsets.count))
        for offset in functionOffsets { body.u32(UInt32(offset)) }
        for clauses in handlers {
            body.list(clauses) { w, h in
                w.u32(h.start); w.u32(h.end); w.u8(h.kind.rawValue); w.u32(h.tag)
                w.u32(UInt32(h.slot)); w.u32(UInt32(h.payloadSlots)); w.u32(h.landing)
            }
        }
        body.bytes(code)

        var out = ArtifactWriter()
        out.raw(Artifact.magic)
        out.u32(Artifact.formatVersion)
        out.u64(instructionSetFingerprint)
        out.string8(options.target.rawValue)
        out.u64(UInt64(options.features.rawValue))
        out.u8(options.checkpoints ? 1 : 0)
        out.u64(UInt64(body.data.count))
        out.raw(body.data)
        out.u32(CRC32.checksum(out.data))
        return out.data
    }

    /// Loads an artifact written by `serialized()`.
    ///
    /// - Parameters:
    ///   - bytes: the artifact.
    ///   - target: the target the artifact must be for; nil accepts any (to inspect it).
    /// - Throws: `ArtifactError` naming the first problem found; never traps.
    public init(deserializing bytes: [UInt8], target: Target? = .host) throws(ArtifactError) {
        var header = ArtifactReader(bytes)
        guard Artifact.isArtifact(bytes) else {
            throw ArtifactError(.notAnArtifact, "not a Sheave artifact (bad magic number)")
        }
        header.skip(Artifact.magic.count)
        let version = try header.u32()
        guard version == Artifact.formatVersion else {
            throw ArtifactError(.unsupportedVersion, "artifact format version \(version) is not supported (this Sheave reads version \(Artifact.formatVersion))")
        }
        let fingerprint = try header.u64()
        guard fingerprint == instructionSetFingerprint else {
            throw ArtifactError(.unsupportedVersion, "artifact was compiled for another instruction set (fingerprint \(String(fingerprint, radix: 16)); this Sheave's is \(String(instructionSetFingerprint, radix: 16))): compile it again")
        }
        let name = try header.string8()
        guard let found = Target(rawValue: name) else { throw ArtifactError(.damaged, "unknown target \"\(name)\"") }
        if let target, found != target {
            throw ArtifactError(.wrongTarget, "artifact was compiled for \(found.rawValue), but this machine runs \(target.rawValue)")
        }
        let features = Features(rawValue: Int(truncatingIfNeeded: try header.u64()))
        guard Features.all.isSuperset(of: features) else { throw ArtifactError(.damaged, "unknown features 0x\(String(features.rawValue, radix: 16))") }
        let flags = try header.u8()
        guard flags <= 1 else { throw ArtifactError(.damaged, "unknown flags 0x\(String(flags, radix: 16))") }
        let bodyLength = try header.u64()
        let bodyStart = header.offset
        guard bodyLength <= UInt64(Int.max - bodyStart - 4), bodyStart + Int(bodyLength) + 4 <= bytes.count else {
            // The sum is for the message only, and may exceed 64 bits: it saturates.
            let claimed = bodyLength.addingReportingOverflow(UInt64(bodyStart) + 4)
            throw ArtifactError(.truncated, "artifact is truncated: \(bytes.count) bytes, its header says \(claimed.overflow ? "over 2^64" : String(claimed.partialValue))")
        }
        let end = bodyStart + Int(bodyLength)
        guard end + 4 == bytes.count else { throw ArtifactError(.damaged, "artifact has \(bytes.count - end - 4) bytes past its end") }
        var trailer = ArtifactReader(bytes, offset: end)
        guard try trailer.u32() == CRC32.checksum(bytes[0..<end]) else {
            throw ArtifactError(.checksumMismatch, "artifact is damaged: checksum mismatch")
        }

        let options = CompileOptions(checkpoints: flags & 1 != 0, features: features, target: found)
        var body = ArtifactReader(bytes, offset: bodyStart, end: end)
        var info = try body.module()
        let functionCount = try body.count(elementSize: 4)
        var offsets: [Int] = []
        offsets.reserveCapacity(functionCount)
        for _ in 0..<functionCount { offsets.append(Int(try body.u32())) }
        var handlers: [[ExceptionHandler]] = []
        for _ in 0..<functionCount {
            handlers.append(try body.list { (r: inout ArtifactReader) throws(ArtifactError) in try r.exceptionHandler() })
        }
        let code = try body.byteArray()
        guard body.isAtEnd else { throw ArtifactError(.damaged, "artifact has unread bytes after its code") }
        guard functionCount == info.functionTypes.count - info.importedFunctionCount else {
            throw ArtifactError(.damaged, "artifact has \(functionCount) function bodies for \(info.functionTypes.count - info.importedFunctionCount) functions")
        }
        do {
            try Self.validateModule(info)
            try Self.checkFeatures(info, features)
        } catch {
            throw ArtifactError(.damaged, "artifact holds an invalid module: \(error)")
        }
        info.collectDeclaredFunctionReferences()
        try BytecodeVerifier(info: info, options: options).verify(code: code, functionOffsets: offsets, handlers: handlers)
        self.init(info: info, options: options, code: code, functionOffsets: offsets, handlers: handlers)
    }
}

// MARK: Writing

package struct ArtifactWriter {
    package var data: [UInt8] = []

    package init() {}

    package mutating func raw(_ bytes: [UInt8]) { data.append(contentsOf: bytes) }
    package mutating func u8(_ v: UInt8) { data.append(v) }
    package mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    package mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    package mutating func bool(_ v: Bool) { u8(v ? 1 : 0) }
    package mutating func bytes(_ v: [UInt8]) { u64(UInt64(v.count)); raw(v) }
    package mutating func string(_ v: String) { bytes(Array(v.utf8)) }
    package mutating func string8(_ v: String) { u8(UInt8(v.utf8.count)); raw(Array(v.utf8)) }
    package mutating func list<T>(_ items: [T], _ write: (inout ArtifactWriter, T) -> Void) {
        u32(UInt32(items.count))
        for item in items { write(&self, item) }
    }
    package mutating func optional(_ v: UInt64?) {
        bool(v != nil)
        if let v { u64(v) }
    }

    mutating func valueType(_ type: ValueType) {
        switch type {
        case .i32: u8(0)
        case .i64: u8(1)
        case .f32: u8(2)
        case .f64: u8(3)
        case .v128: u8(4)
        case .ref(let ref): u8(5); referenceType(ref)
        }
    }

    mutating func fieldType(_ field: FieldType) {
        bool(field.isMutable)
        switch field.storage {
        case .packed(.i8): u8(0)
        case .packed(.i16): u8(1)
        case .value(let type): u8(2); valueType(type)
        }
    }

    mutating func referenceType(_ ref: ReferenceType) {
        bool(ref.isNullable)
        switch ref.heapType {
        case .abstract(let abstract): u8(0); u8(abstract.rawValue)
        case .concrete(let index): u8(1); u32(index)
        }
    }

    mutating func limits(_ limits: Limits) {
        u64(limits.min)
        optional(limits.max)
        bool(limits.isMemory64)
        bool(limits.shared)
    }

    mutating func tableType(_ type: TableType) { referenceType(type.elementType); limits(type.limits) }
    mutating func globalType(_ type: GlobalType) { bool(type.mutability == .variable); valueType(type.valueType) }

    /// A constant expression: only the instructions constant expressions may hold
    /// (the compiler validated it), each as a tag and its immediate.
    mutating func expression(_ expression: ConstExpression) {
        list(expression) { w, instruction in
            switch instruction {
            case .i32Const(let v): w.u8(0); w.u32(UInt32(bitPattern: v))
            case .i64Const(let v): w.u8(1); w.u64(UInt64(bitPattern: v))
            case .f32Const(let v): w.u8(2); w.u32(v.bitPattern)
            case .f64Const(let v): w.u8(3); w.u64(v.bitPattern)
            case .refNull(let heap): w.u8(4); w.referenceType(ReferenceType(isNullable: true, heapType: heap))
            case .refFunc(let index): w.u8(5); w.u32(index)
            case .globalGet(let index): w.u8(6); w.u32(index)
            case .binary(.i32Add): w.u8(7)
            case .binary(.i32Sub): w.u8(8)
            case .binary(.i32Mul): w.u8(9)
            case .binary(.i64Add): w.u8(10)
            case .binary(.i64Sub): w.u8(11)
            case .binary(.i64Mul): w.u8(12)
            case .end: w.u8(13)
            case .v128Const(let v): w.u8(14); for byte in v.bytes { w.u8(byte) }
            default: preconditionFailure("not a constant instruction: \(instruction)")  // validation admits none other
            }
        }
    }

    mutating func module(_ info: ModuleInfo) {
        // The type section: each type with the size of its recursion group when it
        // starts one (0 inside a group), its supertype and finality, then its body.
        let groupSizes = info.definedTypes.enumerated().map { i, type in type.group.lowerBound == i ? type.group.count : 0 }
        list(Array(zip(groupSizes, info.definedTypes))) { w, entry in
            let (groupSize, type) = entry
            w.u32(UInt32(groupSize))
            w.optional(type.supertype.map(UInt64.init))
            w.bool(type.isFinal)
            switch type.body {
            case .function(let function):
                w.u8(0)
                w.list(function.parameters) { $0.valueType($1) }
                w.list(function.results) { $0.valueType($1) }
            case .structType(let structure):
                w.u8(1)
                w.list(structure.fields) { $0.fieldType($1) }
            case .arrayType(let array):
                w.u8(2)
                w.fieldType(array.element)
            }
        }
        list(info.imports) { w, entry in
            w.string(entry.module)
            w.string(entry.name)
            switch entry.descriptor {
            case .function(let type): w.u8(0); w.u32(type)
            case .table(let type): w.u8(1); w.tableType(type)
            case .memory(let type): w.u8(2); w.limits(type)
            case .global(let type): w.u8(3); w.globalType(type)
            case .tag(let type): w.u8(4); w.u32(type)
            }
        }
        list(Array(info.functionTypes[info.importedFunctionCount...])) { $0.u32($1) }
        list(Array(info.tables[info.importedTableCount...])) { $0.tableType($1) }
        list(Array(info.memories[info.importedMemoryCount...])) { $0.limits($1) }
        list(Array(info.globals[info.importedGlobalCount...])) { $0.globalType($1) }
        list(Array(info.tags[info.importedTagCount...])) { $0.u32($1) }
        list(info.globalInitializers) { $0.expression($1) }
        list(info.tableInitializers) { w, initializer in
            if let initializer { w.u8(1); w.expression(initializer) } else { w.u8(0) }
        }
        list(info.exports) { w, export in
            w.string(export.name)
            switch export.descriptor {
            case .function(let i): w.u8(0); w.u32(i)
            case .table(let i): w.u8(1); w.u32(i)
            case .memory(let i): w.u8(2); w.u32(i)
            case .global(let i): w.u8(3); w.u32(i)
            case .tag(let i): w.u8(4); w.u32(i)
            }
        }
        optional(info.start.map(UInt64.init))
        list(info.elements) { w, segment in
            w.referenceType(segment.type)
            w.list(segment.initializer) { $0.expression($1) }
            switch segment.mode {
            case .active(let table, let offset): w.u8(0); w.u32(table); w.expression(offset)
            case .passive: w.u8(1)
            case .declarative: w.u8(2)
            }
        }
        list(info.data) { w, segment in
            switch segment.mode {
            case .passive: w.u8(0)
            case .active(let memory, let offset): w.u8(1); w.u32(memory); w.expression(offset)
            }
            w.bytes(segment.bytes)
        }
        optional(info.dataCount.map(UInt64.init))
        list(info.functionNames.sorted { $0.key < $1.key }) { w, entry in
            w.u32(entry.key)
            w.string(entry.value)
        }
    }
}

// MARK: Reading

/// Checked reads over an artifact: every read is bounds-checked and every count
/// is checked against the bytes left before anything is allocated for it.
package struct ArtifactReader {
    let bytes: [UInt8]
    package private(set) var offset: Int
    let end: Int

    package init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    package var isAtEnd: Bool { offset == end }

    package func damaged(_ what: String) -> ArtifactError {
        ArtifactError(.damaged, "artifact is damaged: \(what) at byte \(offset)")
    }

    mutating func skip(_ count: Int) { offset += count }

    package mutating func u8() throws(ArtifactError) -> UInt8 {
        guard offset < end else { throw damaged("unexpected end") }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(ArtifactError) -> T {
        let size = MemoryLayout<T>.size
        guard end - offset >= size else { throw damaged("unexpected end") }
        var value: T = 0
        for i in 0..<size { value |= T(bytes[offset + i]) << (8 * i) }
        offset += size
        return value
    }

    package mutating func u32() throws(ArtifactError) -> UInt32 { try integer(UInt32.self) }
    package mutating func u64() throws(ArtifactError) -> UInt64 { try integer(UInt64.self) }

    package mutating func bool() throws(ArtifactError) -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        default: throw damaged("bad boolean")
        }
    }

    /// A u32 count of items taking at least `elementSize` bytes each.
    package mutating func count(elementSize: Int = 1) throws(ArtifactError) -> Int {
        let count = Int(try u32())
        guard count <= (end - offset) / max(elementSize, 1) else { throw damaged("count \(count) larger than the data") }
        return count
    }

    package mutating func byteArray() throws(ArtifactError) -> [UInt8] {
        let count = try u64()
        guard count <= UInt64(end - offset) else { throw damaged("length \(count) larger than the data") }
        defer { offset += Int(count) }
        return Array(bytes[offset..<offset + Int(count)])
    }

    package mutating func string() throws(ArtifactError) -> String {
        let raw = try byteArray()
        guard let text = String(validating: raw, as: UTF8.self) else { throw damaged("invalid UTF-8") }
        return text
    }

    package mutating func string8() throws(ArtifactError) -> String {
        let count = Int(try u8())
        guard end - offset >= count else { throw damaged("unexpected end") }
        defer { offset += count }
        return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
    }

    /// One catch clause: its fields as `serialized` writes them, each in range of its type.
    mutating func exceptionHandler() throws(ArtifactError) -> ExceptionHandler {
        let start = try u32(), end = try u32()
        guard let kind = ExceptionHandler.Kind(rawValue: try u8()) else { throw damaged("unknown catch clause kind") }
        let tag = try u32(), slot = try u32(), payloadSlots = try u32(), landing = try u32()
        guard slot <= UInt32(UInt16.max), payloadSlots <= UInt32(UInt16.max) else { throw damaged("catch clause slots out of range") }
        return ExceptionHandler(start: start, end: end, kind: kind, tag: tag, slot: UInt16(slot), payloadSlots: UInt16(payloadSlots), landing: landing)
    }

    package mutating func list<T>(_ read: (inout ArtifactReader) throws(ArtifactError) -> T) throws(ArtifactError) -> [T] {
        let count = try count()
        var items: [T] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try read(&self)) }
        return items
    }

    package mutating func optional() throws(ArtifactError) -> UInt64? {
        try bool() ? try u64() : nil
    }

    package mutating func u32Optional() throws(ArtifactError) -> UInt32? {
        guard let value = try optional() else { return nil }
        guard value <= UInt64(UInt32.max) else { throw damaged("index out of range") }
        return UInt32(value)
    }

    mutating func valueType() throws(ArtifactError) -> ValueType {
        switch try u8() {
        case 0: return .i32
        case 1: return .i64
        case 2: return .f32
        case 3: return .f64
        case 4: return .v128
        case 5: return .ref(try referenceType())
        default: throw damaged("bad value type")
        }
    }

    mutating func fieldType() throws(ArtifactError) -> FieldType {
        let mutable = try bool()
        switch try u8() {
        case 0: return FieldType(storage: .packed(.i8), isMutable: mutable)
        case 1: return FieldType(storage: .packed(.i16), isMutable: mutable)
        case 2: return FieldType(storage: .value(try valueType()), isMutable: mutable)
        default: throw damaged("bad storage type")
        }
    }

    mutating func referenceType() throws(ArtifactError) -> ReferenceType {
        let nullable = try bool()
        switch try u8() {
        case 0:
            guard let abstract = AbstractHeapType(rawValue: try u8()) else { throw damaged("bad heap type") }
            return ReferenceType(isNullable: nullable, heapType: .abstract(abstract))
        case 1: return ReferenceType(isNullable: nullable, heapType: .concrete(typeIndex: try u32()))
        default: throw damaged("bad heap type")
        }
    }

    mutating func limits() throws(ArtifactError) -> Limits {
        Limits(min: try u64(), max: try optional(), isMemory64: try bool(), shared: try bool())
    }

    mutating func tableType() throws(ArtifactError) -> TableType {
        TableType(elementType: try referenceType(), limits: try limits())
    }

    mutating func globalType() throws(ArtifactError) -> GlobalType {
        let mutable = try bool()
        return GlobalType(mutability: mutable ? .variable : .constant, valueType: try valueType())
    }

    mutating func expression() throws(ArtifactError) -> ConstExpression {
        try list { (r: inout ArtifactReader) throws(ArtifactError) -> Instruction in
            switch try r.u8() {
            case 0: return .i32Const(value: Int32(bitPattern: try r.u32()))
            case 1: return .i64Const(value: Int64(bitPattern: try r.u64()))
            case 2: return .f32Const(value: IEEE754.Float32(bitPattern: try r.u32()))
            case 3: return .f64Const(value: IEEE754.Float64(bitPattern: try r.u64()))
            case 4: return .refNull(type: try r.referenceType().heapType)
            case 5: return .refFunc(functionIndex: try r.u32())
            case 6: return .globalGet(globalIndex: try r.u32())
            case 7: return .binary(.i32Add)
            case 8: return .binary(.i32Sub)
            case 9: return .binary(.i32Mul)
            case 10: return .binary(.i64Add)
            case 11: return .binary(.i64Sub)
            case 12: return .binary(.i64Mul)
            case 13: return .end
            case 14:
                var bytes: [UInt8] = []
                for _ in 0..<16 { bytes.append(try r.u8()) }
                return .v128Const(value: V128(bytes: bytes))
            default: throw r.damaged("bad constant instruction")
            }
        }
    }

    mutating func module() throws(ArtifactError) -> ModuleInfo {
        var info = ModuleInfo()
        let types = try list { (r: inout ArtifactReader) throws(ArtifactError) -> (groupSize: Int, type: DefinedType) in
            let groupSize = Int(try r.u32())
            let supertype = try r.u32Optional()
            let isFinal = try r.bool()
            let body: CompositeType
            switch try r.u8() {
            case 0:
                body = .function(FunctionType(parameters: try r.list { (r: inout ArtifactReader) throws(ArtifactError) in try r.valueType() },
                                              results: try r.list { (r: inout ArtifactReader) throws(ArtifactError) in try r.valueType() }))
            case 1: body = .structType(StructType(fields: try r.list { (r: inout ArtifactReader) throws(ArtifactError) in try r.fieldType() }))
            case 2: body = .arrayType(ArrayType(element: try r.fieldType()))
            default: throw r.damaged("bad composite type")
            }
            return (groupSize, DefinedType(body: body, supertype: supertype, isFinal: isFinal, group: 0..<0))
        }
        // A group size starts a recursion group (0: a type inside the current one).
        var group = 0..<0
        for (i, entry) in types.enumerated() {
            if entry.groupSize > 0 {
                guard i == group.upperBound, entry.groupSize <= types.count - i else { throw damaged("bad recursion group") }
                group = i..<(i + entry.groupSize)
            } else {
                guard i < group.upperBound else { throw damaged("a type outside every recursion group") }
            }
            var type = entry.type
            type.group = group
            info.append(type)
        }
        info.canonicalizeTypes()
        info.imports = try list { (r: inout ArtifactReader) throws(ArtifactError) -> Import in
            let module = try r.string(), name = try r.string()
            switch try r.u8() {
            case 0: return Import(module: module, name: name, descriptor: .function(try r.u32()))
            case 1: return Import(module: module, name: name, descriptor: .table(try r.tableType()))
            case 2: return Import(module: module, name: name, descriptor: .memory(try r.limits()))
            case 3: return Import(module: module, name: name, descriptor: .global(try r.globalType()))
            case 4: return Import(module: module, name: name, descriptor: .tag(try r.u32()))
            default: throw r.damaged("bad import kind")
            }
        }
        for entry in info.imports {
            switch entry.descriptor {
            case .function(let type): info.functionTypes.append(type); info.importedFunctionCount += 1
            case .table(let type): info.tables.append(type); info.importedTableCount += 1
            case .memory(let type): info.memories.append(type); info.importedMemoryCount += 1
            case .global(let type): info.globals.append(type); info.importedGlobalCount += 1
            case .tag(let type): info.tags.append(type); info.importedTagCount += 1
            }
        }
        info.functionTypes += try list { (r: inout ArtifactReader) throws(ArtifactError) in try r.u32() }
        info.tables += try list { (r: inout ArtifactReader) throws(ArtifactError) in try r.tableType() }
        info.memories += try list { (r: inout ArtifactReader) throws(ArtifactError) in try r.limits() }
        info.globals += try list { (r: inout ArtifactReader) throws(ArtifactError) in try r.globalType() }
        info.tags += try list { (r: inout ArtifactReader) throws(ArtifactError) in try r.u32() }
        info.globalInitializers = try list { (r: inout ArtifactReader) throws(ArtifactError) in try r.expression() }
        guard info.globalInitializers.count == info.globals.count - info.importedGlobalCount else {
            throw damaged("\(info.globalInitializers.count) initializers for \(info.globals.count - info.importedGlobalCount) globals")
        }
        info.tableInitializers = try list { (r: inout ArtifactReader) throws(ArtifactError) -> ConstExpression? in
            switch try r.u8() {
            case 0: return nil
            case 1: return try r.expression()
            default: throw r.damaged("bad table initializer")
            }
        }
        guard info.tableInitializers.count == info.tables.count - info.importedTableCount else {
            throw damaged("\(info.tableInitializers.count) table initializers for \(info.tables.count - info.importedTableCount) tables")
        }
        info.exports = try list { (r: inout ArtifactReader) throws(ArtifactError) -> Export in
            let name = try r.string()
            switch try r.u8() {
            case 0: return Export(name: name, descriptor: .function(try r.u32()))
            case 1: return Export(name: name, descriptor: .table(try r.u32()))
            case 2: return Export(name: name, descriptor: .memory(try r.u32()))
            case 3: return Export(name: name, descriptor: .global(try r.u32()))
            case 4: return Export(name: name, descriptor: .tag(try r.u32()))
            default: throw r.damaged("bad export kind")
            }
        }
        info.start = try u32Optional()
        info.elements = try list { (r: inout ArtifactReader) throws(ArtifactError) -> ElementSegment in
            let type = try r.referenceType()
            let initializer = try r.list { (r: inout ArtifactReader) throws(ArtifactError) in try r.expression() }
            let mode: ElementSegment.Mode
            switch try r.u8() {
            case 0: mode = .active(table: try r.u32(), offset: try r.expression())
            case 1: mode = .passive
            case 2: mode = .declarative
            default: throw r.damaged("bad element segment mode")
            }
            return ElementSegment(type: type, initializer: initializer, mode: mode)
        }
        info.data = try list { (r: inout ArtifactReader) throws(ArtifactError) -> ModuleInfo.Data in
            let mode: ModuleInfo.Data.Mode
            switch try r.u8() {
            case 0: mode = .passive
            case 1: mode = .active(memory: try r.u32(), offset: try r.expression())
            default: throw r.damaged("bad data segment mode")
            }
            return ModuleInfo.Data(mode: mode, bytes: try r.byteArray())
        }
        info.dataCount = try u32Optional()
        if let dataCount = info.dataCount, Int(dataCount) != info.data.count { throw damaged("data count differs from the data segments") }
        let names = try list { (r: inout ArtifactReader) throws(ArtifactError) in (try r.u32(), try r.string()) }
        for (index, name) in names { info.functionNames[index] = name }
        return info
    }
}

/// CRC-32 (IEEE 802.3, as zlib's), for catching accidental damage. It is no
/// defence against deliberate changes: the bytecode verifier is.
package enum CRC32 {
    /// Eight tables of 256 entries, one after the other: entry `n` of table `k` is
    /// the CRC of byte `n` followed by `k` zero bytes, so that eight bytes are taken
    /// at a time (slicing-by-8: 4x the speed of a byte at a time).
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            tables[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 {
                let previous = tables[(k - 1) * 256 + n]
                tables[k * 256 + n] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    package static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        if let crc = bytes.withContiguousStorageIfAvailable({ update(0xFFFF_FFFF, $0) }) { return crc ^ 0xFFFF_FFFF }
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = tables[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// `crc` carried over `buffer`.
    private static func update(_ crc: UInt32, _ buffer: UnsafeBufferPointer<UInt8>) -> UInt32 {
        tables.withUnsafeBufferPointer { t in
            var crc = crc, i = 0
            // Every index into `t` is a byte plus k * 256 with k < 8: inside its 2048 entries.
            while buffer.count - i >= 8 {  // bytes i..<i+8 lie in the buffer
                let low = crc ^ (UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8 | UInt32(buffer[i + 2]) << 16 | UInt32(buffer[i + 3]) << 24)
                let high = UInt32(buffer[i + 4]) | UInt32(buffer[i + 5]) << 8 | UInt32(buffer[i + 6]) << 16 | UInt32(buffer[i + 7]) << 24
                crc = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ t[256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                i += 8
            }
            while i < buffer.count {  // the last bytes, one at a time
                crc = t[Int((crc ^ UInt32(buffer[i])) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
            return crc
        }
    }
}
