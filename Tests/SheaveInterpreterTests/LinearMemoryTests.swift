import Foundation
import SheaveInterpreter
import XCTest

/// Issue 18: linear memory reserves address space and commits pages on demand.
final class LinearMemoryTests: XCTestCase {
    /// This process's resident memory in bytes (Linux), or nil elsewhere.
    static func residentBytes() -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func testGrowingToFourGiBCommitsNothingUntilTouched() throws {
        guard let before = Self.residentBytes() else { throw XCTSkip("no /proc/self/statm") }
        let memory = try XCTUnwrap(LinearMemory(pages: 1, maximumPages: 65536))
        let base = memory.base
        // Before: realloc and memset of 4 GiB (30 s and 4 GB resident).
        XCTAssertEqual(memory.grow(by: 65535), 1)
        XCTAssertEqual(memory.byteCount, 1 << 32)
        XCTAssertEqual(memory.base, base, "the memory grew in place")
        let last = memory.base + (1 << 32) - 8
        XCTAssertEqual(last.load(as: UInt64.self), 0, "new pages read as zero")
        last.storeBytes(of: 0x0123_4567_89AB_CDEF, as: UInt64.self)
        XCTAssertEqual(last.load(as: UInt64.self), 0x0123_4567_89AB_CDEF)
        XCTAssertNil(memory.grow(by: 1), "past the maximum")
        let after = try XCTUnwrap(Self.residentBytes())
        XCTAssertLessThan(after - before, 64 << 20, "4 GiB of memory, a few pages of it touched")
    }

    func testAFourGiBMemoryCostsNothingUntilTouched() throws {
        guard let before = Self.residentBytes() else { throw XCTSkip("no /proc/self/statm") }
        let memories = try (0..<4).map { _ in try XCTUnwrap(LinearMemory(pages: 65536)) }
        for memory in memories { XCTAssertEqual((memory.base + 12345).load(as: UInt8.self), 0) }
        let after = try XCTUnwrap(Self.residentBytes())
        XCTAssertLessThan(after - before, 64 << 20, "16 GiB of memories, untouched")
    }

    func testGrowingKeepsTheContentsAndZeroesTheNewPages() throws {
        let memory = try XCTUnwrap(LinearMemory(pages: 2, maximumPages: 10))
        memory.base.storeBytes(of: 0xAB, toByteOffset: 65536 * 2 - 1, as: UInt8.self)
        XCTAssertEqual(memory.grow(by: 3), 2)
        XCTAssertEqual(memory.base.load(fromByteOffset: 65536 * 2 - 1, as: UInt8.self), 0xAB)
        XCTAssertTrue(UnsafeRawBufferPointer(start: memory.base + 65536 * 2, count: 65536 * 3).allSatisfy { $0 == 0 })
        XCTAssertNil(memory.grow(by: 6))
        XCTAssertEqual(memory.pages, 5)
        XCTAssertNil(LinearMemory(pages: 11, maximumPages: 10))
        let empty = try XCTUnwrap(LinearMemory(pages: 0, maximumPages: 0))
        XCTAssertEqual(empty.byteCount, 0)
        XCTAssertEqual(empty.grow(by: 0), 0)
        XCTAssertNil(empty.grow(by: 1))
    }
}
