/// Why a module could not be decoded, validated or compiled.
public struct CompileError: Error, CustomStringConvertible {
    /// The kind of failure, as the spec test suite tells them apart.
    public enum Kind: Sendable {
        /// The bytes are not a well-formed module (spec: "malformed").
        case malformed
        /// The module is well formed but breaks a validation rule (spec: "invalid").
        case invalid
        /// Valid, but uses something Sheave does not support yet.
        case unsupported
    }

    /// Malformed, invalid, or unsupported.
    public let kind: Kind
    /// The rule broken, worded close to the spec test suite's messages.
    public let message: String
    /// The function it was found in (index in the function index space), if any.
    public let function: Int?
    /// Byte offset in the module, when known.
    public let offset: Int?

    /// An error of `kind` saying `message`, with where it was found.
    public init(_ kind: Kind, _ message: String, function: Int? = nil, offset: Int? = nil) {
        self.kind = kind
        self.message = message
        self.function = function
        self.offset = offset
    }

    /// A readable form, for messages and logs.
    public var description: String {
        var text = message
        if let function { text += " in function \(function)" }
        if let offset { text += " at offset 0x\(String(offset, radix: 16))" }
        return text
    }
}

extension CompileError {
    /// A decoding error from WasmKit's parser, as a malformed-module error in
    /// plain words: its description wraps a message as `"Message(text: "…")"`
    /// and carries the offset in the text, which is taken out into `offset`
    /// (the parser's own when it has one, else `fallbackOffset`).
    init(parsing error: any Error, function: Int? = nil, fallbackOffset: Int? = nil) {
        var text = "\(error)"
        var offset = fallbackOffset
        if let at = text.firstRange(of: " at offset 0x") {
            let digits = text[at.upperBound...].prefix { $0.isHexDigit }
            if let value = Int(digits, radix: 16) { offset = value }
            text.removeSubrange(at.lowerBound..<text.index(at.upperBound, offsetBy: digits.count))
        }
        for (prefix, suffix) in [("\"Message(text: \"", "\")\""), ("Message(text: \"", "\")")]
            where text.hasPrefix(prefix) && text.hasSuffix(suffix) && text.count >= prefix.count + suffix.count {
            text = String(text.dropFirst(prefix.count).dropLast(suffix.count)).replacing("\\\"", with: "\"")
            break
        }
        if text.hasSuffix(".") && !text.hasSuffix("..") { text.removeLast() }
        // "Unexpected end …" reads as the rest of Sheave's messages: lower case.
        if let first = text.first, first.isUppercase, text.dropFirst().first?.isLowercase == true {
            text = first.lowercased() + text.dropFirst()
        }
        self.init(.malformed, text.replacing(". Expected", with: ", expected"), function: function, offset: offset)
    }

    /// Nil when `bytes` start with the binary format's magic and version 1;
    /// otherwise the error, in words a person reads: what the file starts with.
    static func header(of bytes: [UInt8]) -> CompileError? {
        let magic: [UInt8] = [0x00, 0x61, 0x73, 0x6D]
        guard bytes.starts(with: magic) else {
            let start = bytes.prefix(4).map { byte -> String in
                switch byte {
                case 0x20...0x7E where byte != 0x22 && byte != 0x5C: return String(UnicodeScalar(byte))
                case 0: return "\\0"
                default: return "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
                }
            }.joined()
            let what = bytes.isEmpty ? "the file is empty" : "the file starts with \"\(start)\""
            return CompileError(.malformed, "not a WebAssembly module (\(what), not \"\\0asm\")")
        }
        guard bytes.count >= 8 else { return CompileError(.malformed, "unexpected end: the header has no version", offset: 4) }
        let version = bytes[4..<8].reversed().reduce(0) { $0 << 8 | UInt32($1) }
        guard version == 1 else {
            return CompileError(.malformed, "unknown binary version \(version) (Sheave reads version 1)", offset: 4)
        }
        return nil
    }
}
