import ArgumentParser
import Foundation
import SheaveDemos
import SheaveInterpreter

/// The interpreter on its own, below the runtime: hand-assembled programs run
/// straight on a VM, and the two dispatch loops timed side by side.
@main
struct SheaveLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sheave-lab",
        abstract: "Sheave's interpreter without the runtime: hand-assembled programs and the dispatch loops.",
        subcommands: [Demo.self, BenchDispatch.self])
}

extension DispatchMode: ExpressibleByArgument {}

/// Runs one of the hand-assembled programs.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a hand-assembled program: fib N, count N, sum N.")

    @Argument(help: "The program: fib, count or sum.")
    var program: String

    @Argument(help: "Its argument.")
    var argument: UInt32

    @Option(help: "The dispatch loop: match or tail.")
    var dispatch: DispatchMode = .default

    func run() throws {
        var memory: LinearMemory?
        let chosen: Programs.Program
        switch program {
        case "fib": chosen = Programs.fib()
        case "count": chosen = Programs.countLoop()
        case "sum":
            chosen = Programs.sumMemory()
            guard let filled = LinearMemory(pages: (Int(argument) * 4 + 65535) / 65536) else {
                throw ValidationError("cannot allocate memory for \(argument) values")
            }
            for i in 0..<Int(argument) {
                filled.base.storeBytes(of: UInt32(i).littleEndian, toByteOffset: i * 4, as: UInt32.self)
            }
            memory = filled
        default:
            throw ValidationError("unknown program '\(program)': choose fib, count or sum")
        }
        let code = CodeImage(chosen.code)
        let vm = VM(dispatchMode: dispatch, context: ExecutionContext(memory: memory))
        do {
            let results = try vm.invoke(code.address(at: 0), arguments: [UInt64(argument)], resultCount: 1)
            print(results[0])
        } catch let trap as VMTrap {
            FileHandle.standardError.write("\(trap)\n".data(using: .utf8)!)
            throw ExitCode(1)
        }
    }
}

/// Measures the dispatch loops side by side on the same programs.
struct BenchDispatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-dispatch",
        abstract: "Time the match loop and the tail loop side by side (build with -c release).")

    @Option(help: "Loop iterations (two ops each).")
    var iterations: UInt32 = 100_000_000

    @Option(help: "fib argument.")
    var fib: UInt32 = 30

    @Option(help: "Rounds; the median is reported.")
    var rounds: Int = 5

    func run() throws {
        if !DispatchMode.tailLoopIsSafe {
            print("note: a debug build runs the tail loop as the match loop; build with -c release")
        }
        let cases: [(String, Programs.Program, UInt64, Double)] = [
            // name, program, argument, executed ops (for ns per op)
            ("count loop", Programs.countLoop(), UInt64(iterations), Double(iterations) * 2 + 4),
            ("fib, windows", Programs.fib(), UInt64(fib), fibOps(Int(fib), perCall: 9, perLeaf: 3)),
            ("fib, fixed-file moves", Programs.fibFixedRegisterStyle(), UInt64(fib), fibOps(Int(fib), perCall: 15, perLeaf: 6)),
        ]
        print("| program | ops executed | match loop ns/op | tail loop ns/op | match / tail |")
        print("|---|---:|---:|---:|---:|")
        for (name, program, argument, ops) in cases {
            let code = CodeImage(program.code)
            var times: [DispatchMode: [Double]] = [:]
            for _ in 0..<rounds {
                for mode in DispatchMode.allCases {  // interleaved
                    let vm = VM(dispatchMode: mode)
                    let start = ContinuousClock.now
                    _ = try vm.invoke(code.address(at: 0), arguments: [argument], resultCount: 1)
                    let elapsed = ContinuousClock.now - start
                    times[mode, default: []].append(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
                }
            }
            let match = median(times[.match]!) / ops * 1e9, tail = median(times[.tail]!) / ops * 1e9
            print("| \(name) | \(Int(ops)) | \(format(match)) | \(format(tail)) | \(format(match / tail)) |")
        }
    }

    /// Ops executed by the recursive fib programs: `perCall` in a call with n >= 2, `perLeaf` otherwise.
    func fibOps(_ n: Int, perCall: Double, perLeaf: Double) -> Double {
        var calls = [Double](repeating: 0, count: max(n + 1, 2)), leaves = calls
        leaves[0] = 1; leaves[1] = 1
        if n >= 2 { for i in 2...n { calls[i] = 1 + calls[i - 1] + calls[i - 2]; leaves[i] = leaves[i - 1] + leaves[i - 2] } }
        return calls[n] * perCall + leaves[n] * perLeaf
    }

    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
