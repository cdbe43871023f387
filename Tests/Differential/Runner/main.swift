// sheave-differential: Sheave's half of the differential harness
// (Tests/Differential/differential.py drives it). Built on the embedding API (and
// the compiler's CRC-32).
//
// Reads one request per line on stdin (JSON): {"describe": PATH} answers the
// exports' types (see `exportTypes`); {"limits": true} answers Sheave's
// implementation limits ({"table_elements": N, "memory_size": bytes}), which the harness gives
// Wasmtime's store too; otherwise
//   {"wasm": PATH, "calls": [[EXPORT, [ARG...]]...], "globals": [NAME...], "memories": [NAME...]}
// where a value is "TYPE:HEX" (its bits: i32, i64, f32, f64; v128 as 32 hex digits, lane 0 last).
// For each way of running (tail loop, match loop, tail loop through an artifact,
// tail loop with each function compiled on its first call)
// it instantiates the module once, makes the calls in order, then reads the
// globals and the memories, and answers one line:
//   {"mode": M, "error": TEXT?, "calls": [{"ok": [VALUE...]} | {"trap": TEXT}...],
//    "globals": {NAME: VALUE}, "memories": {NAME: "CRC32:LENGTH"}}
import Foundation
import Sheave
import SheaveCompiler  // CRC32, the artifacts' checksum: the same CRC-32 as Python's zlib.crc32

func encode(_ value: Value) -> String {
    switch value {
    case .i32(let v): return "i32:" + String(v, radix: 16)
    case .i64(let v): return "i64:" + String(v, radix: 16)
    case .f32(let v): return "f32:" + String(v, radix: 16)
    case .f64(let v): return "f64:" + String(v, radix: 16)
    case .ref(let v): return v == 0 ? "ref:null" : "ref:nonnull"
    case .v128(let low, let high):
        let h = String(high, radix: 16), l = String(low, radix: 16)
        return "v128:" + String(repeating: "0", count: 16 - h.count) + h + String(repeating: "0", count: 16 - l.count) + l
    }
}

func decode(_ text: String) -> Value? {
    let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
    guard parts.count == 2 else { return nil }
    let hex = parts[1]
    switch parts[0] {
    case "i32": return UInt32(hex, radix: 16).map(Value.i32)
    case "i64": return UInt64(hex, radix: 16).map(Value.i64)
    case "f32": return UInt32(hex, radix: 16).map(Value.f32)
    case "f64": return UInt64(hex, radix: 16).map(Value.f64)
    case "v128":
        let padded = String(repeating: "0", count: max(0, 32 - hex.count)) + hex
        guard let high = UInt64(padded.prefix(16), radix: 16), let low = UInt64(padded.suffix(16), radix: 16) else { return nil }
        return .v128(low: low, high: high)
    default: return nil
    }
}

func describe(_ error: Error) -> String {
    if let trap = error as? Trap { return trap.message }
    return "\(error)"
}

func run(_ request: [String: Any], mode: String) -> [String: Any] {
    var answer: [String: Any] = ["mode": mode]
    let dispatch: Config.Dispatch = mode.hasPrefix("match") ? .match : .tail
    let engine = Engine(Config(dispatch: dispatch, compilation: mode.hasSuffix("lazy") ? .lazy : .automatic))
    guard let path = request["wasm"] as? String, let data = FileManager.default.contents(atPath: path) else {
        answer["error"] = "cannot read the module"
        return answer
    }
    let instance: Instance
    do {
        var module = try Module(engine: engine, bytes: [UInt8](data))
        if mode.hasSuffix("artifact") { module = try Module(engine: engine, deserializing: module.serialize()) }
        instance = try Linker().instantiate(module, in: Store(engine: engine))
    } catch {
        answer["error"] = describe(error)
        return answer
    }
    var calls: [[String: Any]] = []
    for case let call as [Any] in request["calls"] as? [Any] ?? [] {
        guard call.count == 2, let name = call[0] as? String, let texts = call[1] as? [String] else { continue }
        let arguments = texts.compactMap(decode)
        do {
            calls.append(["ok": try instance.invoke(name, arguments).map(encode)])
        } catch {
            calls.append(["trap": describe(error)])
        }
    }
    answer["calls"] = calls
    var globals: [String: String] = [:]
    for case let name as String in request["globals"] as? [Any] ?? [] {
        if let global = instance.global(name) { globals[name] = encode(global.value) }
    }
    answer["globals"] = globals
    var memories: [String: String] = [:]
    for case let name as String in request["memories"] as? [Any] ?? [] {
        if let memory = instance.memory(name) {
            memories[name] = memory.withUnsafeMutableBytes { "\(CRC32.checksum($0)):\($0.count)" }
        }
    }
    answer["memories"] = memories
    return answer
}

func name(_ type: ValueType) -> String {
    switch type {
    case .i32: return "i32"
    case .i64: return "i64"
    case .f32: return "f32"
    case .f64: return "f64"
    case .v128: return "v128"
    default: return "ref"
    }
}

/// The module's exports with their types: {"functions": {NAME: [[PARAM...], [RESULT...]]},
/// "globals": {NAME: TYPE}, "memories": [NAME...]} (the Python binding of Wasmtime cannot
/// even name a v128 type, so the harness learns the types here).
func exportTypes(_ path: String) -> [String: Any] {
    let engine = Engine()
    guard let data = FileManager.default.contents(atPath: path) else { return ["error": "cannot read the module"] }
    do {
        let module = try Module(engine: engine, bytes: [UInt8](data))
        let instance = try Linker().instantiate(module, in: Store(engine: engine))
        var functions: [String: Any] = [:], globals: [String: String] = [:], memories: [String] = []
        for export in module.exports {
            switch instance.export(export) {
            case .function(let f)?: functions[export] = [f.type.parameters.map(name), f.type.results.map(name)]
            case .global(let g)?: globals[export] = name(g.type.valueType)
            case .memory?: memories.append(export)
            default: break
            }
        }
        return ["functions": functions, "globals": globals, "memories": memories]
    } catch {
        return ["error": describe(error)]
    }
}

let modes = CommandLine.arguments.count > 1 ? CommandLine.arguments[1].split(separator: ",").map(String.init) : ["tail", "match", "tail-artifact", "tail-lazy"]
while let line = readLine() {
    guard let request = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        print("{\"error\": \"bad request\"}")
        continue
    }
    if request["limits"] != nil {
        print("{\"table_elements\": \(Table.elementLimit), \"memory_size\": \(Config().maximumMemoryPages * 65536)}")
        fflush(nil)
        continue
    }
    if let path = request["describe"] as? String {
        let json = try! JSONSerialization.data(withJSONObject: exportTypes(path), options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
        fflush(nil)
        continue
    }
    for mode in modes {
        let answer = run(request, mode: mode)
        let json = try! JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
    fflush(nil)
}
