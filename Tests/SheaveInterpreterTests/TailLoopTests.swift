import Foundation
import SheaveDemos
import SheaveBytecode
import SheaveInterpreter
import XCTest

/// The tail loop's calls must be jumps: each op would otherwise take native
/// stack, and a long run would overflow it. These run in release builds
/// (`swift test -c release`, as .ci/run does).
final class TailLoopTests: XCTestCase {
    /// 100 million iterations (200 million ops) on a thread whose native stack
    /// is only 256 KiB: any per-op growth, even 8 bytes, would overflow it many
    /// times over and crash the test run.
    func testHundredMillionIterationsRunWithoutGrowingTheNativeStack() throws {
        guard DispatchMode.tailLoopIsSafe else {
            throw XCTSkip("the tail loop's calls are jumps only in optimized builds: run swift test -c release")
        }
        let code = CodeImage(Programs.countLoop().code)
        let result = try onSmallStack { try VM(dispatchMode: .tail).invoke(code.address(at: 0), arguments: [100_000_000], resultCount: 1) }
        XCTAssertEqual(result, [100_000_000])
    }

    func testDebugBuildsFallBackToTheMatchLoop() throws {
        guard !DispatchMode.tailLoopIsSafe else { throw XCTSkip("release build: the tail loop runs as itself") }
        XCTAssertEqual(DispatchMode.default, .match)
        // A deep recursion asked of the tail loop still completes: it runs on the match loop.
        let code = CodeImage(Programs.fib().code)
        XCTAssertEqual(try VM(dispatchMode: .tail).invoke(code.address(at: 0), arguments: [22], resultCount: 1), [17711])
    }
}

/// Memory, bulk-memory and grow handlers in a long loop on a small native stack:
/// each of them must hand off with a jump too.
final class TailLoopMemoryTests: XCTestCase {
    func testMemoryHandlersInAMillionIterationLoop() throws {
        guard DispatchMode.tailLoopIsSafe else {
            throw XCTSkip("the tail loop's calls are jumps only in optimized builds: run swift test -c release")
        }
        var e = Encoder()
        let loop = e.makeLabel()
        e.pushFrame(8)                                   // x0 n, x1 i, x2 scratch, x3 zero
        e.xconst32(XReg(1), 0)
        e.xconst32(XReg(3), 0)
        e.bind(loop)
        e.xstore8(XReg(3), 16, XReg(1))
        e.xload8U32(XReg(2), XReg(3), 16)
        e.xload8S32(XReg(2), XReg(3), 16)
        e.xload16U32(XReg(2), XReg(3), 16)
        e.xload32U64(XReg(2), XReg(3), 16)
        e.xstore16(XReg(3), 20, XReg(2))
        e.xstore32(XReg(3), 24, XReg(2))
        e.memoryFill(XReg(3), XReg(1), XReg(3))          // count 0
        e.memoryCopy(XReg(3), XReg(3), XReg(3))
        e.memoryGrow(XReg(2), XReg(3), 0)                // grow by 0
        e.xadd32I32(XReg(1), XReg(1), 1)
        e.brIfXult32(XReg(1), XReg(0), loop)
        e.xmov(XReg(0), XReg(1))
        e.ret()
        let code = CodeImage(try e.finish())
        let result = try onSmallStack {
            let vm = VM(dispatchMode: .tail, context: ExecutionContext(memory: LinearMemory(pages: 1)))
            return try vm.invoke(code.address(at: 0), arguments: [1_000_000], resultCount: 1)
        }
        XCTAssertEqual(result, [1_000_000])
    }
}

/// Runs `body` on a thread whose native stack is only 256 KiB: a tail loop whose
/// hand-offs were calls, not jumps, would overflow it many times over and crash.
func onSmallStack(_ body: @escaping @Sendable () throws -> [UInt64]) throws -> [UInt64] {
    /// Written by the thread, read after `done` is signalled.
    final class Outcome: @unchecked Sendable {
        var result: Result<[UInt64], Error> = .success([])
    }
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        outcome.result = Result { try body() }
        done.signal()
    }
    thread.stackSize = 256 * 1024
    thread.start()
    done.wait()
    return try outcome.result.get()
}
