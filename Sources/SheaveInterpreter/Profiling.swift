import Atomics
import Dispatch
import SheaveBytecode

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The opcode-level profiler, as Pulley's: the interpreter publishes the pc of
// each op before running it, and a sampling thread reads the published pc at
// a fixed interval. Profiling costs nothing when it is off: a profiled run
// takes the match loop, specialized for a hook that records each op, and every
// other run takes a loop without it (the tail loop's handler addresses are in
// the code image, so it has no table to swap).
//
// A profiling run also counts, exactly, how often each op runs right after the
// op before it in the code (the second op starts where the first one ends):
// the pairs a super-instruction could fuse.

/// Sees each op before the match loop runs it.
protocol DispatchHook {
    static func willDispatch(_ executor: inout Executor)
}

/// No hook: the match loop as it runs without profiling.
enum NoDispatchHook: DispatchHook {
    @inline(__always) static func willDispatch(_ executor: inout Executor) {}
}

/// Records each op for the profiler.
enum ProfilingHook: DispatchHook {
    @inline(__always) static func willDispatch(_ executor: inout Executor) {
        guard let profile = executor.vm.pointee.profile else { return }
        profile.pointee.record(executor.pc)
    }
}

/// The profiler's state, reached from `VMState` while profiling.
struct ProfileState {
    /// The pc of the op running now; 0 while no bytecode runs. Read by the sampler.
    let published: UnsafeAtomic<UInt>
    /// The op key of the previous op, and the address just past it (0 when its size varies).
    var last: Int
    var lastEnd: UInt
    /// `keyCount * keyCount` counts: [first * keyCount + second].
    let pairs: UnsafeMutablePointer<UInt64>
    /// The size of each op key in the code image (with its header); 0 when it varies.
    let sizes: UnsafePointer<UInt8>

    /// Keys: primary opcodes 0..<255, then 256 + each extended opcode, then one for
    /// an invalid extended opcode.
    static let keyCount = 256 + extendedOpCount + 1

    @inline(__always) static func key(at pc: UnsafeRawPointer) -> Int {
        let byte = Int(pc.load(fromByteOffset: threadedHeader, as: UInt8.self))
        guard byte == 0xFF else { return byte }
        return 256 + min(Int(pc.loadUnaligned(fromByteOffset: threadedHeader + 1, as: UInt16.self)), extendedOpCount)
    }

    @inline(__always) mutating func record(_ pc: UnsafeRawPointer) {
        let address = UInt(bitPattern: pc)
        published.store(address, ordering: .relaxed)
        let key = Self.key(at: pc)
        if address == lastEnd {
            pairs[last &* Self.keyCount &+ key] &+= 1
        }
        last = key
        let size = UInt(sizes[key])
        lastEnd = size == 0 ? 0 : address &+ size
    }
}

/// What a profiling run saw.
public struct OpSamples: Sendable {
    /// Samples taken while bytecode ran, by the address of the op running.
    public var samples: [UInt: Int] = [:]
    /// Samples taken while no bytecode ran (host functions, instantiation).
    public var outside = 0
    /// Executions of each pair of ops adjacent in the code, by their names.
    public var pairs: [(first: String, second: String, count: UInt64)] = []
    /// The sampling interval and the profile's length, in seconds.
    public var interval: Double = 0
    public var duration: Double = 0
}

/// Samples a VM's pc from another thread while code runs. `start()`, run code, `stop()`.
public final class OpSampler: @unchecked Sendable {  // shared with its sampling thread through atomics and a semaphore
    let vm: VM
    /// The sampling interval in seconds.
    public let interval: Double
    private let state: UnsafeMutablePointer<ProfileState>
    private let sizes: UnsafeMutablePointer<UInt8>
    private let running = ManagedAtomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var collected: [UInt: Int] = [:]
    private var outside = 0
    private var started = ContinuousClock.now

    /// A profiler for `vm`, sampling every `interval` seconds (100 µs by default).
    public init(vm: VM, interval: Double = 0.000_1) {
        self.vm = vm
        self.interval = interval
        let keys = ProfileState.keyCount
        sizes = .allocate(capacity: keys)
        sizes.initialize(repeating: 0, count: keys)
        func imageSize(_ size: Int?) -> UInt8 { size.map { UInt8(threadedHeader + $0) } ?? 0 }
        for op in Opcode.allCases { sizes[Int(op.rawValue)] = imageSize(op.info.size) }
        for op in ExtendedOpcode.allCases { sizes[256 + Int(op.rawValue)] = imageSize(op.info.size) }
        let pairs = UnsafeMutablePointer<UInt64>.allocate(capacity: keys * keys)
        pairs.initialize(repeating: 0, count: keys * keys)
        state = .allocate(capacity: 1)
        state.initialize(to: ProfileState(published: .create(0), last: keys - 1, lastEnd: 0, pairs: pairs,
                                          sizes: UnsafePointer(sizes)))
    }

    deinit {
        if running.load(ordering: .relaxed) { _ = stop() }
        state.pointee.published.destroy()
        state.pointee.pairs.deallocate()
        state.deallocate()
        sizes.deallocate()
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    /// Starts recording ops and sampling.
    public func start() {
        precondition(!running.load(ordering: .relaxed), "the profiler is already running")
        vm.installProfile(state)
        running.store(true, ordering: .relaxed)
        started = ContinuousClock.now
        let published = state.pointee.published
        let interval = self.interval
        let pause = timespec(tv_sec: Int(interval), tv_nsec: Int((interval - interval.rounded(.down)) * 1e9))
        // A thread of Dispatch's pool (no Foundation: the command line starts faster
        // without it), blocked in its sampling loop until `stop()`.
        DispatchQueue.global(qos: .userInteractive).async { [unowned self] in
            var samples: [UInt: Int] = [:]
            var outside = 0
            while self.running.load(ordering: .relaxed) {
                var request = pause, remaining = timespec()
                while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
                let pc = published.load(ordering: .relaxed)
                if pc == 0 { outside += 1 } else { samples[pc, default: 0] += 1 }
            }
            self.collected = samples
            self.outside = outside
            self.finished.signal()
        }
    }

    /// Stops sampling and returns what was seen.
    public func stop() -> OpSamples {
        precondition(running.load(ordering: .relaxed), "the profiler is not running")
        running.store(false, ordering: .relaxed)
        finished.wait()
        vm.removeProfile()
        var result = OpSamples(samples: collected, outside: outside, interval: interval,
                                    duration: Self.seconds(ContinuousClock.now - started))
        let keys = ProfileState.keyCount
        func name(_ key: Int) -> String? {
            key < 256 ? Opcode(rawValue: UInt8(key))?.info.name : ExtendedOpcode(rawValue: UInt16(key - 256))?.info.name
        }
        for first in 0..<keys {
            for second in 0..<keys {
                let count = state.pointee.pairs[first * keys + second]
                guard count > 0, let a = name(first), let b = name(second) else { continue }
                result.pairs.append((a, b, count))
            }
        }
        result.pairs.sort { $0.count > $1.count || ($0.count == $1.count && ($0.first, $0.second) < ($1.first, $1.second)) }
        return result
    }
}
