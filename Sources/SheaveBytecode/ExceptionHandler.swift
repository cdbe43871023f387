// Where a thrown exception lands: the side table of `try_table` catch clauses
// that the compiler writes beside each function's bytecode and the VM reads only
// when something throws (docs/design.md, "Exceptions").

/// One catch clause of one `try_table`: while an op in `start..<end` runs (a
/// throw, or a call whose callee throws), an exception this clause matches lands
/// at `landing`, with its payload (and, for the `ref` kinds, its `exnref` after
/// it) written to the slots from `slot` of the frame.
///
/// A function's handlers are listed innermost region first (in the order the
/// regions close), and a region's clauses in the order they are declared: the
/// first that contains the op and matches the exception is the one that catches.
public struct ExceptionHandler: Equatable, Sendable {
    /// Which exceptions a clause catches and what it passes on.
    public enum Kind: UInt8, Sendable, CaseIterable {
        /// Exceptions of `tag`: their payload.
        case `catch` = 0
        /// Exceptions of `tag`: their payload, then the exception as an `exnref`.
        case catchRef = 1
        /// Every exception: nothing.
        case catchAll = 2
        /// Every exception: the exception as an `exnref`.
        case catchAllRef = 3

        /// Whether the clause names a tag.
        public var hasTag: Bool { self == .catch || self == .catchRef }
        /// Whether the clause passes the exception as an `exnref`.
        public var passesReference: Bool { self == .catchRef || self == .catchAllRef }
    }

    /// The code the clause covers, as offsets in the module's bytecode: the ops
    /// starting in `start..<end`.
    public var start: UInt32
    public var end: UInt32
    public var kind: Kind
    /// The tag (an index of the module's tags) for `catch` and `catchRef`; 0 otherwise.
    public var tag: UInt32
    /// The first frame slot written: the payload's slots, then the `exnref`.
    public var slot: UInt16
    /// How many slots of payload the clause writes (the tag's parameters; 0 for the `all` kinds).
    public var payloadSlots: UInt16
    /// The bytecode offset of the op the exception lands at: code that moves the
    /// values from `slot` to the target label's slots and branches there.
    public var landing: UInt32

    public init(start: UInt32, end: UInt32, kind: Kind, tag: UInt32, slot: UInt16, payloadSlots: UInt16, landing: UInt32) {
        (self.start, self.end, self.kind, self.tag) = (start, end, kind, tag)
        (self.slot, self.payloadSlots, self.landing) = (slot, payloadSlots, landing)
    }

    /// How many frame slots from `slot` the clause writes.
    public var writtenSlots: Int { Int(payloadSlots) + (kind.passesReference ? 1 : 0) }

    /// Whether the clause covers the op at bytecode offset `offset`.
    public func covers(_ offset: Int) -> Bool { Int(start) <= offset && offset < Int(end) }
}
