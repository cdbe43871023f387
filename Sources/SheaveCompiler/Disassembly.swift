import SheaveBytecode
import WasmParser

extension CompiledModule {
    /// The bytecode of the module's functions as text, laid out as Wasmtime's
    /// `objdump` lays out Pulley: a header per function, then one line per op,
    /// branch targets resolved and direct calls named.
    ///
    /// - Parameters:
    ///   - options: whether lines show offsets and raw bytes.
    ///   - function: only the function with this name (name section or export) or index.
    /// - Returns: the listing, or nil when no function matches `function`.
    public func disassembly(options: Disassembler.Options = .init(), function: String? = nil) -> String? {
        var names: [Int: String] = [:]
        for export in info.exports { if case .function(let i) = export.descriptor { names[Int(i)] = export.name } }
        for (i, name) in info.functionNames { names[Int(i)] = name }
        func label(_ index: Int) -> String { names[index].map { "\(index) \($0)" } ?? "\(index)" }
        var text = ""
        var printed = 0
        for (k, start) in functionOffsets.enumerated() {
            let index = info.importedFunctionCount + k
            if let function, function != names[index], function != String(index) { continue }
            let end = k + 1 < functionOffsets.count ? functionOffsets[k + 1] : code.count
            let hex = String(start, radix: 16)
            text += String(repeating: "0", count: max(0, 16 - hex.count)) + hex + " <wasm::function[\(label(index))]>:\n"
            let listing = Disassembler.disassemble(Array(code[start..<end]), byteOrder: self.options.target.byteOrder, options: options, baseOffset: start)
            for line in listing.split(separator: "\n") {
                text += annotate(String(line), label) + "\n"
            }
            text += "\n"
            printed += 1
        }
        return printed == 0 ? nil : text
    }

    /// Names the callee of a direct call: its target is the first op of a function.
    private func annotate(_ line: String, _ label: (Int) -> String) -> String {
        guard line.hasPrefix("call ") || line.contains(" call "), let range = line.firstRange(of: "// target = 0x"),
              let target = Int(line[range.upperBound...], radix: 16),
              let k = functionOffsets.firstIndex(of: target) else { return line }
        return line + " <function[\(label(info.importedFunctionCount + k))]>"
    }
}
