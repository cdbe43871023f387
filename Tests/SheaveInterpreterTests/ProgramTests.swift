import SheaveBytecode
import SheaveDemos
import SheaveInterpreter
import XCTest

/// The hand-assembled programs, run on every dispatch loop.
final class ProgramTests: XCTestCase {
    func testRecursiveFib() {
        let code = CodeImage(Programs.fib().code)
        XCTAssertEqual(callAll(code, [0]), .values([0]))
        XCTAssertEqual(callAll(code, [1]), .values([1]))
        XCTAssertEqual(callAll(code, [20]), .values([6765]))
        XCTAssertEqual(callAll(code, [25]), .values([75025]))
        let fixedStyle = CodeImage(Programs.fibFixedRegisterStyle().code)
        XCTAssertEqual(callAll(fixedStyle, [25]), .values([75025]))
    }

    func testLoopSummingMemory() {
        let count = 10_000
        func filledMemory() -> LinearMemory? {
            let memory = LinearMemory(pages: 1)!
            for i in 0..<count {
                memory.base.storeBytes(of: UInt32(i * 3).littleEndian, toByteOffset: i * 4, as: UInt32.self)
            }
            return memory
        }
        let code = CodeImage(Programs.sumMemory().code)
        XCTAssertEqual(callAll(code, [UInt64(count)], memory: filledMemory), .values([UInt64(3 * count * (count - 1) / 2)]))
        XCTAssertEqual(callAll(code, [0], memory: filledMemory), .values([0]))
        // One u32 past the 64 KiB page: the 16,385th load traps.
        XCTAssertEqual(callAll(code, [16_385], memory: filledMemory), .trap(.memoryOutOfBounds))
    }

    func testCountLoop() {
        let code = CodeImage(Programs.countLoop().code)
        XCTAssertEqual(callAll(code, [1_000_000]), .values([1_000_000]))
    }

    func testTrappingDivisionLeavesTheVMUsable() {
        let code = CodeImage(Programs.divide().code)
        for mode in dispatchModes {
            let vm = VM(dispatchMode: mode)
            let entry = code.address(at: 0)
            XCTAssertEqual(try vm.invoke(entry, arguments: [UInt64(i32: -7), 2], resultCount: 1), [UInt64(i32: -3)])

            vm.startCall(entry, arguments: [1, 0])
            // The trap names the division op, which follows push_frame (5 bytes).
            XCTAssertEqual(vm.run(), .trap(.integerDivisionByZero, pc: code.address(at: 5)))
            XCTAssertEqual(vm.depth, 0)

            XCTAssertThrowsError(try vm.invoke(entry, arguments: [UInt64(i32: .min), UInt64(i32: -1)], resultCount: 1)) {
                XCTAssertEqual(($0 as? VMTrap)?.code, .integerOverflow)
            }
            XCTAssertEqual(try vm.invoke(entry, arguments: [100, 7], resultCount: 1), [14], "\(mode)")
        }
    }

    func testHostCallInTheMiddleOfALoop() throws {
        let code = CodeImage(Programs.hostLoop().code)
        for mode in dispatchModes {
            var calls = 0
            let outcome = call(code, [1000], mode: mode) { id, vm in
                XCTAssertEqual(id, Programs.hostTriple)
                XCTAssertEqual(vm.hostSlots.count, 1)
                vm.hostSlots[0] = vm.hostSlots[0] * 3 + 1
                calls += 1
            }
            // sum over i < 1000 of 3i + 1
            XCTAssertEqual(outcome, .values([3 * 999 * 1000 / 2 + 1000]), "\(mode)")
            XCTAssertEqual(calls, 1000)
        }
    }

    func testHostReentersWasmWhichCallsTheHostAgain() throws {
        // hostLoop's host function runs fib (wasm) and, one level down, hostLoop
        // again, whose own host function is a plain Swift one.
        let loop = CodeImage(Programs.hostLoop().code)
        let fib = CodeImage(Programs.fib().code)
        for mode in dispatchModes {
            let vm = VM(dispatchMode: mode)
            var depthSeen = 0
            func host(_ id: UInt32, _ vm: VM) throws {
                let i = vm.hostSlots[0]
                depthSeen = max(depthSeen, vm.depth)
                if vm.depth == 1 {
                    let f = try vm.invoke(fib.address(at: 0), arguments: [i % 15], resultCount: 1)[0]
                    let inner = try vm.invoke(loop.address(at: 0), arguments: [3], resultCount: 1, host: host)[0]
                    vm.hostSlots[0] = f + inner
                } else {
                    vm.hostSlots[0] = i + 100
                }
            }
            let result = try vm.invoke(loop.address(at: 0), arguments: [20], resultCount: 1, host: host)
            let fibs = (0..<20).map { [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377][$0 % 15] as UInt64 }
            XCTAssertEqual(result, [fibs.reduce(0, +) + 20 * (100 + 101 + 102)], "\(mode)")
            XCTAssertEqual(depthSeen, 2)
            XCTAssertEqual(vm.depth, 0)
        }
    }

    func testTrapInsideHostCallInsideWasmInsideHostCall() throws {
        let loop = CodeImage(Programs.hostLoop().code)
        let divide = CodeImage(Programs.divide().code)
        struct HostFailure: Error {}
        for mode in dispatchModes {
            let vm = VM(dispatchMode: mode)
            // Outer wasm -> host -> inner wasm (hostLoop) -> host -> wasm division by zero.
            XCTAssertThrowsError(try vm.invoke(loop.address(at: 0), arguments: [5], resultCount: 1) { _, vm in
                _ = try vm.invoke(loop.address(at: 0), arguments: [5], resultCount: 1) { _, vm in
                    _ = try vm.invoke(divide.address(at: 0), arguments: [1, 0], resultCount: 1)
                }
            }) { error in
                XCTAssertEqual((error as? VMTrap)?.code, .integerDivisionByZero)
            }
            XCTAssertEqual(vm.depth, 0)
            // A host function's own error unwinds the same way.
            XCTAssertThrowsError(try vm.invoke(loop.address(at: 0), arguments: [5], resultCount: 1) { _, _ in throw HostFailure() }) {
                XCTAssertTrue($0 is HostFailure)
            }
            XCTAssertEqual(vm.depth, 0)
            // The VM still runs calls correctly.
            XCTAssertEqual(try vm.invoke(loop.address(at: 0), arguments: [4], resultCount: 1) { _, vm in vm.hostSlots[0] += 1 }, [10])
        }
    }

    func testRunawayRecursionEndsInAStackOverflowTrap() throws {
        let code = CodeImage(Programs.runawayRecursion().code)
        let fib = CodeImage(Programs.fib().code)
        for mode in dispatchModes {
            let vm = VM(stackSize: 64 * 1024, dispatchMode: mode)
            XCTAssertThrowsError(try vm.invoke(code.address(at: 0), arguments: [], resultCount: 0)) { error in
                guard let trap = error as? VMTrap else { return XCTFail("\(error)") }
                XCTAssertEqual(trap.code, .stackOverflow)
                // 64 KiB of 16-byte frames and 16-byte links: about 2,048 calls deep,
                // of which the backtrace keeps the innermost thousand and counts the rest.
                XCTAssertEqual(trap.backtrace.count, VM.backtraceLimit)
                XCTAssertGreaterThan(trap.backtrace.count + trap.omittedFrames, 2000)
                XCTAssertLessThanOrEqual(trap.backtrace.count + trap.omittedFrames, 2049)
            }
            XCTAssertEqual(vm.depth, 0)
            XCTAssertEqual(try vm.invoke(fib.address(at: 0), arguments: [15], resultCount: 1), [610], "\(mode)")
        }
    }
}
