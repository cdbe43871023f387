import Sheave
@_spi(WASIPlatform) import WASI
import WasmTypes

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The program called `proc_exit`: its exit code.
public struct WASIExit: Error, CustomStringConvertible {
    /// The exit code the program passed to `proc_exit`.
    public let code: Int32
    /// A readable form, for messages and logs.
    public var description: String { "exit code \(code)" }
}

/// WASI preview1 for Sheave instances, through WasmKit's engine-agnostic WASI library.
///
///     let wasi = try WASIHost(args: ["hello.wasm"])
///     var linker = Linker()
///     linker.defineWASI(wasi)
///     let instance = try linker.instantiate(module, in: store)
///     do { _ = try instance.invoke("_start", []) } catch let exit as WASIExit { ... }
public final class WASIHost {
    let bridge: WASIBridgeToHost
    /// What Sheave does itself where WasmKit's WASI falls short (hard links, …).
    let directories: HostDirectories
    /// The byte counts of the argument and environment strings (each with its 0), for `args_get` and `environ_get`.
    let argumentSizes: [Int], environmentSizes: [Int]

    /// - Parameters:
    ///   - args: the program's arguments, its name first.
    ///   - environment: its environment variables.
    ///   - preopens: host directories the program may reach, and the guest paths it sees them at.
    ///   - stdin, stdout, stderr: host file descriptors, borrowed (never closed).
    public init(args: [String] = [], environment: [String: String] = [:], preopens: [(guest: String, host: String)] = [],
                stdin: Int32 = 0, stdout: Int32 = 1, stderr: Int32 = 2) throws {
        bridge = try WASIBridgeToHost(
            args: args, environment: environment,
            preopens: preopens.map { WASIBridgeToHost.Preopen(guestPath: $0.guest, hostPath: $0.host) },
            stdin: stdin, stdout: stdout, stderr: stderr)
        directories = HostDirectories(preopens: preopens.map(\.host))
        argumentSizes = args.map { $0.utf8.count + 1 }
        environmentSizes = environment.map { $0.key.utf8.count + $0.value.utf8.count + 2 }
    }

    deinit { try? bridge.close() }

    /// How many bytes one step of `random_get` fills before the call checks
    /// whether its store was interrupted.
    static let randomChunk: UInt32 = 1 << 20

    /// The `wasi_snapshot_preview1` imports, as host functions that reach their caller's memory.
    ///
    /// Every guest range a call names is checked before WasmKit's implementation
    /// runs (`GuestRange.preview1`): one outside memory is `EFAULT`, with nothing
    /// done. Vectored reads and writes pass on at most `RangeCheck.ioVectorsPerCall`
    /// vectors and under 4 GiB (a short count, as POSIX allows); `random_get` fills
    /// in steps and stops with the `interrupted` trap when its store is interrupted.
    public func imports() -> [String: [String: Extern]] {
        var result: [String: [String: Extern]] = [:]
        for (moduleName, module) in bridge.wasiHostModules(MemoryView.self) {
            var functions: [String: Extern] = [:]
            for (name, function) in module.functions {
                let ranges = GuestRange.preview1[name]
                // A write to a file opened with a sync flag is followed by this (O_SYNC's promise).
                let syncing = name == "fd_write" || name == "fd_pwrite" ? (module.functions["fd_sync"], module.functions["fd_datasync"]) : (nil, nil)
                let identity = Self.identity(through: module.functions["fd_filestat_get"])
                // The function keeps its host alive (its descriptors stay open while an instance can call it).
                functions[name] = .function(Function(type: function.type) { [self, argumentSizes, environmentSizes, directories] caller, arguments in
                    _ = self
                    // A function without a declaration of its ranges would run unchecked: refuse it.
                    guard let ranges else { return [.i32(UInt32(WASIAbi.Errno.ENOSYS.rawValue))] }
                    var arguments = arguments
                    let inBounds = Self.withBytes(of: caller.memory) { bytes in
                        RangeCheck(memory: bytes, arguments: argumentSizes, environment: environmentSizes)
                            .check(ranges, &arguments)
                    }
                    guard inBounds else { return [.i32(UInt32(WASIAbi.Errno.EFAULT.rawValue))] }
                    if let refusal = Self.refusal(name, arguments, memory: caller.memory) { return [.i32(UInt32(refusal.rawValue))] }
                    if let errno = Self.withBytes(of: caller.memory, { directories.perform(name, arguments, memory: $0, identity: identity) }) {
                        return [.i32(UInt32(errno.rawValue))]
                    }
                    let view = MemoryView(memory: caller.memory)
                    var results: [WasmTypes.Value]
                    do {
                        if name == "random_get", case .i32(let start) = arguments[0], case .i32(let length) = arguments[1] {
                            // In bounds (checked above): filled a step at a time.
                            var done: UInt32 = 0
                            results = [.i32(0)]
                            repeat {
                                try caller.checkInterrupt()
                                let step = min(length - done, Self.randomChunk)
                                results = try function.implementation(view, [.i32(start + done), .i32(step)])
                                done += step
                            } while done < length && results.first == .i32(0)
                        } else {
                            results = try function.implementation(view, arguments.map(\.wasmTypesValue))
                        }
                        if results.first == .i32(0) {
                            caller.memory?.withUnsafeMutableBytes { directories.observe(name, arguments, memory: $0, identity: identity) }
                            if case (let sync?, let datasync?) = syncing, case .i32(let fd) = arguments[0] {
                                let flags = directories.syncFlags(of: fd)
                                if flags.contains(.SYNC) || flags.contains(.RSYNC) {
                                    results = try sync.implementation(view, [.i32(fd)])
                                } else if flags.contains(.DSYNC) {
                                    results = try datasync.implementation(view, [.i32(fd)])
                                }
                            }
                        }
                    } catch let exit as WASIExitCode {
                        throw WASIExit(code: Int32(bitPattern: exit.code))
                    }
                    // Every range was checked: an access outside memory here is one the
                    // table missed. It got scratch space and traps now.
                    if view.fault.happened { throw Trap(code: .memoryOutOfBounds) }
                    return results.map(Sheave.Value.init)
                })
            }
            result[moduleName] = functions
        }
        return result
    }

    /// WasmKit's (device, inode) of a guest descriptor, through its
    /// `fd_filestat_get` on a scratch memory of the call's own; nil when it
    /// has no such descriptor.
    static func identity(through filestat: WASIHostFunction<MemoryView>?) -> (UInt32) -> (UInt64, UInt64)? {
        { fd in
            guard let filestat, let scratch = Memory(type: MemoryType(min: 1, max: 1)),
                  (try? filestat.implementation(MemoryView(memory: scratch), [.i32(fd), .i32(0)]))?.first == .i32(0) else { return nil }
            // filestat: dev (u64) at 0, ino (u64) at 8.
            return scratch.withUnsafeMutableBytes { ($0.load(fromByteOffset: 0, as: UInt64.self).littleEndian, $0.load(fromByteOffset: 8, as: UInt64.self).littleEndian) }
        }
    }

    /// The functions WasmKit's WASI offers that `GuestRange.preview1` does not
    /// declare (answered with ENOSYS): none, as a test checks.
    package var uncheckedFunctions: [String] {
        bridge.wasiHostModules(MemoryView.self).values.flatMap(\.functions.keys).filter { GuestRange.preview1[$0] == nil }.sorted()
    }

    /// The errno for a call WasmKit's WASI would perform but a sandbox must refuse,
    /// or nil. `path_symlink` to an absolute path: a link out of the preopened
    /// tree (Wasmtime answers `EPERM`, the WASI filesystem's "not permitted").
    /// The ranges are checked already.
    static func refusal(_ name: String, _ arguments: [Sheave.Value], memory: Memory?) -> WASIAbi.Errno? {
        guard name == "path_symlink", case .i32(let start) = arguments[0], case .i32(let length) = arguments[1], length > 0 else { return nil }
        let absolute = withBytes(of: memory) { bytes in Int(start) < bytes.count && bytes[Int(start)] == UInt8(ascii: "/") }
        return absolute ? .EPERM : nil
    }

    /// Calls `body` with the bytes of `memory` (none when there is no memory).
    static func withBytes<T>(of memory: Memory?, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        guard let memory else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return memory.withUnsafeMutableBytes { body(UnsafeRawBufferPointer($0)) }
    }
}

/// Records that a WASI call touched memory out of bounds.
final class FaultFlag: @unchecked Sendable {
    var happened = false
}

/// A caller's linear memory as WASI sees it. The bridge checks each call's
/// ranges first (`GuestRange`), so every access lands in memory. Should one
/// not, it never reaches host memory: it gets zeroed scratch space instead
/// (mapped without reserving memory, so a huge one costs nothing until used),
/// and the call then traps.
struct MemoryView: GuestMemory, @unchecked Sendable {
    let memory: Memory?
    let fault = FaultFlag()

    func withUnsafeMutableBufferPointer<T>(offset: UInt, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        if let memory {
            let inBounds: T? = try memory.withUnsafeMutableBytes { bytes in
                // `bytes` is the whole memory: the range is checked against its count before it is sliced.
                guard count >= 0, offset <= UInt(bytes.count), UInt(count) <= UInt(bytes.count) - offset else { return nil }
                return try body(UnsafeMutableRawBufferPointer(rebasing: bytes[Int(offset)..<Int(offset) + count]))
            }
            if let inBounds { return inBounds }
        }
        fault.happened = true
        let length = max(count, 1)
        let scratch = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let scratch, scratch != MAP_FAILED else {
            // Not reachable through a checked call: the count is below 2^35 and only address space is asked for.
            fatalError("cannot map \(length) bytes of scratch space for an unchecked WASI access")
        }
        defer { munmap(scratch, length) }
        return try body(UnsafeMutableRawBufferPointer(start: scratch, count: max(count, 0)))
    }
}

extension Sheave.Value {
    var wasmTypesValue: WasmTypes.Value {
        switch self {
        case .i32(let v): return .i32(v)
        case .i64(let v): return .i64(v)
        case .f32(let v): return .f32(v)
        case .f64(let v): return .f64(v)
        case .ref(let v): return .ref(.extern(v == 0 ? nil : Int(v - 1)))
        case .v128(let low, let high):
            return .v128(V128(bytes: (0..<16).map { i in UInt8(truncatingIfNeeded: (i < 8 ? low : high) >> (8 * UInt64(i % 8))) }))
        }
    }

    init(_ value: WasmTypes.Value) {
        switch value {
        case .i32(let v): self = .i32(v)
        case .i64(let v): self = .i64(v)
        case .f32(let v): self = .f32(v)
        case .f64(let v): self = .f64(v)
        case .v128(let v):
            self = Sheave.Value.v128(bytes: v.bytes) ?? .v128(low: 0, high: 0)
        default: self = .ref(0)
        }
    }
}

extension Linker {
    /// Defines the `wasi_snapshot_preview1` functions of `wasi`.
    public mutating func defineWASI(_ wasi: WASIHost) {
        for (module, functions) in wasi.imports() {
            for (name, extern) in functions { define(module, name, extern) }
        }
    }
}
