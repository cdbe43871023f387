import Foundation
import Sheave
import SheaveCompiler
import SheaveWASI
import WAT
import XCTest

/// Issue 19: what WasmKit's WASI lacks and Sheave's host directories do
/// (the WASI test suite's path_link, symlink_filestat, path_filestat and
/// dir_fd_op_failures), and that none of it reaches out of the preopen.
final class HostDirectoryTests: XCTestCase {
    /// WASI errnos.
    let success: UInt32 = 0, badf: UInt32 = 8, exist: UInt32 = 20, inval: UInt32 = 28, notdir: UInt32 = 54, perm: UInt32 = 63

    /// Rights: all but FD_WRITE (1 << 6), and all.
    let readOnly: UInt64 = 0x1fff_ffbf, readWrite: UInt64 = 0x1fff_ffff

    var root: URL!, preopen: URL!

    override func setUp() {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sheave-hostdir-\(getpid())-\(name.hashValue)")
        preopen = root.appendingPathComponent("sandbox")
        try! FileManager.default.createDirectory(at: preopen.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try! Data("inside".utf8).write(to: preopen.appendingPathComponent("file"))
        try! Data("secret".utf8).write(to: root.appendingPathComponent("secret"))
    }

    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    /// An instance whose exports call the WASI functions with the guest
    /// directory 3 (the preopen) and paths the test writes into memory.
    func instance() throws -> (Instance, Memory) {
        let module = try CompiledModule(bytes: try wat2wasm("""
            (module
              (import "wasi_snapshot_preview1" "path_link" (func $link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "path_filestat_set_times" (func $times (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
              (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_allocate" (func $allocate (param i32 i64 i64) (result i32)))
              (import "wasi_snapshot_preview1" "fd_renumber" (func $renumber (param i32 i32) (result i32)))
              (memory (export "memory") 1)
              (func (export "link") (param i32 i32 i32 i32 i32 i32 i32) (result i32)
                (call $link (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5) (local.get 6)))
              (func (export "mtime") (param i32 i32 i32 i64) (result i32)
                (call $times (local.get 0) (i32.const 0) (local.get 1) (local.get 2) (i64.const 0) (local.get 3) (i32.const 4)))
              ;; opens a path beneath `dir` with `oflags`, `rights` and `fdflags`; the fd lands at 1024
              (func (export "open") (param i32 i32 i32 i32 i64 i32) (result i32)
                (call $open (local.get 0) (i32.const 0) (local.get 1) (local.get 2) (local.get 3)
                            (local.get 4) (local.get 4) (local.get 5) (i32.const 1024)))
              (func (export "fd") (result i32) (i32.load (i32.const 1024)))
              ;; fs_flags of `fd`
              (func (export "flags") (param i32) (result i32)
                (drop (call $fdstat (local.get 0) (i32.const 2048))) (i32.load16_u (i32.const 2050)))
              (func (export "allocate") (param i32) (result i32) (call $allocate (local.get 0) (i64.const 0) (i64.const 1)))
              (func (export "renumber") (param i32 i32) (result i32) (call $renumber (local.get 0) (local.get 1))))
            """))
        let wasi = try WASIHost(args: ["test"], preopens: [(guest: "/", host: preopen.path)])
        let instance = try Instance(module: module, store: Store(), imports: wasi.imports())
        return (instance, instance.memory("memory")!)
    }

    /// Writes `paths` into memory one after another from offset 0; their (pointer, length) pairs.
    func put(_ paths: [String], in memory: Memory) throws -> [(Value, Value)] {
        var offset = 0
        return try paths.map { path in
            try memory.write(Array(path.utf8), at: offset)
            defer { offset += path.utf8.count }
            return (.i32(UInt32(offset)), .i32(UInt32(path.utf8.count)))
        }
    }

    func link(_ instance: Instance, _ memory: Memory, _ old: String, _ new: String, follow: Bool = false,
              from oldDir: UInt32 = 3, to newDir: UInt32 = 3) throws -> UInt32 {
        let p = try put([old, new], in: memory)
        let result = try instance.invoke("link", [.i32(oldDir), .i32(follow ? 1 : 0), p[0].0, p[0].1, .i32(newDir), p[1].0, p[1].1])
        guard case .i32(let errno) = result[0] else { throw LinkError(message: "not i32") }
        return errno
    }

    func testHardLinksAreMadeBeneathThePreopenAndNowhereElse() throws {
        let (instance, memory) = try instance()
        XCTAssertEqual(try link(instance, memory, "file", "sub/link"), success)
        let linked = preopen.appendingPathComponent("sub/link").path
        XCTAssertEqual(try String(contentsOfFile: linked, encoding: .utf8), "inside")
        let attributes = try FileManager.default.attributesOfItem(atPath: linked)
        XCTAssertEqual(attributes[.referenceCount] as? Int, 2)
        XCTAssertEqual(try link(instance, memory, "file", "file"), exist)
        XCTAssertEqual(try link(instance, memory, "file", "other", follow: true), inval)
        XCTAssertEqual(try link(instance, memory, "file", "other", from: 99), badf)
        XCTAssertEqual(try link(instance, memory, "file", "other", from: 1), notdir)  // stdout: not a directory
        // Out of the preopen: by "..", by an absolute path, through a symbolic link.
        XCTAssertEqual(try link(instance, memory, "../secret", "stolen"), perm)
        XCTAssertEqual(try link(instance, memory, "/secret", "stolen"), perm)
        XCTAssertEqual(try link(instance, memory, "file", "../planted"), perm)
        try FileManager.default.createSymbolicLink(atPath: preopen.appendingPathComponent("up").path, withDestinationPath: root.path)
        XCTAssertEqual(try link(instance, memory, "up/secret", "stolen"), perm)
        XCTAssertEqual(try link(instance, memory, "file", "up/planted"), perm)
        // A trailing "/" would make linkat follow "up" out of the preopen: refused beneath it first.
        XCTAssertEqual(try link(instance, memory, "up/", "stolen"), perm)
        // …and never tells what is outside: a link to a host path that does not exist is refused the same way.
        try FileManager.default.createSymbolicLink(atPath: preopen.appendingPathComponent("gone").path, withDestinationPath: root.appendingPathComponent("absent").path)
        XCTAssertEqual(try link(instance, memory, "gone/", "stolen"), perm)
        XCTAssertEqual(try link(instance, memory, "sub/", "stolen"), perm)  // a directory: never hard-linked
        XCTAssertEqual(try link(instance, memory, "..", "stolen"), perm)
        XCTAssertFalse(FileManager.default.fileExists(atPath: preopen.appendingPathComponent("stolen").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("planted").path))
        // A directory a guest opened, and one renumbered, work as the preopen does.
        let sub = try put(["sub"], in: memory)[0]
        XCTAssertEqual(try instance.invoke("open", [.i32(3), sub.0, sub.1, .i32(2), .i64(readOnly), .i32(0)]), [.i32(success)])  // O_DIRECTORY
        guard case .i32(let subFd) = try instance.invoke("fd", [])[0] else { return XCTFail() }
        XCTAssertEqual(try link(instance, memory, "link", "again", from: subFd, to: subFd), success)
        XCTAssertEqual(try instance.invoke("renumber", [.i32(subFd), .i32(3)]), [.i32(success)])
        XCTAssertEqual(try link(instance, memory, "again", "third"), success)  // 3 is sub/ now
        XCTAssertEqual(try link(instance, memory, "again", "fourth", from: subFd), badf)
        XCTAssertTrue(FileManager.default.fileExists(atPath: preopen.appendingPathComponent("sub/third").path))
    }

    func testTheTimesOfASymbolicLinkItselfAndTheSyncFlagAndFdAllocateOnADirectory() throws {
        let (instance, memory) = try instance()
        let link = preopen.appendingPathComponent("link").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "file")
        let p = try put(["link"], in: memory)[0]
        let time: UInt64 = 1_000_000_000 * 1_000_000_000  // 2001-09-09
        XCTAssertEqual(try instance.invoke("mtime", [.i32(3), p.0, p.1, .i64(time)]), [.i32(success)])
        var status = stat()
        XCTAssertEqual(lstat(link, &status), 0)
        XCTAssertEqual(UInt64(status.st_mtim.tv_sec), time / 1_000_000_000)
        XCTAssertEqual(stat(preopen.appendingPathComponent("file").path, &status), 0)
        XCTAssertNotEqual(UInt64(status.st_mtim.tv_sec), time / 1_000_000_000)  // the target is untouched
        let outside = try put(["../secret"], in: memory)[0]
        XCTAssertEqual(try instance.invoke("mtime", [.i32(3), outside.0, outside.1, .i64(time)]), [.i32(perm)])
        XCTAssertEqual(stat(root.appendingPathComponent("secret").path, &status), 0)
        XCTAssertNotEqual(UInt64(status.st_mtim.tv_sec), time / 1_000_000_000)

        let synced = try put(["synced"], in: memory)[0]
        XCTAssertEqual(try instance.invoke("open", [.i32(3), synced.0, synced.1, .i32(1), .i64(readWrite), .i32(16)]), [.i32(success)])  // CREAT, SYNC
        guard case .i32(let fd) = try instance.invoke("fd", [])[0] else { return XCTFail() }
        XCTAssertEqual(try instance.invoke("flags", [.i32(fd)]), [.i32(16)])
        XCTAssertEqual(try instance.invoke("allocate", [.i32(3)]), [.i32(badf)])
    }
}
