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
/// or a symbolic link out of it is refused with `EPERM`), so nothing here
/// reaches outside the preopened trees. `fd_close` and `fd_renumber` keep the
/// table in step. Where the system cannot resolve beneath a directory (no
/// `openat2`), hard links and a symlink's own times answer `ENOTSUP`, or
/// `EBADF` for a directory the guest opened itself (Sheave has none of its own).
final class HostDirectories: @unchecked Sendable {
    /// A host descriptor of Sheave's, closed when the last user lets go: a call
    /// holds its own reference, so a concurrent `fd_close` of the guest
    /// descriptor cannot close it (and let the number be reused) under it.
    final class Descriptor {
        let fd: Int32
        init?(_ fd: Int32) {
            guard fd >= 0 else { return nil }
            self.fd = fd
        }
        deinit { _ = close(fd) }
    }

    /// Guest directory descriptor → Sheave's host descriptor of the same directory.
    private var directories: [UInt32: Descriptor] = [:]
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
            directories[UInt32(3 + index)] = Descriptor(open(path, Self.pathOnly | O_DIRECTORY | O_CLOEXEC))
        }
    }

    deinit {
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
    /// it leaves to WasmKit. `memory` is the caller's, every range in it
    /// checked; `identity` is WasmKit's (device, inode) of a guest descriptor,
    /// nil when it has none by that number.
    func perform(_ name: String, _ arguments: [Sheave.Value], memory: UnsafeRawBufferPointer,
                 identity: (UInt32) -> (UInt64, UInt64)?) -> WASIAbi.Errno? {
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
            for fd in [oldFd, newFd] where directory(fd) == nil {
                // Not a directory Sheave knows: a file or stdio (WasmKit's answer: ENOTDIR), or nothing.
                return identity(fd) == nil ? .EBADF : .ENOTDIR
            }
            return withParent(of: oldPath, in: oldFd) { oldParent, oldBase in
                if oldBase.hasSuffix("/") || oldBase == "." || oldBase == ".." {
                    // Such a name is followed (a trailing "/" follows a symlink), which
                    // linkat would do outside the sandbox. What it names beneath the
                    // preopen can only be a directory, never hard-linked.
                    guard Descriptor(sheave_open_beneath(oldParent, oldBase, Self.pathOnly)) != nil else { return Self.resolutionErrno(errno) }
                    return .EPERM  // (the descriptor opened to find out is closed already)
                }
                return withParent(of: newPath, in: newFd) { newParent, newBase in
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
            // A descriptor that is not a directory Sheave knows: WasmKit answers.
            guard directory(fd) != nil else { return nil }
            return withParent(of: path, in: fd) { parent, base in
                // "." and ".." name directories, never links; ".." of a preopen is outside it.
                if base == "." || base == ".." { return nil }
                return times.withUnsafeBufferPointer {
                    utimensat(parent, base, $0.baseAddress, AT_SYMLINK_NOFOLLOW) == 0 ? .SUCCESS : Self.wasiErrno(errno)
                }
            }
        case "fd_allocate":
            guard case .i32(let fd) = arguments[0] else { return nil }
            return directory(fd) != nil ? .EBADF : nil
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
        guard let directory = directory(fd) else { return .EBADF }
        let bytes = path.dropLast().map { UInt8(bitPattern: $0) }  // without the 0
        guard !bytes.isEmpty else { return .ENOENT }
        var end = bytes.count
        while end > 1, bytes[end - 1] == UInt8(ascii: "/") { end -= 1 }
        let slash = bytes[..<end].lastIndex(of: UInt8(ascii: "/"))
        let parentBytes = slash.map { $0 == 0 ? [UInt8(ascii: "/")] : Array(bytes[..<$0]) } ?? [UInt8(ascii: ".")]
        let base = String(decoding: bytes[(slash.map { $0 + 1 } ?? 0)...], as: UTF8.self)
        guard let parent = Descriptor(sheave_open_beneath(directory.fd, String(decoding: parentBytes, as: UTF8.self), Self.pathOnly | O_DIRECTORY)) else {
            return Self.resolutionErrno(errno)
        }
        return body(parent.fd, base)
    }

    /// Sheave's descriptor of the guest directory `fd`, held for the caller.
    private func directory(_ fd: UInt32) -> Descriptor? { locked { directories[fd] } }

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
    /// `identity` is WasmKit's (device, inode) of a guest descriptor: a
    /// directory is recorded only when Sheave's opening of it is the same.
    func observe(_ name: String, _ arguments: [Sheave.Value], memory: UnsafeMutableRawBufferPointer,
                 identity: (UInt32) -> (UInt64, UInt64)?) {
        switch name {
        case "path_open":
            guard case .i32(let dirFd) = arguments[0], case .i32(let lookup) = arguments[1],
                  case .i32(let fdflags) = arguments[7], case .i32(let result) = arguments[8],
                  Int(result) + 4 <= memory.count else { return }
            let newFd = memory.loadUnaligned(fromByteOffset: Int(result), as: UInt32.self).littleEndian
            let sync = WASIAbi.Fdflags(rawValue: UInt16(truncatingIfNeeded: fdflags)).intersection(Self.syncKinds)
            var opened: Descriptor?
            if let directory = directory(dirFd), case .success(let path) = Self.path(arguments, 2, in: UnsafeRawBufferPointer(memory)) {
                let follow = lookup & Self.symlinkFollow != 0
                opened = path.withUnsafeBufferPointer {
                    Descriptor(sheave_open_beneath(directory.fd, $0.baseAddress!, Self.pathOnly | O_DIRECTORY | (follow ? 0 : O_NOFOLLOW)))
                }
                // The path may have changed between WasmKit's opening and Sheave's (a rename,
                // a write to shared memory): keep Sheave's only if it is the same directory.
                var status = stat()
                if let candidate = opened, fstat(candidate.fd, &status) != 0
                    || identity(newFd).map({ $0 != (UInt64(status.st_dev), UInt64(status.st_ino)) }) ?? true {
                    opened = nil
                }
            }
            // One step: a descriptor displaced by this one (a stale entry) closes after it.
            let displaced = locked { () -> Descriptor? in
                syncFlags[newFd] = sync.isEmpty ? nil : sync
                defer { directories[newFd] = opened }
                return directories[newFd]
            }
            _ = displaced
        case "fd_close":
            if case .i32(let fd) = arguments[0] {
                let closing = locked { () -> Descriptor? in
                    syncFlags[fd] = nil
                    return directories.removeValue(forKey: fd)
                }
                _ = closing
            }
        case "fd_renumber":
            guard case .i32(let from) = arguments[0], case .i32(let to) = arguments[1], from != to else { return }
            let displaced = locked { () -> Descriptor? in
                syncFlags[to] = syncFlags.removeValue(forKey: from)
                defer { directories[to] = directories.removeValue(forKey: from) }
                return directories[to]
            }
            _ = displaced
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

    /// The WASI errno for the host's `code` from resolving a path beneath a
    /// directory: leaving it (EXDEV) is "not permitted", as WasmKit's sandbox
    /// and Wasmtime's answer it.
    static func resolutionErrno(_ code: Int32) -> WASIAbi.Errno {
        code == EXDEV ? .EPERM : wasiErrno(code)
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
        case ENOSYS, EOPNOTSUPP: return .ENOTSUP
        case EXDEV: return .EXDEV
        case EMFILE: return .EMFILE
        case ENFILE: return .ENFILE
        case EAGAIN: return .EAGAIN
        case ETXTBSY: return .ETXTBSY
        case EFBIG: return .EFBIG
        default: return .EIO
        }
    }
}
