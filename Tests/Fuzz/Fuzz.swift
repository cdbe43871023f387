// sheave-fuzz: libFuzzer targets for Sheave, on the embedding API.
//
//   SHEAVE_FUZZ=module   (the default) decodes, validates, compiles, instantiates
//                        and runs arbitrary bytes: each exported function whose
//                        parameters are numbers is called with zeros, on 10,000
//                        units of fuel, alternately on the tail and the match loop.
//   SHEAVE_FUZZ=artifact loads arbitrary bytes as an artifact, with the checksum
//                        recomputed first (so that mutations reach the verifier,
//                        not only the checksum), then runs it the same way.
//
// Built with libFuzzer and AddressSanitizer (Tests/Fuzz/run.sh does it), libFuzzer
// supplies `main`. Built plainly (as `swift build` does), it is a program that
// runs the target over the files it is given: a finding reproduces without the
// sanitizer with `sheave-fuzz crash-…`.
import Foundation
import Sheave
import SheaveCompiler

let artifactMode = ProcessInfo.processInfo.environment["SHEAVE_FUZZ"] == "artifact"
nonisolated(unsafe) var runs = 0

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    var bytes = [UInt8](UnsafeBufferPointer(start: data, count: count))
    runs += 1
    let config = Config(fuelMetering: true, dispatch: Config.Dispatch.tailLoopIsSafe && runs % 2 == 0 ? .tail : .match,
                        maximumMemoryPages: 1024)
    let engine = Engine(config)
    let module: Module
    do {
        if artifactMode {
            if bytes.count >= 4 {
                let crc = CRC32.checksum(bytes[0..<(bytes.count - 4)])
                for i in 0..<4 { bytes[bytes.count - 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
            }
            module = try Module(engine: engine, deserializing: bytes)
        } else {
            module = try Module(engine: engine, bytes: bytes)
            // What compiles also round-trips through an artifact.
            _ = try Module(engine: engine, deserializing: module.serialize())
        }
    } catch {
        return 0
    }
    let store = Store(engine: engine)
    guard let instance = try? Linker().instantiate(module, in: store) else { return 0 }
    for name in module.exports {
        guard let function = instance.function(name) else { continue }
        let zeros: [Value] = function.type.parameters.compactMap { type in
            switch type {
            case .i32: return .i32(0)
            case .i64: return .i64(0)
            case .f32: return .f32(0)
            case .f64: return .f64(0)
            case .v128: return .v128(low: 0, high: 0)
            default: return nil
            }
        }
        guard zeros.count == function.type.parameters.count else { continue }
        store.fuel = 10_000
        _ = try? function.call(zeros)
    }
    return 0
}

#if SHEAVE_FUZZING
/// libFuzzer's driver (a C function of its runtime, linked in by -sanitize=fuzzer).
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// SwiftPM links an executable's entry point under this name: hand over to libFuzzer's driver.
@_cdecl("sheave_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { fuzzOne($0, $1) }
}
#else
@main
struct Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { print("\(path): cannot read"); continue }
            _ = data.withUnsafeBytes { fuzzOne($0.bindMemory(to: UInt8.self).baseAddress ?? UnsafePointer(bitPattern: 1)!, data.count) }
            print("\(path): ran (\(data.count) bytes)")
        }
    }
}
#endif
