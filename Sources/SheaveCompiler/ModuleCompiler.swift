import Dispatch
import SheaveBytecode
import WasmParser
import WasmTypes

/// A module compiled to Sheave bytecode: one image holding every defined
/// function, and everything needed to instantiate it.
public struct CompiledModule {
    /// The module's sections (the function bodies are dropped once compiled).
    public let info: ModuleInfo
    /// How it was compiled.
    public let options: CompileOptions
    /// The bytecode of every defined function, in order.
    public let code: [UInt8]
    /// The offset in `code` of each defined function (index minus the imported count).
    public let functionOffsets: [Int]
    /// Each defined function's `try_table` catch clauses, innermost first, with
    /// offsets in `code` (empty lists for a function that catches nothing).
    public let handlers: [[ExceptionHandler]]

    /// A compiled module from its parts, trusted as they are: the artifact loader's
    /// (after verification), and tests that forge bytecode for the verifier.
    package init(info: ModuleInfo, options: CompileOptions, code: [UInt8], functionOffsets: [Int], handlers: [[ExceptionHandler]]? = nil) {
        self.info = info
        self.options = options
        self.code = code
        self.functionOffsets = functionOffsets
        self.handlers = handlers ?? functionOffsets.map { _ in [] }
    }

    /// Decodes, validates and compiles `bytes`; lazily (`init(lazy:options:)`) when its
    /// function bodies take at least `lazyFrom` bytes.
    public init(bytes: [UInt8], options: CompileOptions = CompileOptions(), lazyFrom: Int = .max) throws(CompileError) {
        if let error = CompileError.header(of: bytes) { throw error }
        var bytes = bytes
        // WasmParser 0.4.2 reads the sub-opcode after a 0xFC prefix as one byte, not
        // as the LEB128 u32 the spec says, so it rejects a redundant encoding such as
        // FC 80 00. Such an op is rewritten in place to NOPs then its minimal form
        // (01 FC 00: same length, same meaning) and the module decoded again.
        for _ in 0..<1024 {
            do {
                try self.init(decoding: bytes, options: options, lazyFrom: lazyFrom)
                return
            } catch let failure as RedundantPrefixEncoding {
                bytes = failure.normalized
            } catch let error as CompileError {
                throw error
            } catch {
                throw CompileError(parsing: error)
            }
        }
        throw CompileError(.unsupported, "too many redundant 0xFC sub-opcode encodings")
    }

    /// A 0xFC op whose sub-opcode has a redundant LEB128 encoding, and the bytes with it normalized.
    struct RedundantPrefixEncoding: Error {
        let normalized: [UInt8]

        /// The failure at `offset` (just past the byte WasmParser could not read) when it is this case.
        init?(_ bytes: [UInt8], failingAt offset: Int) {
            let prefix = offset - 2
            guard prefix >= 0, prefix + 1 < bytes.count, bytes[prefix] == 0xFC, bytes[prefix + 1] & 0x80 != 0 else { return nil }
            var value = 0, shift = 0, end = prefix + 1
            while end < bytes.count, shift <= 28 {
                value |= Int(bytes[end] & 0x7F) << shift
                shift += 7
                end += 1
                if bytes[end - 1] & 0x80 == 0 { break }
            }
            guard bytes[end - 1] & 0x80 == 0, value < 0x80 else { return nil }
            var normalized = bytes
            for i in prefix..<(end - 2) { normalized[i] = 0x01 }  // nop
            normalized[end - 2] = 0xFC
            normalized[end - 1] = UInt8(value)
            self.normalized = normalized
        }
    }

    private init(decoding bytes: [UInt8], options: CompileOptions, lazyFrom: Int) throws {
        var info = try ModuleInfo(bytes: bytes)
        try Self.validateModule(info)
        try Self.checkFeatures(info, options.features)
        if options.lazy || info.codes.reduce(0, { $0 + $1.expression.count }) >= lazyFrom {
            var options = options
            options.lazy = true
            self.init(info: info, options: options, code: [], functionOffsets: [])
            return
        }
        var image = Encoder(byteOrder: options.target.byteOrder)
        var offsets: [Int] = []
        var calls: [(field: Int, callee: Int, instructionStart: Int)] = []
        var handlers: [[ExceptionHandler]] = []
        offsets.reserveCapacity(info.codes.count)
        handlers.reserveCapacity(info.codes.count)
        try Self.compileFunctions(of: info, bytes: bytes, options: options) { code, sites, clauses in
            let start = image.position
            offsets.append(start)
            handlers.append(clauses.map { h in
                var h = h
                (h.start, h.end, h.landing) = (h.start + UInt32(start), h.end + UInt32(start), h.landing + UInt32(start))
                return h
            })
            image.append(contentsOf: code)
            for site in sites {
                // The offset follows the opcode: one byte, or 0xFF and two (an extended op, `return_call`).
                let opcodeBytes = code[site.instructionStart] == 0xFF ? 3 : 1
                calls.append((field: start + site.instructionStart + opcodeBytes, callee: site.callee, instructionStart: start + site.instructionStart))
            }
        }
        for call in calls {
            let target = offsets[call.callee - info.importedFunctionCount]
            image.patchPcRel(at: call.field, target - call.instructionStart)
        }
        info.codes = []  // the bodies are compiled; do not keep the source alive
        self.init(info: info, options: options, code: image.bytes, functionOffsets: offsets, handlers: handlers)
    }

    /// Decodes and validates `bytes` at the module level (sections, indices, limits,
    /// constant expressions, exports, features) without compiling a function: each
    /// is validated and compiled alone when first called, by `compileFunction(_:bytes:)`
    /// (`options.lazy` set; `info.codes` keeps the bodies, `code` stays empty).
    public init(lazy bytes: [UInt8], options: CompileOptions) throws(CompileError) {
        try self.init(bytes: bytes, options: options, lazyFrom: 0)
    }

    /// Validates and compiles defined function `i` (index minus the imported count)
    /// of a module made by `init(lazy:options:)` from `bytes`: its bytecode, offsets
    /// from its first op, with its calls to itself patched (the only pc-relative
    /// calls a lazily compiled function has), and its catch clauses.
    public func compileFunction(_ i: Int, bytes: [UInt8]) throws(CompileError) -> (code: [UInt8], handlers: [ExceptionHandler]) {
        precondition(options.lazy && i < info.codes.count, "not a lazily compiled module's function")
        var (info, bytes) = (info, bytes)
        for _ in 0..<1024 {
            do {
                let compiled = try Self.compileFunction(i, of: info, bytes: bytes, options: options)
                var code = Encoder(byteOrder: options.target.byteOrder)
                code.append(contentsOf: compiled.code)
                for site in compiled.callSites {
                    let opcodeBytes = compiled.code[site.instructionStart] == 0xFF ? 3 : 1
                    code.patchPcRel(at: site.instructionStart + opcodeBytes, -site.instructionStart)
                }
                return (code.bytes, compiled.handlers)
            } catch let failure as RedundantPrefixEncoding {
                // As `init(bytes:options:)`: decoded again from the normalized bytes (rare).
                bytes = failure.normalized
                do { info = try ModuleInfo(bytes: bytes) } catch { throw CompileError(parsing: error) }
            } catch let error as CompileError {
                throw error
            } catch {
                throw CompileError(parsing: error)
            }
        }
        throw CompileError(.unsupported, "too many redundant 0xFC sub-opcode encodings")
    }

    /// One function's bytecode (offsets from its start), its direct calls and its catch clauses.
    typealias CompiledFunction = (code: [UInt8], callSites: [(instructionStart: Int, callee: Int)], handlers: [ExceptionHandler])

    /// Below this many bytes of function bodies a module compiles on the calling thread
    /// alone: starting the other threads would cost more than they save.
    package static let parallelThreshold = 64 << 10

    /// Compiles every defined function and hands each to `take`, in order; throws the
    /// first failure in that order. With `options.parallel` and a large enough module,
    /// on every core (as Wasmtime compiles): each function is compiled from the
    /// module's sections alone, so the bytecode is the same whichever thread compiled
    /// it, and so is the error. A small module is compiled here, one function after
    /// the other, with nothing kept between them.
    static func compileFunctions(of info: ModuleInfo, bytes: [UInt8], options: CompileOptions,
                                 _ take: (CompiledFunction) throws -> Void) throws {
        let count = info.codes.count
        let total = info.codes.reduce(0) { $0 + $1.expression.count }
        guard options.parallel, total >= parallelThreshold, count > 1 else {
            for i in 0..<count { try take(try compileFunction(i, of: info, bytes: bytes, options: options)) }
            return
        }
        // Runs of consecutive functions of about 16 KiB of body each, taken by whichever thread is free.
        var runs: [Range<Int>] = []
        var first = 0, size = 0
        for i in 0..<count {
            size += info.codes[i].expression.count
            if size >= 16 << 10 || i == count - 1 {
                runs.append(first..<(i + 1))
                (first, size) = (i + 1, 0)
            }
        }
        let results = UnsafeMutableBufferPointer<Result<CompiledFunction, any Error>>.allocate(capacity: count)
        defer { results.deallocate() }
        // Each run's slots are written by the one thread that takes it, then read here after
        // all have ended. The threads only read the module's sections (ModuleInfo is a value
        // of arrays, not declared Sendable as WasmParser's types in it are not).
        nonisolated(unsafe) let slots = results
        nonisolated(unsafe) let sections = info
        let work = runs
        DispatchQueue.concurrentPerform(iterations: work.count) { r in
            for i in work[r] {
                (slots.baseAddress! + i).initialize(to: Result { try compileFunction(i, of: sections, bytes: bytes, options: options) })
            }
        }
        defer { _ = results.deinitialize() }
        for result in results { try take(try result.get()) }
    }

    /// Decodes, validates and compiles the `i`-th defined function.
    static func compileFunction(_ i: Int, of info: ModuleInfo, bytes: [UInt8], options: CompileOptions) throws -> CompiledFunction {
        let index = info.importedFunctionCount + i
        let body = info.codes[i]
        var compiler = try FunctionCompiler(module: info, index: index, code: body, options: options)
        var parser = ExpressionParser(code: body)
        do {
            while let visit = try parser.parse() {
                guard !compiler.controls.isEmpty else {
                    throw CompileError(.malformed, "instructions after the function's end", function: index, offset: parser.offset)
                }
                // Nothing is consumed yet: an instruction that consumes operands says so (`op`, branches, select).
                compiler.e.reusableFrom = Int.max
                try visit(visitor: &compiler)
            }
        } catch let error as CompileError {
            throw error
        } catch {
            if let redundant = RedundantPrefixEncoding(bytes, failingAt: parser.offset) { throw redundant }
            throw CompileError(parsing: error, function: index, fallbackOffset: parser.offset)
        }
        return try compiler.finish()
    }
}
