import Foundation
import SheaveDemos
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
        /// Written by the thread, read after `done` is signalled.
        final class Outcome: @unchecked Sendable {
            var result: [UInt64] = []
            var failure: Error?
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            do {
                outcome.result = try VM(dispatchMode: .tail).invoke(code.address(at: 0), arguments: [100_000_000], resultCount: 1)
            } catch {
                outcome.failure = error
            }
            done.signal()
        }
        thread.stackSize = 256 * 1024
        thread.start()
        done.wait()
        XCTAssertNil(outcome.failure)
        XCTAssertEqual(outcome.result, [100_000_000])
    }

    func testDebugBuildsFallBackToTheMatchLoop() throws {
        guard !DispatchMode.tailLoopIsSafe else { throw XCTSkip("release build: the tail loop runs as itself") }
        XCTAssertEqual(DispatchMode.default, .match)
        // A deep recursion asked of the tail loop still completes: it runs on the match loop.
        let code = CodeImage(Programs.fib().code)
        XCTAssertEqual(try VM(dispatchMode: .tail).invoke(code.address(at: 0), arguments: [22], resultCount: 1), [17711])
    }
}
