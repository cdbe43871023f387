import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter

/// Samples a store's running code from another thread: `start()`, run code,
/// `stop(attributingTo:)`. Made by `Store.profiler(interval:)`.
public final class Profiler {
    let sampler: OpSampler

    init(sampler: OpSampler) {
        self.sampler = sampler
    }

    /// Seconds between samples.
    public var interval: Double { sampler.interval }

    /// Starts sampling the running op and counting executed op pairs.
    public func start() { sampler.start() }

    /// Stops sampling; the profile of `instance`'s code, named `program`. Samples
    /// of other instances' code count as outside, with the host's, and so do all
    /// of a lazily compiled module's (`Config.compilation`: its functions lie in
    /// images of their own; profile a module compiled eagerly, as `sheave run
    /// --profile` does). Throws `ModuleError` only for a lazily compiled module
    /// with an invalid function, which the profile's listing compiles whole.
    public func stop(attributingTo instance: Instance, program: String) throws(ModuleError) -> Profile {
        let run = sampler.stop()
        let module = try instance.entity.wholeModule()
        var samples: [Int: Int] = [:]
        var outside = run.outside
        for (address, count) in run.samples {
            if let offset = instance.codeOffset(of: address) { samples[offset, default: 0] += count } else { outside += count }
        }
        return Profile(module: module, program: program, samples: samples, outside: outside,
                       pairs: run.pairs, interval: run.interval, duration: run.duration)
    }
}

/// A profile of one run: the compiled module it ran, how many samples fell on
/// each op, and how often each pair of adjacent ops ran one after the other.
/// `sheave run --profile FILE` writes one; `sheave profile FILE` reports it.
public struct Profile {
    /// The module the samples refer to (kept whole, so the report needs nothing else).
    package var module: CompiledModule
    /// What ran: the program's file name.
    public var program: String
    /// Samples by the code offset of the op that was running.
    public var samples: [Int: Int]
    /// Samples taken while no bytecode of the module ran (host functions, start-up).
    public var outside: Int
    /// Executions of each pair of ops adjacent in the code, most frequent first.
    public var pairs: [(first: String, second: String, count: UInt64)]
    /// Seconds between samples.
    public var interval: Double
    /// The run's length in seconds.
    public var duration: Double

    /// The first eight bytes of a profile file.
    public static let magic: [UInt8] = Array("SHVPROF\n".utf8)
    /// The profile format version this build writes and reads.
    public static let formatVersion: UInt32 = 1

    /// A profile; see the properties.
    package init(module: CompiledModule, program: String, samples: [Int: Int], outside: Int,
                pairs: [(first: String, second: String, count: UInt64)], interval: Double, duration: Double) {
        self.module = module
        self.program = program
        self.samples = samples
        self.outside = outside
        self.pairs = pairs
        self.interval = interval
        self.duration = duration
    }

    /// Samples that fell on the module's code.
    public var inside: Int { samples.values.reduce(0, +) }

    // MARK: File format

    /// The profile as a file: magic, version, the module as an artifact, the samples, the pairs, a CRC-32.
    public func serialized() -> [UInt8] {
        var w = ArtifactWriter()
        w.raw(Self.magic)
        w.u32(Self.formatVersion)
        w.string(program)
        w.u64(interval.bitPattern)
        w.u64(duration.bitPattern)
        w.u64(UInt64(outside))
        w.bytes(module.serialized())
        w.list(samples.sorted { $0.key < $1.key }) { w, entry in
            w.u32(UInt32(entry.key))
            w.u64(UInt64(entry.value))
        }
        w.list(pairs) { w, pair in
            w.string(pair.first)
            w.string(pair.second)
            w.u64(pair.count)
        }
        w.u32(CRC32.checksum(w.data))
        return w.data
    }

    /// Reads a profile file written by `serialized()`.
    public init(deserializing bytes: [UInt8]) throws(ModuleError) {
        do throws(ArtifactError) {
            try self.init(reading: bytes)
        } catch {
            throw ModuleError(error)
        }
    }

    private init(reading bytes: [UInt8]) throws(ArtifactError) {
        guard bytes.count >= Self.magic.count + 4, Array(bytes[0..<Self.magic.count]) == Self.magic else {
            throw ArtifactError(.notAnArtifact, "not a Sheave profile (bad magic number)")
        }
        var trailer = ArtifactReader(bytes, offset: bytes.count - 4)
        guard try trailer.u32() == CRC32.checksum(bytes[0..<(bytes.count - 4)]) else {
            throw ArtifactError(.checksumMismatch, "profile is damaged: checksum mismatch")
        }
        var r = ArtifactReader(bytes, offset: Self.magic.count, end: bytes.count - 4)
        let version = try r.u32()
        guard version == Self.formatVersion else {
            throw ArtifactError(.unsupportedVersion, "profile format version \(version) is not supported (this Sheave reads version \(Self.formatVersion))")
        }
        program = try r.string()
        interval = Double(bitPattern: try r.u64())
        duration = Double(bitPattern: try r.u64())
        outside = Int(truncatingIfNeeded: try r.u64())
        module = try CompiledModule(deserializing: try r.byteArray(), target: nil)
        var samples: [Int: Int] = [:]
        for (offset, count) in try r.list({ (r: inout ArtifactReader) throws(ArtifactError) in (Int(try r.u32()), Int(truncatingIfNeeded: try r.u64())) }) {
            samples[offset] = count
        }
        self.samples = samples
        pairs = try r.list { (r: inout ArtifactReader) throws(ArtifactError) in (try r.string(), try r.string(), try r.u64()) }
        guard r.isAtEnd else { throw ArtifactError(.damaged, "profile has unread bytes") }
    }

    // MARK: Report

    /// One function's share and its annotated instructions.
    struct HotFunction {
        let listing: CompiledModule.FunctionListing
        let samples: Int
        /// Each op: its offset, its samples, its text.
        let lines: [(offset: Int, samples: Int, text: String)]
    }

    /// Functions with samples, coldest first (so the hottest is printed last).
    func hotFunctions() -> [HotFunction] {
        module.functionListings(options: .init(addresses: true, bytes: false)).compactMap { listing in
            let lines = listing.lines.map { (offset: $0.offset, samples: samples[$0.offset] ?? 0, text: $0.text) }
            let total = lines.reduce(0) { $0 + $1.samples }
            return total == 0 ? nil : HotFunction(listing: listing, samples: total, lines: lines)
        }.sorted { ($0.samples, $1.listing.index) < ($1.samples, $0.listing.index) }
    }

    static func percent(_ part: Int, of whole: Int) -> String {
        percent(whole == 0 ? 0 : 100 * Double(part) / Double(whole))
    }

    /// A share in percent as C's `%6.2f%%` prints it.
    static func percent(_ value: Double) -> String { padded(fixed(value, digits: 2) + "%", to: 7) }

    /// `value` rounded to `digits` decimals, as C's `%.Nf` prints it (Foundation's
    /// `String(format:)` is left out: the command line starts faster without it).
    static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e15 else { return "\(value)" }
        let units = UInt64(scaled), divisor = UInt64(scale)
        let fraction = String(units % divisor)
        let sign = value < 0 && units != 0 ? "-" : ""
        let whole = sign + String(units / divisor)
        return digits == 0 ? whole : whole + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    static func padded(_ text: String, to width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    static func trimmed(_ text: String) -> String { String(text.drop { $0 == " " }) }

    /// The report `sheave profile` prints: totals, the hottest functions (hottest
    /// last), each of the `functions` hottest annotated op by op with its share of
    /// all samples, then the `pairs` most frequent adjacent op pairs.
    public func report(functions: Int = 3, pairs pairCount: Int = 20) -> String {
        let total = inside + outside
        var s = "Sheave profile of \(program): \(total) samples, one every \(Int((interval * 1_000_000).rounded())) µs over \(Self.fixed(duration, digits: 3)) s\n"
        s += "  in bytecode: \(inside) (\(Self.trimmed(Self.percent(inside, of: total))))"
        s += "   outside (host calls, start-up): \(outside) (\(Self.trimmed(Self.percent(outside, of: total))))\n\n"
        let hot = hotFunctions()
        s += "Hottest functions (share of samples in bytecode, hottest last):\n"
        for function in hot {
            s += "  \(Self.percent(function.samples, of: inside))  \(function.samples) samples  function[\(function.listing.label)]\n"
        }
        for function in hot.suffix(functions) {
            s += "\n\(function.listing.header) \(Self.trimmed(Self.percent(function.samples, of: inside)))\n"
            for line in function.lines {
                s += (line.samples == 0 ? "         " : Self.percent(line.samples, of: inside) + "  ") + line.text + "\n"
            }
        }
        let executed = self.pairs.reduce(UInt64(0)) { $0 + $1.count }
        s += "\nMost frequent op pairs (the second op starts where the first ends; exact counts, of \(executed)):\n"
        for pair in self.pairs.prefix(pairCount) {
            let share = executed == 0 ? 0 : 100 * Double(pair.count) / Double(executed)
            s += "  " + Self.padded(String(pair.count), to: 14) + "  " + Self.percent(share) + "  \(pair.first) -> \(pair.second)\n"
        }
        return s
    }

    /// The report as one self-contained HTML page: the same tables, each op's
    /// line shaded by its share of samples.
    public func html(functions: Int = 10, pairs pairCount: Int = 50) -> String {
        func escape(_ text: String) -> String {
            text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
        }
        let total = inside + outside
        let hot = hotFunctions()
        var s = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Sheave profile: \(escape(program))</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
            table { border-collapse: collapse; margin-bottom: 2em; }
            td, th { padding: 0.1em 0.8em; text-align: left; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; }
            pre, td.op { font-family: ui-monospace, monospace; white-space: pre; }
            tr.hot td { border-top: 1px solid #eee; }
            h2 { font-size: 1.1em; margin-top: 2em; }
            </style></head><body>
            <h1>Sheave profile: \(escape(program))</h1>
            <p>\(total) samples, one every \(Int((interval * 1_000_000).rounded())) µs over \(Self.fixed(duration, digits: 3)) s;
            \(inside) in bytecode, \(outside) outside (host calls, start-up).</p>
            <h2>Hottest functions</h2>
            <table><tr><th>share</th><th>samples</th><th>function</th></tr>

            """
        for function in hot.reversed() {
            s += "<tr><td class=\"n\">\(Self.percent(function.samples, of: inside))</td><td class=\"n\">\(function.samples)</td><td><a href=\"#f\(function.listing.index)\">function[\(escape(function.listing.label))]</a></td></tr>\n"
        }
        s += "</table>\n"
        let peak = max(hot.flatMap { $0.lines.map(\.samples) }.max() ?? 1, 1)
        for function in hot.reversed().prefix(functions) {
            s += "<h2 id=\"f\(function.listing.index)\">\(escape(function.listing.header)) \(Self.percent(function.samples, of: inside))</h2>\n<table>\n"
            for line in function.lines {
                let alpha = Self.fixed(Double(line.samples) / Double(peak) * 0.85, digits: 3)
                let share = line.samples == 0 ? "" : Self.percent(line.samples, of: inside)
                s += "<tr class=\"hot\" style=\"background: rgba(230, 80, 30, \(alpha))\"><td class=\"n\">\(share)</td><td class=\"op\">\(escape(line.text))</td></tr>\n"
            }
            s += "</table>\n"
        }
        let executed = self.pairs.reduce(UInt64(0)) { $0 + $1.count }
        s += "<h2>Most frequent op pairs</h2>\n<p>The second op starts where the first ends: candidates for super-instructions. Exact counts.</p>\n"
        s += "<table><tr><th>count</th><th>share</th><th>first</th><th>second</th></tr>\n"
        for pair in self.pairs.prefix(pairCount) {
            let share = executed == 0 ? 0 : 100 * Double(pair.count) / Double(executed)
            s += "<tr><td class=\"n\">\(pair.count)</td><td class=\"n\">\(Self.trimmed(Self.percent(share)))</td><td class=\"op\">\(escape(pair.first))</td><td class=\"op\">\(escape(pair.second))</td></tr>\n"
        }
        s += "</table>\n</body></html>\n"
        return s
    }
}
