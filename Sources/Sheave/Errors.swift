import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter
import WasmParser
import WasmTypes

/// A WebAssembly exception: one that wasm code threw and no wasm code caught
/// (its tag, its payload, and the throwing instance's wasm frames, the throw
/// first), or one a host function throws for wasm code to catch:
///
///     let failed = Tag(type: FunctionType(parameters: [.i32]))!
///     linker.defineFunction("env", "fail", parameters: [.i32], results: []) { _, arguments in
///         throw try WasmException(tag: failed, values: arguments)
///     }
///
/// Thrown through wasm code, it is caught by a `try_table` clause naming its
/// tag (or catching all), as if a `throw` had thrown it at the call.
public struct WasmException: Error, CustomStringConvertible {
    /// The tag it was thrown with (compare by identity: `===`).
    public let tag: Tag
    /// The payload, of the tag's parameter types.
    public let values: [Value]
    /// The wasm frames at the throw, innermost first (empty for one the host made).
    public let backtrace: [Trap.Frame]
    /// How many outer frames were left out of `backtrace`.
    public var omittedFrames = 0
    /// The exception itself: what wasm code catches and what an `exnref` names
    /// (rethrown, it stays the same exception).
    let record: ExceptionRecord

    /// An exception of `tag` with payload `values`, for a host function to throw.
    /// Throws `LinkError` unless the values have the tag's parameter types.
    public init(tag: Tag, values: [Value]) throws {
        let parameters = tag.type.parameters
        guard values.count == parameters.count, zip(values, parameters).allSatisfy({ $0.matches($1) }) else {
            throw LinkError(message: "exception payload \(values) does not match the tag's types \(parameters)")
        }
        self.tag = tag
        self.values = values
        self.backtrace = []
        self.record = ExceptionRecord(tag: tag, payload: values.flatMap(\.slots))
    }

    /// The exception the VM reports, with the frames of its backtrace. Throws a
    /// trap when its tag is no `Tag` or its payload is short of the tag's types
    /// (only forged code gets there: the verifier checks a throw's slots).
    /// The frames are this call's; those the exception left in inner calls
    /// (another instance's, reached through a host call) come first.
    init(_ record: ExceptionRecord, backtrace: [Trap.Frame], omittedFrames: Int) throws {
        guard let tag = record.tag as? Tag, record.payload.count >= Value.slotCount(tag.type.parameters) else {
            throw Trap(code: .badSignature, backtrace: backtrace)
        }
        let inner = record.annotation as? Frames
        self.tag = tag
        self.values = Value.decode(record.payload, as: tag.type.parameters)
        self.backtrace = (inner?.frames ?? []) + backtrace
        self.omittedFrames = (inner?.omitted ?? 0) + omittedFrames
        self.record = record
    }

    /// The frames an exception has left so far, noted on its record as it leaves
    /// a call for the one around it (`recordNotingFrames`).
    struct Frames {
        var frames: [Trap.Frame]
        var omitted: Int
    }

    /// The exception to throw at the host call that this one left: its record,
    /// on which its frames so far are noted.
    func recordNotingFrames() -> ExceptionRecord {
        record.annotation = Frames(frames: backtrace, omitted: omittedFrames)
        return record
    }

    /// What happened, in words: "uncaught exception", and its payload.
    public var message: String {
        "uncaught exception" + (values.isEmpty ? "" : " (payload " + values.map { "\($0)" }.joined(separator: ", ") + ")")
    }

    /// A readable form, for messages and logs: the message, then the backtrace
    /// with repeated frames folded, as a trap's.
    public var description: String {
        ([message] + Trap.backtraceLines(backtrace, omitted: omittedFrames)).joined(separator: "\n")
    }
}

/// Execution stopped with a trap.
public struct Trap: Error, CustomStringConvertible {
    /// One wasm frame of a trap's backtrace.
    public struct Frame: Equatable, Sendable, CustomStringConvertible {
        /// The function's index in its module's function index space.
        public let function: Int
        /// Its name from the module's name section, if it has one.
        public let name: String?
        /// The offset of the op in the function's bytecode.
        public let offset: Int

        /// A readable form, for messages and logs.
        public var description: String {
            (name ?? "<wasm function \(function)>") + " (bytecode offset 0x\(String(offset, radix: 16)))"
        }
    }

    /// What went wrong.
    public let code: TrapCode
    /// The wasm frames at the trap, innermost first (empty for traps outside wasm
    /// code); at most a thousand, the innermost.
    public let backtrace: [Frame]
    /// How many outer frames the backtrace leaves out (a runaway recursion has millions).
    public let omittedFrames: Int

    /// A trap of kind `code` with the wasm frames at the point it happened.
    public init(code: TrapCode, backtrace: [Frame] = [], omittedFrames: Int = 0) {
        self.code = code
        self.backtrace = backtrace
        self.omittedFrames = omittedFrames
    }

    /// The kind, worded as the spec test suite words it.
    public var message: String { code.description }

    /// A readable form, for messages and logs: the message, then the backtrace
    /// with repeated frames folded (a recursion prints its cycle once, with how
    /// many times it repeats).
    public var description: String {
        ([message] + Self.backtraceLines(backtrace, omitted: omittedFrames)).joined(separator: "\n")
    }

    /// "wasm backtrace:" and a line per frame, repeated frames folded; nothing
    /// for no frames.
    static func backtraceLines(_ backtrace: [Frame], omitted omittedFrames: Int) -> [String] {
        guard !backtrace.isEmpty else { return [] }
        var lines = ["wasm backtrace:"]
        var i = 0
        while i < backtrace.count {
            let (period, repeats) = Self.cycle(in: backtrace, at: i)
            for j in i..<i + period { lines.append("  \(j): \(backtrace[j])") }
            if repeats > 1 {
                let frames = period == 1 ? "the frame above" : "the \(period) frames above"
                lines.append("  ... \(frames) \(repeats - 1) more time\(repeats == 2 ? "" : "s") (frames \(i + period)-\(i + period * repeats - 1))")
            }
            i += period * repeats
        }
        if omittedFrames > 0 { lines.append("  ... and \(omittedFrames) outer frame\(omittedFrames == 1 ? "" : "s") not recorded") }
        return lines
    }

    /// The shortest run of frames starting at `start` (up to eight long) that
    /// repeats at least three times in a row there, and how many times it does;
    /// (1, 1) when none does.
    static func cycle(in frames: [Frame], at start: Int) -> (period: Int, repeats: Int) {
        for period in 1...8 where start + 3 * period <= frames.count {
            var repeats = 1
            while start + (repeats + 1) * period <= frames.count,
                  frames[(start + repeats * period)..<(start + (repeats + 1) * period)].elementsEqual(frames[start..<(start + period)]) {
                repeats += 1
            }
            if repeats >= 3 { return (period, repeats) }
        }
        return (1, 1)
    }
}

/// Instantiation failed before the module ran: an import is missing or has the wrong type.
public struct LinkError: Error, CustomStringConvertible {
    /// What is wrong, in words.
    public let message: String
    /// A link error saying `message`.
    public init(message: String) { self.message = message }
    /// A readable form, for messages and logs.
    public var description: String { message }
}

/// Why a module could not be made: from a binary or text module that is
/// malformed, invalid or uses what Sheave does not support, or from an artifact
/// (or a profile holding one) that cannot be loaded.
public struct ModuleError: Error, Equatable, CustomStringConvertible {
    /// What kind of problem.
    public enum Kind: Equatable, Sendable {
        /// The bytes are not a well-formed module (spec: "malformed").
        case malformed
        /// The module is well formed but breaks a validation rule (spec: "invalid").
        case invalid
        /// Valid, but uses something Sheave does not support yet.
        case unsupported
        /// The file does not start with the artifact (or profile) magic.
        case notAnArtifact
        /// Written by another version of the format, or for another instruction set.
        case unsupportedVersion
        /// Compiled for another target than the engine's.
        case wrongTarget
        /// Shorter than its header says.
        case truncated
        /// The checksum does not match: the file was damaged.
        case checksumMismatch
        /// Well-formed on the outside, but its contents are inconsistent.
        case damaged
        /// Its bytecode breaks a rule the interpreter relies on.
        case unverifiable
        /// Compiled without the checkpoints an engine with fuel or interruption needs.
        case missingCheckpoints
    }

    /// What kind of problem.
    public let kind: Kind
    /// The rule broken or the damage found, worded close to the spec test suite's messages.
    public let message: String
    /// The function it was found in (index in the function index space), if any.
    public let function: Int?
    /// The byte offset in the module, when known.
    public let offset: Int?

    /// An error of `kind` saying `message`.
    public init(kind: Kind, message: String, function: Int? = nil, offset: Int? = nil) {
        self.kind = kind
        self.message = message
        self.function = function
        self.offset = offset
    }

    /// The compiler's error, as the API reports it.
    init(_ error: CompileError) {
        let kind: Kind
        switch error.kind {
        case .malformed: kind = .malformed
        case .invalid: kind = .invalid
        case .unsupported: kind = .unsupported
        }
        self.init(kind: kind, message: error.message, function: error.function, offset: error.offset)
    }

    /// An artifact loader's error, as the API reports it.
    init(_ error: ArtifactError) {
        let kind: Kind
        switch error.kind {
        case .notAnArtifact: kind = .notAnArtifact
        case .unsupportedVersion: kind = .unsupportedVersion
        case .wrongTarget: kind = .wrongTarget
        case .truncated: kind = .truncated
        case .checksumMismatch: kind = .checksumMismatch
        case .damaged: kind = .damaged
        case .unverifiable: kind = .unverifiable
        }
        self.init(kind: kind, message: error.message)
    }

    /// A readable form, for messages and logs.
    public var description: String {
        var text = message
        if let function { text += " in function \(function)" }
        if let offset { text += " at offset 0x\(String(offset, radix: 16))" }
        return text
    }
}
