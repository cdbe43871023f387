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
