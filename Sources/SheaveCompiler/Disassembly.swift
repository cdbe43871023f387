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
        var text = ""
        var printed = 0
        for listing in functionListings(options: options) {
            if let function, function != listing.name, function != String(listing.index) { continue }
            text += listing.header + "\n"
            for line in listing.lines { text += line.text + "\n" }
            for line in listing.catchClauses { text += line + "\n" }
            text += "\n"
            printed += 1
        }
        return printed == 0 ? nil : text
    }

    /// One defined function's bytecode as text.
    public struct FunctionListing {
        /// The function's index (imported functions first).
        public let index: Int
        /// Its name from the name section or an export, if any.
        public let name: String?
        /// Its code's range in `code`.
        public let range: Range<Int>
        /// One line per op, with the op's offset in `code`; calls name their callee.
        public let lines: [(offset: Int, text: String)]
        /// One line per `try_table` catch clause, innermost first: the code it
        /// covers, what it catches, where its values go and where it lands.
        public var catchClauses: [String] = []

        /// The index and the name, if any: `3 fib`.
        public var label: String { name.map { "\(index) \($0)" } ?? "\(index)" }
        /// The header line, as Wasmtime's objdump: `0000000000000000 <wasm::function[0 fib]>:`.
        public var header: String {
            let hex = String(range.lowerBound, radix: 16)
            return String(repeating: "0", count: max(0, 16 - hex.count)) + hex + " <wasm::function[\(label)]>:"
        }
    }

    /// The name of function `index` from the name section, else from an export.
    public func functionName(_ index: Int) -> String? {
        if let name = info.functionNames[UInt32(index)] { return name }
        for export in info.exports { if case .function(let i) = export.descriptor, Int(i) == index { return export.name } }
        return nil
    }

    /// Every defined function's listing, in order.
    public func functionListings(options: Disassembler.Options = .init()) -> [FunctionListing] {
        func label(_ index: Int) -> String { functionName(index).map { "\(index) \($0)" } ?? "\(index)" }
        return functionOffsets.enumerated().map { k, start in
            let index = info.importedFunctionCount + k
            let end = k + 1 < functionOffsets.count ? functionOffsets[k + 1] : code.count
            let lines = Disassembler.lines(Array(code[start..<end]), byteOrder: self.options.target.byteOrder, options: options, baseOffset: start)
            return FunctionListing(index: index, name: functionName(index), range: start..<end,
                                   lines: lines.map { ($0.offset, annotate($0.text, label)) },
                                   catchClauses: handlers[k].map(Self.describe))
        }
    }

    /// A catch clause as a comment line:
    /// `; catch_ref tag 0 in 0x12..<0x34: 2 slots to slot 5, lands at 0x56`.
    static func describe(_ h: ExceptionHandler) -> String {
        func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }
        let kind = ["catch", "catch_ref", "catch_all", "catch_all_ref"][Int(h.kind.rawValue)]
        let tag = h.kind.hasTag ? " tag \(h.tag)" : ""
        let values = h.writtenSlots == 0 ? "no values" : "\(h.writtenSlots) slot\(h.writtenSlots == 1 ? "" : "s") to slot \(h.slot)"
        return "        ; \(kind)\(tag) in \(hex(h.start))..<\(hex(h.end)): \(values), lands at \(hex(h.landing))"
    }

    /// Names the callee of a direct call: its target is the first op of a function.
    private func annotate(_ line: String, _ label: (Int) -> String) -> String {
        guard line.hasPrefix("call ") || line.contains(" call "), let range = line.firstRange(of: "// target = 0x"),
              let target = Int(line[range.upperBound...], radix: 16),
              let k = functionOffsets.firstIndex(of: target) else { return line }
        return line + " <function[\(label(info.importedFunctionCount + k))]>"
    }
}
