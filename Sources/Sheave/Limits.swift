import SheaveInterpreter

/// Decides whether a store's memories and tables may grow: set one as
/// `Store.limiter` (Wasmtime's `ResourceLimiter`). It is asked when an
/// instance of the store defines a memory or a table (from 0 to its minimum: a
/// refusal fails the instantiation with a `LinkError`) and before each growth
/// (`memory.grow`, `table.grow`, or `grow(by:)` from the host: a refusal is
/// the failure the spec allows, -1 to the program, nil to the host). It is
/// not asked for memories and tables the host makes (`Memory(type:)`,
/// `Table(type:)`), which belong to no store.
///
///     final class Budget: ResourceLimiter {
///         var bytes = 0
///         func memoryGrowing(current: Int, desired: Int, maximum: Int?) -> Bool {
///             guard bytes + desired - current <= 64 << 20 else { return false }
///             bytes += desired - current
///             return true
///         }
///         func tableGrowing(current: Int, desired: Int, maximum: Int?) -> Bool { desired <= 10_000 }
///     }
///     store.limiter = Budget()
public protocol ResourceLimiter: AnyObject {
    /// Whether a memory may grow from `current` to `desired` bytes (its
    /// maximum is `maximum` bytes, nil when it declares none).
    func memoryGrowing(current: Int, desired: Int, maximum: Int?) -> Bool
    /// Whether a table may grow from `current` to `desired` entries (its
    /// maximum is `maximum`, nil when it declares none).
    func tableGrowing(current: Int, desired: Int, maximum: Int?) -> Bool
}

/// Fixed limits for a store (Wasmtime's `StoreLimits`): the most bytes any
/// one memory and the most entries any one table may have; nil is no limit
/// but the module's own and Sheave's.
///
///     store.limiter = StoreLimits(memorySize: 16 << 20, tableElements: 1_000)
public final class StoreLimits: ResourceLimiter {
    /// The most bytes one memory may have.
    public let memorySize: Int?
    /// The most entries one table may have.
    public let tableElements: Int?

    /// Limits of `memorySize` bytes for each memory and `tableElements`
    /// entries for each table (nil: none of the limiter's).
    public init(memorySize: Int? = nil, tableElements: Int? = nil) {
        self.memorySize = memorySize
        self.tableElements = tableElements
    }

    /// Whether `desired` bytes are within ``memorySize``.
    public func memoryGrowing(current: Int, desired: Int, maximum: Int?) -> Bool { desired <= memorySize ?? .max }
    /// Whether `desired` entries are within ``tableElements``.
    public func tableGrowing(current: Int, desired: Int, maximum: Int?) -> Bool { desired <= tableElements ?? .max }
}

/// The store's limiter, as the memories and tables it made see it: they keep
/// this box, so that a limiter set after instantiation applies to them too.
final class LimiterBox {
    var limiter: (any ResourceLimiter)?

    /// Asks the limiter about a memory of at most `maximum` bytes growing (or being made) from `current` to `desired` bytes.
    func memoryGrowing(_ current: Int, _ desired: Int, maximum: Int, declared: Bool) -> Bool {
        limiter?.memoryGrowing(current: current, desired: desired, maximum: declared ? maximum : nil) ?? true
    }

    /// Asks the limiter about a table growing (or being made) from `current` to `desired` entries.
    func tableGrowing(_ current: Int, _ desired: Int, maximum: Int, declared: Bool) -> Bool {
        limiter?.tableGrowing(current: current, desired: desired, maximum: declared ? maximum : nil) ?? true
    }

    /// Puts `memory` under the limiter.
    func watch(_ memory: LinearMemory, declared: Bool) {
        memory.growthCheck = { [self] current, desired, maximum in
            self.memoryGrowing(current, desired, maximum: maximum, declared: declared)
        }
    }

    /// Puts `table` under the limiter.
    func watch(_ table: FunctionTable, declared: Bool) {
        table.growthCheck = { [self] current, desired, maximum in
            self.tableGrowing(current, desired, maximum: maximum, declared: declared)
        }
    }
}
