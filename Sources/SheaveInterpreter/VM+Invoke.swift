import SheaveBytecode

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
    /// Runs one call to completion: the three steps of `startCall`, `run` and
    /// `endCall`, answering host calls with `host` (which reads its arguments
    /// from and writes its results to `vm.hostSlots`, and may itself call `invoke`).
    /// When a checkpoint stops the code (fuel used up, or interrupted), `checkpoint`
    /// decides: true resumes it (for fuel, once the host has added enough to pay
    /// the debt), false ends the call with that trap.
    ///
    /// Throws `VMTrap` on a trap, or what `host` or `checkpoint` throws; either way
    /// the VM is back in the state it had before the call.
    public func invoke(
        _ entry: UnsafeRawPointer, arguments: [UInt64], resultCount: Int,
        host: (_ id: UInt32, _ vm: VM) throws -> Void = { id, _ in
            preconditionFailure("host function \(id) called, but no host functions were given")
        },
        checkpoint: (_ code: TrapCode, _ vm: VM) throws -> Bool = { _, _ in false }
    ) throws -> [UInt64] {
        startCall(entry, arguments: arguments)
        while true {
            switch run() {
            case .returned:
                return endCall(resultCount: resultCount)
            case .hostCall(let id):
                do {
                    try host(id, self)
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
            }
        }
    }
}
