#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A WebAssembly linear memory: a zero-initialized byte array that grows in 64 KiB pages.
///
/// The memory reserves address space for its maximum when it is made (up to
/// `reservationLimit`) and makes pages accessible as it grows: growing is one
/// `mprotect`, the base never moves, and a page costs nothing until touched
/// (the kernel maps it zeroed on first use; the mapping asks for no swap
/// reservation). Where the reservation is refused (an address-space limit),
/// the memory reserves what it needs and moves when it outgrows it.
///
/// Allocation failures are reported, never fatal: `init` fails and `grow`
/// returns nil, so a huge `memory.grow` yields -1 to the program.
public final class LinearMemory {
    /// Bytes in a Wasm page.
    public static let pageSize = 65536
    /// The most address space one memory reserves ahead of its growth.
    static let reservationLimit = 1 << 34

    /// The first byte. Valid for `byteCount` bytes (and never null, even when empty).
    public private(set) var base: UnsafeMutableRawPointer
    /// The current size in bytes, a multiple of `pageSize`.
    public private(set) var byteCount: Int
    /// The largest size in pages `grow` may reach.
    public let maximumPages: Int
    /// Whether addresses are 64-bit (memory64): `memory.grow`'s failure is then a
    /// 64-bit -1, and its size and addresses are i64 to the program.
    public let is64: Bool
    /// Bytes of address space mapped at `base`; the first `byteCount` are accessible.
    private var reserved: Int
    /// Asked before the memory grows, with its size in bytes now, the size
    /// wanted and the maximum: false refuses, as if memory were short (a
    /// store's resource limiter). Nil: growth is bounded by the maximum alone.
    public var growthCheck: ((_ current: Int, _ desired: Int, _ maximum: Int) -> Bool)?

    /// A memory of `pages` pages that may grow to `maximumPages`, with 32-bit
    /// addresses or 64-bit ones (`is64`); nil if the size exceeds the maximum or
    /// cannot be allocated.
    public init?(pages: Int, maximumPages: Int = 65536, is64: Bool = false) {
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: Self.pageSize)
        guard pages >= 0, pages <= maximumPages, !overflow else { return nil }
        let (maximumBytes, maximumOverflow) = maximumPages.multipliedReportingOverflow(by: Self.pageSize)
        let wanted = maximumOverflow ? Self.reservationLimit : min(maximumBytes, Self.reservationLimit)
        guard let (base, reserved) = Self.reserve(max(wanted, bytes)) ?? Self.reserve(bytes),
              Self.commit(base, from: 0, to: bytes) else { return nil }
        self.base = base
        self.reserved = reserved
        self.byteCount = bytes
        self.maximumPages = maximumPages
        self.is64 = is64
    }

    deinit { munmap(base, reserved) }

    /// The current size in pages.
    public var pages: Int { byteCount / Self.pageSize }

    /// Grows by `delta` pages, zero-filled. Returns the old size in pages,
    /// or nil (leaving the memory unchanged) past the maximum or when memory is short.
    public func grow(by delta: Int) -> Int? {
        let old = pages
        guard delta >= 0, delta <= maximumPages - old else { return nil }
        if delta == 0 { return old }
        let (newBytes, overflow) = (old + delta).multipliedReportingOverflow(by: Self.pageSize)
        guard !overflow else { return nil }
        if let growthCheck, !growthCheck(byteCount, newBytes, maximumPages.multipliedReportingOverflow(by: Self.pageSize).overflow ? .max : maximumPages * Self.pageSize) { return nil }
        if newBytes <= reserved {
            // Pages past `byteCount` were never accessible, so never written: still zero.
            guard Self.commit(base, from: byteCount, to: newBytes) else { return nil }
        } else {
            // Outgrew a reservation smaller than the maximum: move to a larger one.
            guard let (moved, movedReserved) = Self.reserve(newBytes),
                  Self.commit(moved, from: 0, to: newBytes) else { return nil }
            moved.copyMemory(from: base, byteCount: byteCount)
            munmap(base, reserved)
            base = moved
            reserved = movedReserved
        }
        byteCount = newBytes
        return old
    }

    /// Reserves `bytes` of address space (at least one page), inaccessible; nil when refused.
    private static func reserve(_ bytes: Int) -> (UnsafeMutableRawPointer, Int)? {
        let length = max(bytes, pageSize)
        guard let mapped = mmap(nil, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              mapped != MAP_FAILED else { return nil }
        return (mapped, length)
    }

    /// Makes bytes `from..<to` of a reservation readable and writable.
    private static func commit(_ base: UnsafeMutableRawPointer, from: Int, to: Int) -> Bool {
        to <= from || mprotect(base + from, to - from, PROT_READ | PROT_WRITE) == 0
    }
}

/// A table of references (8 bytes each, 0 is null), as `call_indirect`,
/// `table.get` and the other table ops see it.
public final class FunctionTable {
    /// The most entries a table may have (80 MB of entries): a larger minimum
    /// is refused at instantiation and `table.grow` past it returns -1, as the
    /// spec allows (growth may fail for want of resources) and as Wasmtime
    /// does under a `StoreLimits` of `table_elements` this size.
    public static let elementLimit = 10_000_000

    /// The entries; valid for `count` elements.
    public private(set) var entries: UnsafeMutablePointer<UInt64>
    /// How many entries the table has.
    public private(set) var count: Int
    /// The largest size `grow` may reach.
    public let maximum: Int
    /// Whether indices are 64-bit (table64): `table.grow`'s failure is then a 64-bit -1.
    public let is64: Bool
    /// Asked before the table grows, with its entries now, the count wanted
    /// and the maximum: false refuses (a store's resource limiter). Nil:
    /// growth is bounded by the maximum and `elementLimit` alone.
    public var growthCheck: ((_ current: Int, _ desired: Int, _ maximum: Int) -> Bool)?

    /// A table of `count` entries, each `initial`, that may grow to `maximum`.
    public init(count: Int, maximum: Int = Int(UInt32.max), initial: UInt64 = 0, is64: Bool = false) {
        self.is64 = is64
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

    /// Sets every entry to `value` (a table initializer's, at instantiation).
    public func fill(_ value: UInt64) {
        // `entries` holds max(count, 1) entries.
        entries.update(repeating: value, count: count)
    }

    /// Grows by `delta` entries set to `value`. Returns the old size, or nil past the maximum.
    public func grow(by delta: Int, value: UInt64) -> Int? {
        let old = count
        guard delta >= 0, delta <= maximum - old, old + delta <= Self.elementLimit else { return nil }
        if delta == 0 { return old }
        if let growthCheck, !growthCheck(old, old + delta, maximum) { return nil }
        let grown = UnsafeMutablePointer<UInt64>.allocate(capacity: old + delta)
        grown.moveInitialize(from: entries, count: old)
        (grown + old).initialize(repeating: value, count: delta)
        entries.deallocate()
        entries = grown
        count = old + delta
        return old
    }
}
