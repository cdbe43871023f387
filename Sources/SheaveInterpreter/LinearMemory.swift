#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A WebAssembly linear memory: a zero-initialized byte array that grows in 64 KiB pages.
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

    /// A memory of `pages` pages that may grow to `maximumPages`; nil if the
    /// size exceeds the maximum or cannot be allocated.
    public init?(pages: Int, maximumPages: Int = 65536) {
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: Self.pageSize)
        guard pages >= 0, pages <= maximumPages, !overflow, let base = calloc(max(bytes, 1), 1) else { return nil }
        self.base = base
        self.byteCount = bytes
        self.maximumPages = maximumPages
    }

    deinit { free(base) }

    /// The current size in pages.
    public var pages: Int { byteCount / Self.pageSize }

    /// Grows by `delta` pages, zero-filling them. Returns the old size in pages,
    /// or nil (leaving the memory unchanged) past the maximum or when memory is short.
    public func grow(by delta: Int) -> Int? {
        let old = pages
        guard delta >= 0, delta <= maximumPages - old else { return nil }
        if delta == 0 { return old }
        let newBytes = (old + delta) * Self.pageSize
        guard let moved = realloc(base, newBytes) else { return nil }
        memset(moved + byteCount, 0, newBytes - byteCount)
        base = moved
        byteCount = newBytes
        return old
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
