import SheaveBytecode
import SheaveInterpreter
import XCTest

/// The dispatch loops this build can run: the tail loop only where its calls
/// are jumps (release builds; `swift test -c release` in .ci/run).
let dispatchModes: [DispatchMode] = DispatchMode.tailLoopIsSafe ? [.match, .tail] : [.match]

/// Assembles a function with `build` and keeps its code alive.
func assemble(_ build: (inout Encoder) -> Void) -> CodeImage {
    var e = Encoder()
    build(&e)
    return CodeImage(try! e.finish())
}

/// The outcome of one call: results or a trap code.
enum Outcome: Equatable {
    case values([UInt64])
    case trap(TrapCode)
}

/// Calls the function at offset 0 of `code` on a fresh VM in `mode`.
func call(_ code: CodeImage, _ arguments: [UInt64], results: Int = 1, mode: DispatchMode,
          memory: LinearMemory? = nil, tables: [FunctionTable] = [], signatures: [UInt32] = [],
          host: (UInt32, VM) throws -> Void = { id, _ in XCTFail("unexpected host call \(id)") }) -> Outcome {
    let context = ExecutionContext(memory: memory, tables: tables, signatures: signatures)
    let vm = VM(dispatchMode: mode, context: context)
    do {
        return .values(try vm.invoke(code.address(at: 0), arguments: arguments, resultCount: results, host: host))
    } catch let trap as VMTrap {
        return .trap(trap.code)
    } catch {
        XCTFail("unexpected error \(error)")
        return .trap(.unreachable)
    }
}

/// Runs the same call under every available dispatch loop, checks that all
/// loops agree, and returns the outcome.
func callAll(_ code: CodeImage, _ arguments: [UInt64], results: Int = 1, memory: () -> LinearMemory? = { nil },
             file: StaticString = #filePath, line: UInt = #line) -> Outcome {
    let outcomes = dispatchModes.map { call(code, arguments, results: results, mode: $0, memory: memory()) }
    for (mode, outcome) in zip(dispatchModes, outcomes) {
        XCTAssertEqual(outcome, outcomes[0], "\(mode) loop disagrees with \(dispatchModes[0])", file: file, line: line)
    }
    return outcomes[0]
}

extension UInt64 {
    /// An i32 argument: its bits, zero-extended.
    init(i32 value: Int32) { self = UInt64(UInt32(bitPattern: value)) }
    init(i64 value: Int64) { self = UInt64(bitPattern: value) }
    init(f32 value: Float) { self = UInt64(value.bitPattern) }
    init(f64 value: Double) { self = value.bitPattern }
}
