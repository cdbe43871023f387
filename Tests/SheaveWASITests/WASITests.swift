import Foundation
import Sheave
import SheaveCompiler
import SheaveWASI
import WAT
import XCTest

/// WASI preview1 through WasmKit's WASI library, on Sheave's memory.
final class WASITests: XCTestCase {
    /// Runs `_start` of `wat` with WASI writing stdout to a pipe; returns what it wrote and the exit code.
    func run(_ wat: String, args: [String] = ["test"]) throws -> (stdout: String, exit: Int32?) {
        let result = try runWASI(try CompiledModule(bytes: try wat2wasm(wat)), args: args)
        return (result.stdout, result.exit == 0 ? nil : result.exit)
    }

    func testHelloWritesItsGreetingToStdout() throws {
        let url = Bundle.module.url(forResource: "hello", withExtension: "wat", subdirectory: "Programs")!
        let result = try run(try String(contentsOf: url, encoding: .utf8))
        XCTAssertEqual(result.stdout, "Hello from Sheave!\n")
        XCTAssertNil(result.exit)
    }

    func testProcExitEndsTheProgramWithItsCode() throws {
        let result = try run("""
            (module
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory 1)
              (func (export "_start") (call $exit (i32.const 3)) unreachable))
            """)
        XCTAssertEqual(result.exit, 3)
    }

    func testArgumentsReachTheProgram() throws {
        // args_sizes_get writes argc at 0 and the buffer size at 4; the program exits with argc * 100 + size.
        let result = try run("""
            (module
              (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory 1)
              (func (export "_start")
                (drop (call $sizes (i32.const 0) (i32.const 4)))
                (call $exit (i32.add (i32.mul (i32.load (i32.const 0)) (i32.const 100)) (i32.load (i32.const 4))))))
            """, args: ["prog", "ab", "c"])
        // 3 arguments; "prog\\0ab\\0c\\0" is 10 bytes.
        XCTAssertEqual(result.exit, 310)
    }

    func testAPointerPastMemoryIsEFAULTAndNeverReachesHostMemory() throws {
        // An iovec whose buffer lies past the end of the single 64 KiB page: fd_write answers EFAULT (21).
        let result = try run("""
            (module
              (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory 1)
              (func (export "_start")
                (i32.store (i32.const 0) (i32.const 65530))
                (i32.store (i32.const 4) (i32.const 100))
                (call $exit (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
            """)
        XCTAssertEqual(result.exit, 21)
        XCTAssertEqual(result.stdout, "")
    }
}

extension WASITests {
    /// Issue 19 (the WASI test suite's symlink_create): a symlink to an absolute
    /// path would lead out of the preopened directory. Refused with EPERM, as
    /// Wasmtime refuses it, and nothing is created; a relative one still works.
    func testASymlinkToAnAbsolutePathIsRefusedAndNotCreated() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sheave-symlink-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let module = try CompiledModule(bytes: try wat2wasm("""
            (module
              (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (data (i32.const 0) "/etc")
              (data (i32.const 8) "out")
              (data (i32.const 16) "file")
              (data (i32.const 24) "in")
              (func (export "_start")
                ;; exit code: the absolute link's errno * 100 + the relative link's errno
                (call $exit (i32.add
                  (i32.mul (call $symlink (i32.const 0) (i32.const 4) (i32.const 3) (i32.const 8) (i32.const 3)) (i32.const 100))
                  (call $symlink (i32.const 16) (i32.const 4) (i32.const 3) (i32.const 24) (i32.const 2))))))
            """))
        let result = try runWASI(module, args: ["test"], preopens: [(guest: "/", host: directory.path)])
        XCTAssertEqual(result.exit, 63 * 100 + 0)  // EPERM, then success
        XCTAssertNil(try? FileManager.default.destinationOfSymbolicLink(atPath: directory.appendingPathComponent("out").path))
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: directory.appendingPathComponent("in").path), "file")
    }
}

/// Runs the WASI program `module` (its `_start`), its stdout going to a pipe;
/// returns what it wrote and its exit code (0 when it returned normally).
func runWASI(_ module: CompiledModule, args: [String], environment: [String: String] = [:],
             preopens: [(guest: String, host: String)] = []) throws -> (stdout: String, exit: Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
    var code: Int32 = 0
    do {
        defer { close(fds[1]) }
        let wasi = try WASIHost(args: args, environment: environment, preopens: preopens, stdout: fds[1])
        let instance = try Instance(module: module, store: Store(), imports: wasi.imports())
        do {
            _ = try instance.invoke("_start", [])
        } catch let exit as WASIExit {
            code = exit.code
        }
    }
    let output = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile()
    return (String(decoding: output, as: UTF8.self), code)
}
