#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A WebAssembly linear memory: a zero-initialized byte array that grows in 64 KiB pages.
///
/// The memory reserves address space for its maximum size when it is made
/// (`mmap` with no access, which commits nothing) and makes its first `pages`
/// pages readable and writable; growing makes the next pages so, in place. The
/// kernel gives a page its zeros the first time it is touched, so a memory
/// costs what the program touches, not what it declares: a 4 GiB memory is
/// free until used, growing by 65,535 pages is one `mprotect`, and the base
/// never moves. Bounds checks are unchanged: every access is still checked
/// against `byteCount` (the reservation past it would fault, not corrupt).
///
/// Allocation failures are reported, never fatal: `init` fails and `grow`
/// returns nil, so a huge `memory.grow` yields -1 to the program.
public final class LinearMemory {
    /// Bytes in a Wasm page.
    public static let pageSize = 65536

    /// The first byte. Valid for `byteCount` bytes (and never null, even when empty).
    public private(set) var base: UnsafeMutableRawPointer
    /// The current size in bytes, a multiple of `pageSize`.
    public private(set) var byteCount: Int
    /// The largest size in pages `grow` may reach.
    public let maximumPages: Int
    /// The bytes of address space reserved from `base`: the maximum size (one
    /// page when that is zero). Only the first `byteCount` are accessible.
    private let reservedBytes: Int

    /// A memory of `pages` pages that may grow to `maximumPages`; nil if the
    /// size exceeds the maximum or the address space cannot be reserved.
    public init?(pages: Int, maximumPages: Int = 65536) {
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: Self.pageSize)
        let (reserve, reserveOverflow) = max(maximumPages, 1).multipliedReportingOverflow(by: Self.pageSize)
        guard pages >= 0, pages <= maximumPages, !overflow, !reserveOverflow,
              let base = Self.reserve(reserve) else { return nil }
        guard Self.commit(base, bytes) else {
            munmap(base, reserve)
            return nil
        }
        self.base = base
        self.byteCount = bytes
        self.maximumPages = maximumPages
        self.reservedBytes = reserve
    }

    deinit { munmap(base, reservedBytes) }

    /// The current size in pages.
    public var pages: Int { byteCount / Self.pageSize }

    /// Grows by `delta` pages, zero-filled. Returns the old size in pages, or nil
    /// (leaving the memory unchanged) past the maximum or when memory is short.
    public func grow(by delta: Int) -> Int? {
        let old = pages
        guard delta >= 0, delta <= maximumPages - old else { return nil }
        if delta == 0 { return old }
        // In bounds of the reservation: old + delta <= maximumPages.
        guard Self.commit(base + byteCount, delta * Self.pageSize) else { return nil }
        byteCount += delta * Self.pageSize
        return old
    }

    /// `bytes` of address space with no access: nothing committed, nothing readable.
    private static func reserve(_ bytes: Int) -> UnsafeMutableRawPointer? {
        #if canImport(Darwin)
        let flags = MAP_PRIVATE | MAP_ANON
        #else
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
        #endif
        guard let mapped = mmap(nil, bytes, PROT_NONE, flags, -1, 0), mapped != MAP_FAILED else { return nil }
        return mapped
    }

    /// Makes `bytes` from `start` (inside a reservation) readable and writable.
    /// Pages never touched before read as zero.
    private static func commit(_ start: UnsafeMutableRawPointer, _ bytes: Int) -> Bool {
        bytes == 0 || mprotect(start, bytes, PROT_READ | PROT_WRITE) == 0
    }
}

/// A table of references (8 bytes each, 0 is null), as `call_indirect`,
/// `table.get` and the other table ops see it.
public final class FunctionTable {
    /// The entries; valid for `count` elements.
    public private(set) var entries: UnsafeMutablePointer<UInt64>
    /// How many entries the table has.
    public private(set) var count: Int
    /// The largest size `grow` may reach.
    public let maximum: Int

    /// A table of `count` entries, each `initial`, that may grow to `maximum`.
    public init(count: Int, maximum: Int = Int(UInt32.max), initial: UInt64 = 0) {
        entries = .allocate(capacity: max(count, 1))
        entries.initialize(repeating: initial, count: max(count, 1))
        self.count = count
        self.maximum = maximum
    }

    deinit { entries.deallocate() }

    /// The reference at `index` (which must be in range).
    public subscript(index: Int) -> UInt64 {
        get {
            precondition(index >= 0 && index < count, "table index out of range")
            return entries[index]
        }
        set {
            precondition(index >= 0 && index < count, "table index out of range")
            entries[index] = newValue
        }
    }

    /// Grows by `delta` entries set to `value`. Returns the old size, or nil past the maximum.
    public func grow(by delta: Int, value: UInt64) -> Int? {
        let old = count
        guard delta >= 0, delta <= maximum - old, old + delta <= 10_000_000 else { return nil }
        if delta == 0 { return old }
        let grown = UnsafeMutablePointer<UInt64>.allocate(capacity: old + delta)
        grown.moveInitialize(from: entries, count: old)
        (grown + old).initialize(repeating: value, count: delta)
        entries.deallocate()
        entries = grown
        count = old + delta
        return old
    }
}
