import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter
import WasmParser
import WasmTypes

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
    /// The wasm frames at the trap, innermost first (empty for traps outside wasm code).
    public let backtrace: [Frame]

    /// A trap of kind `code` with the wasm frames at the point it happened.
    public init(code: TrapCode, backtrace: [Frame] = []) {
        self.code = code
        self.backtrace = backtrace
    }

    /// The kind, worded as the spec test suite words it.
    public var message: String { code.description }

    /// A readable form, for messages and logs.
    public var description: String {
        guard !backtrace.isEmpty else { return message }
        return message + "\nwasm backtrace:\n" + backtrace.enumerated().map { "  \($0.offset): \($0.element)" }.joined(separator: "\n")
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
