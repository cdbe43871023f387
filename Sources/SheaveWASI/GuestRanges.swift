import Sheave

/// A range of its caller's memory that a WASI preview1 function reads or
/// writes, as its arguments name it (argument indices). The bridge checks every
/// range of a call before WasmKit's implementation runs, so that a range outside
/// memory is `EFAULT` with nothing done: no byte written to a file, no input
/// consumed, no file opened (Wasmtime answers `EFAULT` the same way).
enum GuestRange {
    /// `count` bytes at `pointer` (a path, a name, a buffer).
    case bytes(pointer: Int, count: Int)
    /// One value of `size` bytes at `pointer` (a result the call writes).
    case value(pointer: Int, size: UInt64)
    /// `count` elements of `size` bytes at `pointer`.
    case array(pointer: Int, count: Int, size: UInt64)
    /// `count` iovecs (8 bytes each) at `pointer`, and the buffer each names.
    /// The bridge passes only a prefix of them (`Bridge.ioVectorsPerCall`,
    /// at most 4 GiB - 1 bytes in all): a short read or write, as POSIX allows,
    /// so that no count wraps and no call does unbounded work.
    case ioVectors(pointer: Int, count: Int)
    /// The arguments (`args_get`) or the environment (`environ_get`): a pointer
    /// per string at `pointers`, the strings, each ending in 0, at `buffer`.
    case strings(pointers: Int, buffer: Int, StringList)

    enum StringList { case arguments, environment }

    /// Sizes of the preview1 types the functions write.
    static let size = 4, fd = 4, timestamp: UInt64 = 8, fileSize: UInt64 = 8, fdstat: UInt64 = 24,
               filestat: UInt64 = 64, prestat: UInt64 = 8, subscription: UInt64 = 48, event: UInt64 = 32

    /// Every `wasi_snapshot_preview1` function and the ranges it touches
    /// (from the preview1 witx). A function missing here is refused by the
    /// bridge (`WASIHost.imports()`), never called unchecked.
    static let preview1: [String: [GuestRange]] = [
        "args_get": [.strings(pointers: 0, buffer: 1, .arguments)],
        "args_sizes_get": [.value(pointer: 0, size: 4), .value(pointer: 1, size: 4)],
        "environ_get": [.strings(pointers: 0, buffer: 1, .environment)],
        "environ_sizes_get": [.value(pointer: 0, size: 4), .value(pointer: 1, size: 4)],
        "clock_res_get": [.value(pointer: 1, size: timestamp)],
        "clock_time_get": [.value(pointer: 2, size: timestamp)],
        "fd_advise": [],
        "fd_allocate": [],
        "fd_close": [],
        "fd_datasync": [],
        "fd_fdstat_get": [.value(pointer: 1, size: fdstat)],
        "fd_fdstat_set_flags": [],
        "fd_fdstat_set_rights": [],
        "fd_filestat_get": [.value(pointer: 1, size: filestat)],
        "fd_filestat_set_size": [],
        "fd_filestat_set_times": [],
        "fd_pread": [.ioVectors(pointer: 1, count: 2), .value(pointer: 4, size: 4)],
        "fd_prestat_dir_name": [.bytes(pointer: 1, count: 2)],
        "fd_prestat_get": [.value(pointer: 1, size: prestat)],
        "fd_pwrite": [.ioVectors(pointer: 1, count: 2), .value(pointer: 4, size: 4)],
        "fd_read": [.ioVectors(pointer: 1, count: 2), .value(pointer: 3, size: 4)],
        "fd_readdir": [.bytes(pointer: 1, count: 2), .value(pointer: 4, size: 4)],
        "fd_renumber": [],
        "fd_seek": [.value(pointer: 3, size: fileSize)],
        "fd_sync": [],
        "fd_tell": [.value(pointer: 1, size: fileSize)],
        "fd_write": [.ioVectors(pointer: 1, count: 2), .value(pointer: 3, size: 4)],
        "path_create_directory": [.bytes(pointer: 1, count: 2)],
        "path_filestat_get": [.bytes(pointer: 2, count: 3), .value(pointer: 4, size: filestat)],
        "path_filestat_set_times": [.bytes(pointer: 2, count: 3)],
        "path_link": [.bytes(pointer: 2, count: 3), .bytes(pointer: 5, count: 6)],
        "path_open": [.bytes(pointer: 2, count: 3), .value(pointer: 8, size: 4)],
        "path_readlink": [.bytes(pointer: 1, count: 2), .bytes(pointer: 3, count: 4), .value(pointer: 5, size: 4)],
        "path_remove_directory": [.bytes(pointer: 1, count: 2)],
        "path_rename": [.bytes(pointer: 1, count: 2), .bytes(pointer: 4, count: 5)],
        "path_symlink": [.bytes(pointer: 0, count: 1), .bytes(pointer: 3, count: 4)],
        "path_unlink_file": [.bytes(pointer: 1, count: 2)],
        "poll_oneoff": [.array(pointer: 0, count: 2, size: subscription), .array(pointer: 1, count: 2, size: event),
                        .value(pointer: 3, size: 4)],
        "proc_exit": [],
        "proc_raise": [],
        "random_get": [.bytes(pointer: 0, count: 1)],
        "sched_yield": [],
        "sock_accept": [.value(pointer: 2, size: 4)],
        "sock_recv": [.ioVectors(pointer: 1, count: 2), .value(pointer: 4, size: 4), .value(pointer: 5, size: 2)],
        "sock_send": [.ioVectors(pointer: 1, count: 2), .value(pointer: 4, size: 4)],
        "sock_shutdown": [],
    ]
}

/// Checks a call's ranges against its caller's memory before the call.
struct RangeCheck {
    /// The most iovecs one read or write passes on (Linux's `IOV_MAX`).
    static let ioVectorsPerCall = 1024

    /// The memory's bytes (empty when the caller has none).
    let memory: UnsafeRawBufferPointer
    /// The byte counts of the strings `args_get` and `environ_get` write, each with its 0.
    let arguments: [Int], environment: [Int]

    /// Whether `count` bytes at `offset` lie inside memory (no sum can wrap: both are below 2^33).
    func inBounds(_ offset: UInt64, _ count: UInt64) -> Bool {
        offset <= UInt64(memory.count) && count <= UInt64(memory.count) - offset
    }

    /// Checks `ranges` for a call with `arguments`. Returns false when one
    /// lies outside memory. Narrows an iovec count to the prefix the call may
    /// pass on (the call's arguments are changed in place).
    func check(_ ranges: [GuestRange], _ args: inout [Value]) -> Bool {
        func u64(_ index: Int) -> UInt64 {
            switch args[index] {
            case .i32(let v): return UInt64(v)
            case .i64(let v): return v
            default: return .max
            }
        }
        for range in ranges {
            switch range {
            case .bytes(let pointer, let count):
                guard inBounds(u64(pointer), u64(count)) else { return false }
            case .value(let pointer, let size):
                guard inBounds(u64(pointer), size) else { return false }
            case .array(let pointer, let count, let size):
                let (bytes, overflow) = u64(count).multipliedReportingOverflow(by: size)
                guard !overflow, inBounds(u64(pointer), bytes) else { return false }
            case .strings(let pointers, let buffer, let list):
                let sizes = list == .arguments ? arguments : environment
                guard inBounds(u64(pointers), UInt64(sizes.count) * 4),
                      inBounds(u64(buffer), UInt64(sizes.reduce(0, +))) else { return false }
            case .ioVectors(let pointer, let countIndex):
                let base = u64(pointer), count = u64(countIndex)
                // The whole array is the guest's claim: it must lie in memory (which also
                // bounds the count), even though only a prefix is passed on.
                guard count <= UInt64(UInt32.max), inBounds(base, count * 8) else { return false }
                var passed: UInt64 = 0, total: UInt64 = 0
                while passed < min(count, UInt64(Self.ioVectorsPerCall)) {
                    // In bounds: the array was checked above.
                    let entry = Int(base + passed * 8)
                    let buffer = UInt64(memory.loadUnaligned(fromByteOffset: entry, as: UInt32.self).littleEndian)
                    let length = UInt64(memory.loadUnaligned(fromByteOffset: entry + 4, as: UInt32.self).littleEndian)
                    guard inBounds(buffer, length) else { return false }
                    // The first vector always goes (one is below 4 GiB); later ones only while
                    // the total fits the 32-bit count the call returns.
                    if passed > 0 && total + length > UInt64(UInt32.max) { break }
                    total += length
                    passed += 1
                }
                args[countIndex] = .i32(UInt32(passed))
            }
        }
        return true
    }
}
