import SheaveBytecode
import WasmParser
import WasmTypes

/// A module compiled to Sheave bytecode: one image holding every defined
/// function, and everything needed to instantiate it.
public struct CompiledModule {
    public let info: ModuleInfo
    /// The bytecode of every defined function, in order.
    public let code: [UInt8]
    /// The offset in `code` of each defined function (index minus the imported count).
    public let functionOffsets: [Int]

    /// Decodes, validates and compiles `bytes`.
    public init(bytes: [UInt8]) throws(CompileError) {
        var info = try ModuleInfo(bytes: bytes)
        try Self.validateModule(info)
        var image = Encoder()
        var offsets: [Int] = []
        var calls: [(field: Int, callee: Int, instructionStart: Int)] = []
        for (i, body) in info.codes.enumerated() {
            let index = info.importedFunctionCount + i
            var compiler = try FunctionCompiler(module: info, index: index, code: body)
            var parser = ExpressionParser(code: body)
            do {
                while let visit = try parser.parse() {
                    guard !compiler.controls.isEmpty else {
                        throw CompileError(.malformed, "instructions after the function's end", function: index, offset: parser.offset)
                    }
                    try visit(visitor: &compiler)
                }
            } catch let error as CompileError {
                throw error
            } catch {
                throw CompileError(.malformed, "\(error)", function: index, offset: parser.offset)
            }
            let (code, sites) = try compiler.finish()
            let start = image.position
            offsets.append(start)
            image.append(contentsOf: code)
            for site in sites {
                calls.append((field: start + site.instructionStart + 1, callee: site.callee, instructionStart: start + site.instructionStart))
            }
        }
        for call in calls {
            let target = offsets[call.callee - info.importedFunctionCount]
            image.patchPcRel(at: call.field, target - call.instructionStart)
        }
        info.codes = []  // the bodies are compiled; do not keep the source alive
        self.info = info
        self.code = image.bytes
        self.functionOffsets = offsets
    }

    /// Module-level rules: indices in range, at most one memory, limits, exports unique.
    static func validateModule(_ info: ModuleInfo) throws(CompileError) {
        for type in info.functionTypes where Int(type) >= info.types.count {
            throw CompileError(.invalid, "unknown type \(type)")
        }
        if info.memories.count > 1 { throw CompileError(.invalid, "multiple memories") }
        for memory in info.memories {
            if memory.min > 65536 || (memory.max ?? 0) > 65536 {
                throw CompileError(.invalid, "memory size must be at most 65536 pages (4GiB)")
            }
            if let max = memory.max, max < memory.min {
                throw CompileError(.invalid, "size minimum must not be greater than maximum")
            }
        }
        var names = Set<String>()
        for export in info.exports {
            guard names.insert(export.name).inserted else { throw CompileError(.invalid, "duplicate export name \(export.name)") }
            switch export.descriptor {
            case .function(let i) where Int(i) >= info.functionTypes.count: throw CompileError(.invalid, "unknown function \(i)")
            case .table(let i) where Int(i) >= info.tables.count: throw CompileError(.invalid, "unknown table \(i)")
            case .memory(let i) where Int(i) >= info.memories.count: throw CompileError(.invalid, "unknown memory \(i)")
            case .global(let i) where Int(i) >= info.globals.count: throw CompileError(.invalid, "unknown global \(i)")
            default: break
            }
        }
        if let start = info.start {
            guard Int(start) < info.functionTypes.count else { throw CompileError(.invalid, "unknown function \(start)") }
            let type = info.functionType(Int(start))
            guard type.parameters.isEmpty && type.results.isEmpty else { throw CompileError(.invalid, "start function must have type [] -> []") }
        }
    }
}
