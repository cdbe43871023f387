#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import WAT

/// The official spec test suite on disk, read through its `manifest.json`.
public struct SpecSuite {
    /// One `.wast` file of the suite.
    public struct File: Sendable {
        /// Path relative to the suite's root, e.g. `core/i32.wast`.
        public let path: String
        /// The file's feature group in the manifest.
        public let group: String
        /// How many assertions the manifest counts in the file.
        public let assertions: Int
        /// True when some module the file means to be valid needs a feature beyond Wasm 2.0.
        public let needsWasm3: Bool
        /// True when some module the file means to be valid uses SIMD (also outside the simd groups).
        public let needsSIMD: Bool
    }

    /// The groups that make Wasm 2.0, less SIMD.
    public static let wasm2GroupsWithoutSIMD = ["mvp", "sign-extension", "nontrapping-float-to-int", "multi-value", "bulk-memory", "reference-types"]
    /// The groups that make Wasm 2.0.
    public static let wasm2Groups = wasm2GroupsWithoutSIMD + ["simd"]
    /// The Wasm 2.0 groups this build runs: without SIMD when the interpreter was
    /// built without the `InterpreterSIMD` trait.
    public static var wasm2GroupsOfThisBuild: [String] {
        #if InterpreterSIMD
        return wasm2Groups
        #else
        return wasm2GroupsWithoutSIMD
        #endif
    }

    /// The groups of Wasm 3.0 and later that Sheave implements (issue 20 adds to
    /// them): every file passes but those that also need a proposal Sheave does
    /// not have yet (GC, exceptions), which the spec tests name with their
    /// counts. `sheave wast --suite` and the spec tests run them with Wasm 2.0's.
    public static let laterGroups = ["tail-call", "function-references", "relaxed-simd", "multi-memory", "memory64",
                                     "annotations", "wast-instance-commands", "exceptions"]
    /// What `sheave wast --suite` and the spec tests run by default: without
    /// the SIMD groups in a build without SIMD.
    public static var groupsOfThisBuild: [String] {
        #if InterpreterSIMD
        return wasm2GroupsOfThisBuild + laterGroups
        #else
        return wasm2GroupsOfThisBuild + laterGroups.filter { $0 != "relaxed-simd" }
        #endif
    }

    /// Features of Wasm 2.0, as the manifest names them.
    static let wasm2Features: Set<String> = ["sign-extension", "nontrapping-float-to-int", "multi-value", "bulk-memory", "reference-types", "simd"]

    /// The folder holding `manifest.json`.
    public let root: URL
    /// Every file the manifest lists, by path.
    public let files: [File]

    /// Reads the suite at `root`; nil when there is no readable manifest there.
    public init?(root: URL) {
        struct Manifest: Decodable { let files: [String: Entry] }
        struct Entry: Decodable { let group: String?; let assertions: Int?; let requires: [String: Skipped]? }
        struct Skipped: Decodable { init(from decoder: any Decoder) {} }
        guard let data = try? Data(contentsOf: root.appendingPathComponent("manifest.json")),
              let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else { return nil }
        self.root = root
        files = manifest.files.compactMap { path, entry in
            guard let group = entry.group else { return nil }
            let requires = Set((entry.requires ?? [:]).keys)
            return File(path: path, group: group, assertions: entry.assertions ?? 0,
                        needsWasm3: !requires.isSubset(of: Self.wasm2Features), needsSIMD: requires.contains("simd"))
        }.sorted { $0.path < $1.path }
    }

    /// The suite named by `SHEAVE_TESTSUITE`, else `../shared/wasm-testsuite` from the
    /// current directory or from `repositoryRoot`.
    public static func locate(repositoryRoot: URL? = nil) -> SpecSuite? {
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["SHEAVE_TESTSUITE"], !path.isEmpty {
            candidates.append(URL(fileURLWithPath: path))
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("../shared/wasm-testsuite"))
        if let repositoryRoot { candidates.append(repositoryRoot.appendingPathComponent("../shared/wasm-testsuite")) }
        return candidates.lazy.compactMap { SpecSuite(root: $0.standardizedFileURL) }.first
    }

    /// The files of `groups`.
    public func files(in groups: [String]) -> [File] {
        let wanted = Set(groups)
        return files.filter { wanted.contains($0.group) }
    }

    /// The files of `groups` this build can run: without those that use SIMD
    /// (`simd_memory-multi.wast` of multi-memory, say) in a build without it.
    public func filesOfThisBuild(in groups: [String]) -> [File] {
        #if InterpreterSIMD
        return files(in: groups)
        #else
        return files(in: groups).filter { !$0.needsSIMD }
        #endif
    }

    /// The files whose modules the mutation tests damage: Wasm 2.0's (those that
    /// need nothing later), the multi-memory and memory64 groups', whose
    /// modules hold the ops that name a memory (`xload32_m`), and the exceptions
    /// group's, whose artifacts hold catch clauses.
    public func mutationCorpusFiles() -> [File] {
        files(in: Self.wasm2GroupsOfThisBuild).filter { !$0.needsWasm3 } + filesOfThisBuild(in: ["multi-memory", "memory64", "exceptions"])
    }

    /// The binary form of every module the scripts `files` define (text modules encoded).
    public func moduleBinaries(_ files: [File]) -> [[UInt8]] {
        var binaries: [[UInt8]] = []
        for file in files {
            guard let text = try? String(contentsOf: root.appendingPathComponent(file.path), encoding: .utf8),
                  var script = try? parseWAST(text, features: WASTRunner.textFeatures) else { continue }
            while let (parsed, _) = script.nextDirectiveResult() {
                guard case .success(.module(let module)) = parsed else { continue }
                switch module.source {
                case .text(let wat): if let bytes = try? wat.encode() { binaries.append(bytes) }
                case .binary(let bytes): binaries.append(bytes)
                case .quote: break
                }
            }
        }
        return binaries
    }

    /// Runs `files`, in order, and returns their reports.
    public func run(_ files: [File], with runner: WASTRunner) -> [WASTReport] {
        files.map { runner.run(path: root.appendingPathComponent($0.path).path, name: $0.path) }
    }

    /// A table of files, passed and failed assertions per group, as Markdown.
    public static func summary(_ files: [File], _ reports: [WASTReport]) -> String {
        var rows: [String: (files: Int, passed: Int, failed: Int)] = [:]
        var order: [String] = []
        for (file, report) in zip(files, reports) {
            let key = file.group + (file.needsWasm3 ? " (files with Wasm 3.0 modules)" : "")
            if rows[key] == nil { order.append(key) }
            var row = rows[key, default: (0, 0, 0)]
            row.files += 1
            row.passed += report.passed
            row.failed += report.failed
            rows[key] = row
        }
        var text = "| group | files | passed | failed |\n|---|---:|---:|---:|\n"
        for key in order {
            let row = rows[key]!
            text += "| \(key) | \(row.files) | \(row.passed) | \(row.failed) |\n"
        }
        let passed = reports.reduce(0) { $0 + $1.passed }, failed = reports.reduce(0) { $0 + $1.failed }
        text += "| total | \(reports.count) | \(passed) | \(failed) |\n"
        return text
    }
}
