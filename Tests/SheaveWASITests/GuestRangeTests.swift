import Foundation
import Sheave
import SheaveWASI
import XCTest

/// Issue 18: WASI calls check every guest range before doing anything. A
/// range outside memory is EFAULT (21) with no side effect; no count wraps,
/// no host memory is allocated in proportion to what a guest claims, and long
/// host work stops when the store is interrupted.
final class GuestRangeTests: XCTestCase {
    static let efault: UInt32 = 21

    /// Instantiates `body` (a module's fields after the WASI imports) with WASI on
    /// the given descriptors and calls its export `f`; returns its i32 result.
    func call(_ body: String, stdin: Int32 = 0, stdout: Int32 = 1, store: Store = Store(),
              check: (Instance) throws -> Void = { _ in }) throws -> UInt32 {
        let module = try Module(engine: store.engine, wat: """
            (module
              (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
              \(body))
            """)
        let wasi = try WASIHost(args: ["test"], stdin: stdin, stdout: stdout)
        var linker = Linker()
        linker.defineWASI(wasi)
        let instance = try linker.instantiate(module, in: store)
        let results = try instance.invoke("f", [])
        try check(instance)
        guard case .i32(let errno)? = results.first else { XCTFail("f returned \(results)"); return .max }
        return errno
    }

    /// A pipe; the test closes what it does not hand over.
    func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
        return (fds[0], fds[1])
    }

    /// Two iovecs at 0: five good bytes at 100, then 100 bytes from 65,530 (past the one page).
    static let goodThenBadIovecs = """
        (memory (export "memory") 1)
        (data (i32.const 100) "hello")
        (func $iovecs
          (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 5))
          (i32.store (i32.const 8) (i32.const 65530)) (i32.store (i32.const 12) (i32.const 100)))
        """

    func testAWriteWhoseIovecLeavesMemoryIsEFAULTAndWritesNothing() throws {
        let (readEnd, writeEnd) = try makePipe()
        defer { close(readEnd) }
        let errno = try call(Self.goodThenBadIovecs + """
            (func (export "f") (result i32)
              (call $iovecs)
              (call $fd_write (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 16)))
            """, stdout: writeEnd) { instance in
            // nwritten was not written either.
            XCTAssertEqual(try instance.memory("memory")?.read(at: 16, count: 4), [0, 0, 0, 0])
        }
        close(writeEnd)
        XCTAssertEqual(errno, Self.efault)
        // Before: the good vector was written, then 100 zeros for the bad one, then a trap.
        XCTAssertEqual(FileHandle(fileDescriptor: readEnd).readDataToEndOfFile().count, 0, "nothing reached the file")
    }

    /// Calls `fd_read` on a pipe holding "abc" with the first `vectors` of
    /// `goodThenBadIovecs`; returns its errno and what is left in the pipe.
    func readABC(vectors: Int, check: (Instance) throws -> Void = { _ in }) throws -> (errno: UInt32, left: String) {
        let (readEnd, writeEnd) = try makePipe()
        defer { close(readEnd) }
        XCTAssertEqual(write(writeEnd, "abc", 3), 3)
        close(writeEnd)
        let errno = try call(Self.goodThenBadIovecs + """
            (func (export "f") (result i32)
              (call $iovecs)
              (call $fd_read (i32.const 0) (i32.const 0) (i32.const \(vectors)) (i32.const 16)))
            """, stdin: readEnd, check: check)
        return (errno, String(decoding: FileHandle(fileDescriptor: readEnd).readDataToEndOfFile(), as: UTF8.self))
    }

    func testAReadIntoAnIovecOutsideMemoryIsEFAULTAndConsumesNoInput() throws {
        let (errno, left) = try readABC(vectors: 2)
        XCTAssertEqual(errno, Self.efault)
        // Before: the input was read into scratch space and lost.
        XCTAssertEqual(left, "abc")
    }

    func testAReadIntoGoodIovecsStillReads() throws {
        let (errno, left) = try readABC(vectors: 1) { instance in
            XCTAssertEqual(try instance.memory("memory")?.read(at: 100, count: 5), Array("abclo".utf8))
            XCTAssertEqual(try instance.memory("memory")?.read(at: 16, count: 4), [3, 0, 0, 0])
        }
        XCTAssertEqual(errno, 0)
        XCTAssertEqual(left, "")
    }

    func testRandomGetOfFourGiBIsEFAULTWithoutAllocating() throws {
        // Before: 4 GiB of scratch space was calloc'ed (and fatalError under a memory limit).
        XCTAssertEqual(try call("""
            (memory 1)
            (func (export "f") (result i32) (call $random_get (i32.const 0) (i32.const -1)))
            """), Self.efault)
        XCTAssertEqual(try call("""
            (memory 1)
            (func (export "f") (result i32) (call $random_get (i32.const 65535) (i32.const 2)))
            """), Self.efault)
        XCTAssertEqual(try call("""
            (memory 1)
            (func (export "f") (result i32) (call $random_get (i32.const 65534) (i32.const 2)))
            """), 0)
    }

    func testAWriteOfFourBillionIovecsIsEFAULTAtOnce() throws {
        // Before: four billion iterations, which no fuel stopped.
        let store = Store(engine: Engine(Config(fuelMetering: true)))
        store.fuel = 1000
        XCTAssertEqual(try call("""
            (memory 1)
            (func (export "f") (result i32) (call $fd_write (i32.const 1) (i32.const 0) (i32.const -1) (i32.const 16)))
            """, store: store), Self.efault)
    }

    func testAWriteOfMoreThanFourGiBIsAShortWriteNotACrash() throws {
        // 65 iovecs of 64 MiB each over a 4 GiB memory (reserved, never touched):
        // before, their 32-bit total overflowed inside WasmKit's WASI and the host crashed.
        let null = open("/dev/null", O_WRONLY)
        XCTAssertGreaterThanOrEqual(null, 0)
        defer { close(null) }
        XCTAssertEqual(try call("""
            (memory (export "memory") 65536)
            (func (export "f") (result i32) (local $i i32)
              (loop $fill
                (i32.store (i32.mul (local.get $i) (i32.const 8)) (i32.const 0))
                (i32.store offset=4 (i32.mul (local.get $i) (i32.const 8)) (i32.const 0x4000000))
                (br_if $fill (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 65))))
              (call $fd_write (i32.const 1) (i32.const 0) (i32.const 65) (i32.const 1024)))
            """, stdout: null) { instance in
            // A short write, as POSIX allows: the 63 vectors whose total fits the 32-bit count.
            let nwritten = try instance.memory("memory")!.read(at: 1024, count: 4)
            XCTAssertEqual(nwritten.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }, 63 << 26)
        }, 0)
    }

    func testRandomGetStopsWhenTheStoreIsInterrupted() throws {
        let store = Store()
        store.interruptHandle.interrupt()
        let body = """
            (memory (export "memory") 1024)
            (func (export "f") (result i32) (call $random_get (i32.const 0) (i32.const 0x4000000)))
            """
        XCTAssertThrowsError(try call(body, store: store)) { error in
            XCTAssertEqual((error as? Trap)?.code, .interrupted)
        }
        // The request was taken: the next call fills the whole 64 MiB.
        XCTAssertEqual(try call(body, store: store) { instance in
            let memory = instance.memory("memory")!
            XCTAssertNotEqual(try memory.read(at: 0x4000000 - 64, count: 64), [UInt8](repeating: 0, count: 64))
        }, 0)
    }

    func testEveryWASIFunctionHasItsRangesDeclared() throws {
        // A function without a declaration would answer ENOSYS: none may lack one.
        XCTAssertEqual(try WASIHost().uncheckedFunctions, [])
        XCTAssertEqual(try WASIHost().imports()["wasi_snapshot_preview1"]?.count, 46)
    }
}
