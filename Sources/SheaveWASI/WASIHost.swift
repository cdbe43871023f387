import Sheave
import WASI
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
    }

    deinit { try? bridge.close() }

    /// The `wasi_snapshot_preview1` imports, as host functions that reach their caller's memory.
    public func imports() -> [String: [String: Extern]] {
        var result: [String: [String: Extern]] = [:]
        for (moduleName, module) in bridge.wasiHostModules(MemoryView.self) {
            var functions: [String: Extern] = [:]
            for (name, function) in module.functions {
                functions[name] = .function(Function(type: function.type) { caller, arguments in
                    let view = MemoryView(memory: caller.memory)
                    let results: [WasmTypes.Value]
                    do {
                        results = try function.implementation(view, arguments.map(\.wasmTypesValue))
                    } catch let exit as WASIExitCode {
                        throw WASIExit(code: Int32(bitPattern: exit.code))
                    }
                    // An access outside memory was redirected to scratch space: it traps now.
                    if view.fault.happened { throw Trap(code: .memoryOutOfBounds) }
                    return results.map(Sheave.Value.init)
                })
            }
            result[moduleName] = functions
        }
        return result
    }
}

/// Records that a WASI call touched memory out of bounds.
final class FaultFlag: @unchecked Sendable {
    var happened = false
}

/// A caller's linear memory as WASI sees it. An access outside the memory never
/// reaches host memory: it gets zeroed scratch space instead, and the call then traps.
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
        let length = max(count, 0)
        guard let scratch = calloc(max(length, 1), 1) else {
            fatalError("cannot allocate \(length) bytes of scratch space for an out-of-bounds WASI access")
        }
        defer { free(scratch) }
        return try body(UnsafeMutableRawBufferPointer(start: scratch, count: length))
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
