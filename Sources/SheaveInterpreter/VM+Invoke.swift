import SheaveBytecode

/// An exception no wasm code caught, which ended a call made with `VM.invoke`.
public struct VMException: Error {
    /// The exception: its tag object and its payload's slots.
    public let exception: ExceptionRecord
    /// The wasm frames at the throw, innermost first.
    nonisolated(unsafe) public let backtrace: [UnsafeRawPointer]
    /// How many outer frames were left out of `backtrace` (past `VM.backtraceLimit`).
    public var omittedFrames = 0
}

/// A trap that ended a call made with `VM.invoke`.
public struct VMTrap: Error, CustomStringConvertible {
    /// What went wrong.
    public let code: TrapCode
    /// The wasm frames at the trap, innermost first: the trapping op, then each return address.
    /// Code addresses, only compared and looked up, never read through (so sending them is safe).
    nonisolated(unsafe) public let backtrace: [UnsafeRawPointer]
    /// How many outer frames were left out of `backtrace` (past `VM.backtraceLimit`).
    public var omittedFrames = 0

    /// A readable form, for messages and logs.
    public var description: String { "trap: \(code)" }
}

extension VM {
    /// How a call made with `invokeAllowingTailCalls` ended.
    public enum Outcome {
        /// It returned these result slots.
        case returned([UInt64])
        /// Its entry frame tail-called host function `id` (another instance's
        /// function, or the host's), with these argument slots: the host makes
        /// that call in its place, and its results are this call's.
        case tailCall(id: UInt32, arguments: [UInt64])
    }

    /// Runs one call to completion: the three steps of `startCall`, `run` and
    /// `endCall`, answering host calls with `host` (which reads its arguments
    /// from and writes its results to `vm.hostSlots`, and may itself call `invoke`),
    /// and a call that reached a `lazy_entry` stub with `compile` (which compiles the
    /// function, gives its reference the code, `setCode`, and returns its first op,
    /// where the run goes on).
    /// When a checkpoint stops the code (fuel used up, or interrupted), `checkpoint`
    /// decides: true resumes it (for fuel, once the host has added enough to pay
    /// the debt), false ends the call with that trap.
    ///
    /// Throws `VMTrap` on a trap, `VMException` for an exception no wasm code
    /// caught, or what `host` or `checkpoint` throws; either way the VM is back in
    /// the state it had before the call.
    public func invoke(
        _ entry: UnsafeRawPointer, arguments: [UInt64], resultCount: Int,
        host: (_ id: UInt32, _ vm: VM) throws -> Void = { id, _ in
            preconditionFailure("host function \(id) called, but no host functions were given")
        },
        checkpoint: (_ code: TrapCode, _ vm: VM) throws -> Bool = { _, _ in false },
        compile: (_ function: UInt32, _ vm: VM) throws -> UnsafeRawPointer = { function, _ in
            preconditionFailure("function \(function) has no code, but no compiler was given")
        }
    ) throws -> [UInt64] {
        guard case .returned(let results) = try run(entry, arguments: arguments, resultCount: resultCount, tailCallsLeave: false,
                                                    host: host, checkpoint: checkpoint, compile: compile) else {
            preconditionFailure("a tail call left a call started without tailCallsLeave")
        }
        return results
    }

    /// As `invoke`, but a tail call from the entry frame through the host (to
    /// another instance's function, or the host's) ends the call instead of
    /// nesting one: the caller makes it, in a loop, so a chain of tail calls
    /// between instances runs in constant stack space.
    public func invokeAllowingTailCalls(
        _ entry: UnsafeRawPointer, arguments: [UInt64], resultCount: Int,
        host: (_ id: UInt32, _ vm: VM) throws -> Void,
        checkpoint: (_ code: TrapCode, _ vm: VM) throws -> Bool,
        compile: (_ function: UInt32, _ vm: VM) throws -> UnsafeRawPointer
    ) throws -> Outcome {
        try run(entry, arguments: arguments, resultCount: resultCount, tailCallsLeave: true, host: host, checkpoint: checkpoint, compile: compile)
    }

    private func run(
        _ entry: UnsafeRawPointer, arguments: [UInt64], resultCount: Int, tailCallsLeave: Bool,
        host: (_ id: UInt32, _ vm: VM) throws -> Void,
        checkpoint: (_ code: TrapCode, _ vm: VM) throws -> Bool,
        compile: (_ function: UInt32, _ vm: VM) throws -> UnsafeRawPointer
    ) throws -> Outcome {
        startCall(entry, arguments: arguments, tailCallsLeave: tailCallsLeave)
        while true {
            switch run() {
            case .returned:
                return .returned(endCall(resultCount: resultCount))
            case .hostCall(let id):
                do {
                    try host(id, self)
                } catch {
                    abandonCall()
                    throw error
                }
            case .tailCall(let id):
                return .tailCall(id: id, arguments: endCallForTailCall())
            case .compile(let function):
                do {
                    resume(at: try compile(function, self))
                } catch {
                    abandonCall()
                    throw error
                }
            case .checkpoint(let code):
                // The host may add fuel (paying the debt first) or let an interrupted call go on.
                let resume: Bool
                do {
                    resume = try checkpoint(code, self)
                } catch {
                    abandonCall()
                    throw error
                }
                if resume && (code != .outOfFuel || fuel >= 0) { continue }
                throw trapStoppedCall(code)
            case .trap(let code, _):
                throw VMTrap(code: code, backtrace: lastBacktrace, omittedFrames: lastBacktraceOmitted)
            case .exception(let exception):
                throw VMException(exception: exception, backtrace: lastBacktrace, omittedFrames: lastBacktraceOmitted)
            }
        }
    }
}
