import CSheaveSystem
import Sheave
@_spi(WASIPlatform) import WASI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The part of WASI preview1's file system that WasmKit's WASI lacks, done by
/// Sheave: hard links (`path_link`), the timestamps of a symbolic link itself
/// (`path_filestat_set_times` without `SYMLINK_FOLLOW`), the `SYNC`, `DSYNC`
/// and `RSYNC` flags a file was opened with (reported by `fd_fdstat_get` and
/// honoured by a sync after each write), and `fd_allocate` on a directory
/// (`EBADF`, as Wasmtime answers).
///
/// WasmKit keeps its host descriptors to itself, so Sheave keeps one of its
/// own (`O_PATH`) for each guest directory descriptor: the preopens, and each
/// directory a successful `path_open` opened, opened again beneath the
/// directory it was opened from. Every path is resolved by the kernel beneath
/// such a descriptor (`sheave_open_beneath`: an absolute path, a ".." above it
/// or a symbolic link out of it is refused), so nothing here reaches outside
/// the preopened trees. `fd_close` and `fd_renumber` keep the table in step.
/// Where the system cannot resolve beneath a directory (no `openat2`), these
/// calls answer `ENOTSUP`, as WasmKit's do.
final class HostDirectories: @unchecked Sendable {
    /// Guest directory descriptor → Sheave's host descriptor of the same directory.
    private var directories: [UInt32: Int32] = [:]
    /// Guest file descriptor → the sync flags it was opened with.
    private var syncFlags: [UInt32: WASIAbi.Fdflags] = [:]
    /// Guards both tables: a `WASIHost` may serve stores on several threads.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    static let syncKinds: WASIAbi.Fdflags = [.SYNC, .DSYNC, .RSYNC]
    /// `lookupflags`' one flag.
    static let symlinkFollow: UInt32 = 1

    /// The preopened directories, in order: WasmKit gives them guest
    /// descriptors 3, 4, … (after standard input, output and error).
    init(preopens: [String]) {
        pthread_mutex_init(mutex, nil)
        for (index, path) in preopens.enumerated() {
            let fd = open(path, Self.pathOnly | O_DIRECTORY | O_CLOEXEC)
            if fd >= 0 { directories[UInt32(3 + index)] = fd }
        }
    }

    deinit {
        for fd in directories.values { _ = close(fd) }
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    // MARK: Calls Sheave performs itself

    /// The errno of a call Sheave performs instead of WasmKit; nil for a call
    /// it leaves to WasmKit. `memory` is the caller's, every range in it checked.
    func perform(_ name: String, _ arguments: [Sheave.Value], memory: UnsafeRawBufferPointer) -> WASIAbi.Errno? {
        switch name {
        case "path_link":
            guard case .i32(let oldFd) = arguments[0], case .i32(let oldFlags) = arguments[1],
                  case .i32(let newFd) = arguments[4] else { return nil }
            // Hard links never follow a symbolic link (Wasmtime refuses the flag too).
            if oldFlags & Self.symlinkFollow != 0 { return .EINVAL }
            let oldPath: [CChar], newPath: [CChar]
            switch (Self.path(arguments, 2, in: memory), Self.path(arguments, 5, in: memory)) {
            case (.success(let old), .success(let new)): (oldPath, newPath) = (old, new)
            case (.failure(let errno), _), (_, .failure(let errno)): return errno
            }
            return withParent(of: oldPath, in: oldFd) { oldParent, oldBase in
                withParent(of: newPath, in: newFd) { newParent, newBase in
                    // Neither name is followed: a link to a symbolic link links the link itself.
                    linkat(oldParent, oldBase, newParent, newBase, 0) == 0 ? .SUCCESS : Self.wasiErrno(errno)
                }
            }
        case "path_filestat_set_times":
            guard case .i32(let fd) = arguments[0], case .i32(let flags) = arguments[1],
                  case .i64(let atim) = arguments[4], case .i64(let mtim) = arguments[5],
                  case .i32(let fstFlags) = arguments[6] else { return nil }
            // Following a symbolic link (and a trailing "/", which follows one) stays WasmKit's.
            if flags & Self.symlinkFollow != 0 { return nil }
            guard case .success(let path) = Self.path(arguments, 2, in: memory) else { return nil }
            if path.last == CChar(UInt8(ascii: "/")) { return nil }
            guard let times = Self.timespecs(atim: atim, mtim: mtim, WASIAbi.FstFlags(rawValue: UInt16(truncatingIfNeeded: fstFlags))) else { return .EINVAL }
            return withParent(of: path, in: fd) { parent, base in
                // "." and ".." name directories, never links; ".." of a preopen is outside it.
                if base == "." || base == ".." { return nil }
                return times.withUnsafeBufferPointer {
                    utimensat(parent, base, $0.baseAddress, AT_SYMLINK_NOFOLLOW) == 0 ? .SUCCESS : Self.wasiErrno(errno)
                }
            }
        case "fd_allocate":
            guard case .i32(let fd) = arguments[0] else { return nil }
            return locked { directories[fd] } != nil ? .EBADF : nil
        default:
            return nil
        }
    }

    /// Calls `body` with Sheave's descriptor of the directory that holds the
    /// last component of `path` (resolved beneath the guest directory `fd`)
    /// and that component, trailing "/" kept. `EBADF` when `fd` is not a guest
    /// directory Sheave knows; the kernel's refusal, as a WASI errno, when the
    /// directory cannot be reached beneath it.
    private func withParent(of path: [CChar], in fd: UInt32, _ body: (Int32, String) -> WASIAbi.Errno?) -> WASIAbi.Errno? {
        guard let directory = locked({ directories[fd] }) else { return .EBADF }
        let bytes = path.dropLast().map { UInt8(bitPattern: $0) }  // without the 0
        guard !bytes.isEmpty else { return .ENOENT }
        var end = bytes.count
        while end > 1, bytes[end - 1] == UInt8(ascii: "/") { end -= 1 }
        let slash = bytes[..<end].lastIndex(of: UInt8(ascii: "/"))
        let parentBytes = slash.map { $0 == 0 ? [UInt8(ascii: "/")] : Array(bytes[..<$0]) } ?? [UInt8(ascii: ".")]
        let base = String(decoding: bytes[(slash.map { $0 + 1 } ?? 0)...], as: UTF8.self)
        let parent = sheave_open_beneath(directory, String(decoding: parentBytes, as: UTF8.self), Self.pathOnly | O_DIRECTORY)
        guard parent >= 0 else { return Self.wasiErrno(errno) }
        defer { _ = close(parent) }
        return body(parent, base)
    }

    /// The path at arguments `index` (pointer) and `index + 1` (length), with a
    /// 0 after it; `EILSEQ` when it is not UTF-8, `EINVAL` when it holds a 0.
    private static func path(_ arguments: [Sheave.Value], _ index: Int, in memory: UnsafeRawBufferPointer) -> Result<[CChar], WASIAbi.Errno> {
        guard case .i32(let start) = arguments[index], case .i32(let count) = arguments[index + 1],
              UInt64(start) + UInt64(count) <= UInt64(memory.count) else { return .failure(.EFAULT) }
        let bytes = memory[Int(start)..<Int(start) + Int(count)]
        guard String(validating: bytes, as: UTF8.self) != nil else { return .failure(.EILSEQ) }
        guard !bytes.contains(0) else { return .failure(.EINVAL) }
        return .success(bytes.map { CChar(bitPattern: $0) } + [0])
    }

    /// `utimensat`'s two times for WASI's timestamps and flags; nil when a
    /// time is both given and "now" (`EINVAL`).
    private static func timespecs(atim: UInt64, mtim: UInt64, _ flags: WASIAbi.FstFlags) -> [timespec]? {
        func time(_ value: UInt64, set: WASIAbi.FstFlags, now: WASIAbi.FstFlags) -> timespec? {
            switch (flags.contains(set), flags.contains(now)) {
            case (true, true): return nil
            case (true, false): return timespec(tv_sec: time_t(value / 1_000_000_000), tv_nsec: Int(value % 1_000_000_000))
            case (false, true): return timespec(tv_sec: 0, tv_nsec: Int(utimeNow))
            case (false, false): return timespec(tv_sec: 0, tv_nsec: Int(utimeOmit))
            }
        }
        guard let access = time(atim, set: .ATIM, now: .ATIM_NOW), let modification = time(mtim, set: .MTIM, now: .MTIM_NOW) else { return nil }
        return [access, modification]
    }

    /// A descriptor that names a directory without opening it for reading (O_PATH).
    static let pathOnly = sheave_o_path

    #if canImport(Darwin)
    static let utimeNow = -1, utimeOmit = -2
    #else
    // Glibc's UTIME_NOW and UTIME_OMIT are macros Swift does not import.
    static let utimeNow = (1 << 30) - 1, utimeOmit = (1 << 30) - 2
    #endif

    // MARK: Keeping the table in step with WasmKit's

    /// Records what a call WasmKit performed successfully changed: a directory
    /// or a file with sync flags opened, a descriptor closed or renumbered;
    /// adds the sync flags to what `fd_fdstat_get` wrote.
    func observe(_ name: String, _ arguments: [Sheave.Value], memory: UnsafeMutableRawBufferPointer) {
        switch name {
        case "path_open":
            guard case .i32(let dirFd) = arguments[0], case .i32(let lookup) = arguments[1],
                  case .i32(let fdflags) = arguments[7], case .i32(let result) = arguments[8],
                  Int(result) + 4 <= memory.count else { return }
            let newFd = memory.loadUnaligned(fromByteOffset: Int(result), as: UInt32.self).littleEndian
            forget(newFd)
            let sync = WASIAbi.Fdflags(rawValue: UInt16(truncatingIfNeeded: fdflags)).intersection(Self.syncKinds)
            if !sync.isEmpty { locked { syncFlags[newFd] = sync } }
            guard let directory = locked({ directories[dirFd] }),
                  case .success(let path) = Self.path(arguments, 2, in: UnsafeRawBufferPointer(memory)) else { return }
            let follow = lookup & Self.symlinkFollow != 0
            let fd = path.withUnsafeBufferPointer {
                sheave_open_beneath(directory, $0.baseAddress!, Self.pathOnly | O_DIRECTORY | (follow ? 0 : O_NOFOLLOW))
            }
            if fd >= 0 { locked { directories[newFd] = fd } }
        case "fd_close":
            if case .i32(let fd) = arguments[0] { forget(fd) }
        case "fd_renumber":
            guard case .i32(let from) = arguments[0], case .i32(let to) = arguments[1], from != to else { return }
            forget(to)
            locked {
                directories[to] = directories.removeValue(forKey: from)
                syncFlags[to] = syncFlags.removeValue(forKey: from)
            }
        case "fd_fdstat_get":
            guard case .i32(let fd) = arguments[0], case .i32(let result) = arguments[1],
                  Int(result) + 4 <= memory.count, let sync = locked({ syncFlags[fd] }) else { return }
            // fdstat: filetype (u8), then fs_flags (u16) at offset 2.
            let flags = memory.loadUnaligned(fromByteOffset: Int(result) + 2, as: UInt16.self).littleEndian
            memory.storeBytes(of: (flags | sync.rawValue).littleEndian, toByteOffset: Int(result) + 2, as: UInt16.self)
        default:
            break
        }
    }

    /// The sync flags the guest file `fd` was opened with.
    func syncFlags(of fd: UInt32) -> WASIAbi.Fdflags { locked { syncFlags[fd] ?? [] } }

    private func forget(_ fd: UInt32) {
        let closing = locked { () -> Int32? in
            syncFlags[fd] = nil
            return directories.removeValue(forKey: fd)
        }
        if let closing { _ = close(closing) }
    }

    /// The WASI errno for the host's `code`.
    static func wasiErrno(_ code: Int32) -> WASIAbi.Errno {
        switch code {
        case EACCES: return .EACCES
        case EPERM: return .EPERM
        case ENOENT: return .ENOENT
        case EEXIST: return .EEXIST
        case ENOTDIR: return .ENOTDIR
        case EISDIR: return .EISDIR
        case ELOOP: return .ELOOP
        case ENAMETOOLONG: return .ENAMETOOLONG
        case EINVAL: return .EINVAL
        case EMLINK: return .EMLINK
        case ENOSPC: return .ENOSPC
        case EDQUOT: return .EDQUOT
        case EROFS: return .EROFS
        case EBADF: return .EBADF
        case EIO: return .EIO
        case ENOMEM: return .ENOMEM
        case EBUSY: return .EBUSY
        case ENOTEMPTY: return .ENOTEMPTY
        case ENOSYS: return .ENOTSUP
        // Resolution left the directory: the sandbox's refusal.
        case EXDEV: return .ENOTCAPABLE
        default: return .EIO
        }
    }
}
