import SheaveBytecode

/// Chooses the handler of every op of a code image: its own, or an accumulator
/// form that reads an operand from `xacc` or `facc`, or a keeping form that leaves
/// `xacc` as it was (docs/design.md, "Accumulators").
///
/// A form is right only when, on every way into the op, the accumulator holds the
/// register the form reads. The choice follows the code forward, tracking which
/// registers the accumulators hold (`State`); at a branch target it keeps what all
/// ways in agree on. Branches back to a loop's head are not known when the head is
/// reached: the head assumes that they agree, and once its piece of code is done,
/// each is checked. A head where one does not agree is lowered to what they share
/// and the piece chosen again (after eight rounds such heads start empty, which
/// forward ways alone decide). After the first round, where the op before a loop
/// head could leave the register the loop's branches back carry, a second round
/// steers it to.
///
/// An op that may be entered from outside its code (a function's first op, called
/// or reached from the host) starts empty, and so does one that follows an op that
/// does not fall through and that no forward branch reaches; the op a call returns
/// to follows the call, which empties the accumulators.
struct AccumulatorChoice {
    /// What the accumulators hold: the x and f registers whose values are in
    /// `xacc` and `facc`, and whether the x value was loaded from memory.
    struct State: Equatable {
        var x: UInt16?
        var loaded = false
        var f: UInt16?

        static let empty = State()

        /// What holds on both ways in (a value loaded on either is treated as loaded:
        /// that only steers the choice of keeping forms).
        func meet(_ other: State) -> State {
            let x = self.x == other.x ? self.x : nil
            return State(x: x, loaded: x != nil && (loaded || other.loaded), f: f == other.f ? f : nil)
        }

        /// Whether a way in that leaves `self` gives what `assumed` promises.
        func satisfies(_ assumed: State) -> Bool {
            (assumed.x == nil || assumed.x == x) && (assumed.f == nil || assumed.f == f)
        }
    }

    private let code: UnsafeRawBufferPointer
    private let starts: [Int]
    private let layouts: [Int32]
    /// Branches other than calls, in the order of the ops they leave: (op, target op).
    private var edges: [(from: Int, to: Int)] = []
    /// Ops a branch other than a call reaches.
    private var reached: [Bool] = []
    /// Ops that may be entered from outside the code: called, or the first.
    private var outside: [Bool] = []
    /// Each op's x registers that its x forms read, three per op (`none` beyond).
    private var reads: [UInt16] = []
    /// The x register each op overwrites, as far as carrying a value in `xacc`
    /// past it goes: the one it writes (`all`: it writes one and has no keeping
    /// forms, or may change the accumulator otherwise; `none`: it writes no x register).
    private var clobbers: [UInt16] = []
    /// Where each op with one branch other than a call branches to (-1: none).
    private var target: [Int32] = []
    private static let none = UInt16.max, all = UInt16.max - 1
    /// The op tables (`AccumulatorFacts`), read once here: every read of the static
    /// ones checks that they are initialized (`swift_once`, 2% of loading a large
    /// artifact).
    private let allFacts = AccumulatorFacts.all, allForms = AccumulatorFacts.forms, allLayouts = OpLayout.all

    /// `starts` and `layouts` as `CodeImage` found them (a layout of -1: a malformed op).
    /// `entries`: ops entered from outside besides the first (exception landings).
    init(code: UnsafeRawBufferPointer, starts: [Int], layouts: [Int32], entries: [Int] = []) {
        self.code = code
        self.starts = starts
        self.layouts = layouts
        var edges: [(from: Int, to: Int)] = []
        var reached = [Bool](repeating: false, count: starts.count)
        var outside = [Bool](repeating: false, count: starts.count)
        var reads = [UInt16](repeating: Self.none, count: 3 * starts.count)
        var clobbers = [UInt16](repeating: Self.all, count: starts.count)
        var target = [Int32](repeating: -1, count: starts.count)
        if !starts.isEmpty { outside[0] = true }
        for i in entries { outside[i] = true }
        let (allFacts, allForms, allLayouts) = (AccumulatorFacts.all, AccumulatorFacts.forms, OpLayout.all)
        for i in starts.indices where layouts[i] >= 0 {
            let layout = allLayouts[Int(layouts[i])]
            let facts = allFacts[Int(layouts[i])]
            forEachTarget(of: i, layout) { to in
                if facts.calls {
                    outside[to] = true
                } else {
                    edges.append((i, to))
                    reached[to] = true
                    if layout.branchField != 0 { target[i] = Int32(to) }
                }
            }
            for (k, form) in facts.xForms.prefix(3).enumerated() { reads[3 * i + k] = register(i, allForms[form].field) }
            clobbers[i] = facts.xWriter != 0 ? (facts.keeping.isEmpty ? Self.all : register(i, facts.xWriter))
                : facts.xKept == 0 ? Self.none : facts.xKept > 0 ? register(i, facts.xKept) : Self.all
        }
        (self.edges, self.reached, self.outside, self.reads, self.clobbers, self.target) = (edges, reached, outside, reads, clobbers, target)
    }

    /// Calls `body` with each op that op `i` may branch to (a target that is not the
    /// start of an op goes to the image's trap, and is left out).
    private func forEachTarget(of i: Int, _ layout: OpLayout, _ body: (Int) -> Void) {
        let start = starts[i]
        layout.forEachBranchField(code, at: start) { field in
            let offset = Int(code.loadUnaligned(fromByteOffset: start + field, as: Int32.self))
            if let target = CodeImage.op(startingAt: start + offset, in: starts) { body(target) }
        }
    }

    /// Op `i`'s register operand at `field`: called only for ops whose layout was
    /// checked to fit in the code (`layouts[i] >= 0`), with a field of that layout.
    private func register(_ i: Int, _ field: Int) -> UInt16 {
        code.loadUnaligned(fromByteOffset: starts[i] + field, as: UInt16.self)
    }

    /// The first of op `i`'s `forms` that reads `value`'s register.
    private func form(_ i: Int, _ value: UInt16?, _ forms: Range<Int>) -> AccumulatorFacts.Form? {
        guard let value else { return nil }
        for k in forms where allForms[k].field != 0 && register(i, allForms[k].field) == value {
            return allForms[k]
        }
        return nil
    }

    /// The first of op `i`'s x forms that reads `value`'s register.
    private func xForm(_ i: Int, _ value: UInt16?, _ forms: Range<Int>) -> AccumulatorFacts.Form? {
        guard let value else { return nil }
        for k in 0..<min(forms.count, 3) where reads[3 * i + k] == value { return allForms[forms.lowerBound + k] }
        return nil
    }

    /// How many ops after op `i` the first one that reads x register `r` from the
    /// integer accumulator comes, if keeping forms can carry `r` there (the ops
    /// between write other registers and have them) within seven ops: after `i`, or
    /// where `i` branches to, whichever is sooner; `Int.max` if none.
    private func nextRead(of r: UInt16, after i: Int) -> Int {
        func read(from first: Int) -> Int {
            for j in first..<min(first + 7, starts.count) {
                if reads[3 * j] == r || reads[3 * j + 1] == r || reads[3 * j + 2] == r { return j - first + 1 }
                if clobbers[j] == r || clobbers[j] == Self.all { break }
            }
            return .max
        }
        let distance = read(from: i + 1)
        return target[i] < 0 ? distance : min(distance, read(from: Int(target[i])))
    }

    /// What choosing needs per op and per branch, for the whole code: allocated once
    /// per image (plain buffers: no copy-on-write checks), each piece using its own
    /// part. Indexed only by op (`0..<starts.count`) or by branch (`edges.indices`).
    private struct Scratch {
        var handlers: UnsafeMutableBufferPointer<TailHandler>
        /// What each loop head may assume at most (nil: what its forward ways agree on).
        var caps: UnsafeMutableBufferPointer<State?>
        /// What the branches back to each loop head carried in the first round.
        var hints: UnsafeMutableBufferPointer<State?>
        /// What each op assumed on the way in, in the last round.
        var assumed: UnsafeMutableBufferPointer<State>
        /// What the forward branches seen so far carry to each op.
        var forward: UnsafeMutableBufferPointer<State?>
        /// What each branch back carries, by index in `edges`.
        var back: UnsafeMutableBufferPointer<State>

        init(ops n: Int, edges: Int) {
            func buffer<T>(_ count: Int, _ value: T) -> UnsafeMutableBufferPointer<T> {
                let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: count)
                buffer.initialize(repeating: value)
                return buffer
            }
            handlers = buffer(n, VM.invalidOpcodeHandler)
            caps = buffer(n, nil)
            hints = buffer(n, nil)
            assumed = buffer(n, .empty)
            forward = buffer(n, nil)
            back = buffer(edges, .empty)
        }

        func deallocate() {
            handlers.deallocate(); caps.deallocate(); hints.deallocate()
            assumed.deallocate(); forward.deallocate(); back.deallocate()
        }
    }

    /// Every op's handler (the invalid opcode's for a malformed op).
    func handlers() -> [TailHandler] {
        let n = starts.count
        let scratch = Scratch(ops: n, edges: edges.count)
        defer { scratch.deallocate() }
        // The code in pieces that end where an op does not fall through and that no
        // branch crosses (functions, or parts of them), each chosen on its own: only
        // those with loops take more than one round.
        var crossing = [Int](repeating: 0, count: n + 1)
        for edge in edges { crossing[min(edge.from, edge.to) + 1] += 1; crossing[max(edge.from, edge.to) + 1] -= 1 }
        var previous: State? = nil, first = 0, open = 0, edge = 0
        for i in starts.indices {
            open += crossing[i + 1]
            guard open == 0, i + 1 == n || layouts[i] < 0 || allFacts[Int(layouts[i])].ends else { continue }
            let last = edge
            while edge < edges.count && edges[edge].from <= i { edge += 1 }
            previous = choose(first..<(i + 1), edges: last..<edge, entering: previous, scratch)
            first = i + 1
        }
        return Array(scratch.handlers)
    }

    /// Chooses the handlers of the ops in `piece`, whose branches are `edges[pieceEdges]`
    /// (none leaves or enters it), given what the op before leaves; returns what its
    /// last op leaves. Round after round, until each loop head's assumption holds.
    private func choose(_ piece: Range<Int>, edges pieceEdges: Range<Int>, entering: State?, _ scratch: Scratch) -> State? {
        var round = 0
        while true {
            let leaving = chooseOnce(piece, edges: pieceEdges, entering: entering, scratch)
            var loops = false
            if round == 0 {
                // Once: where a loop's branch back carries a register its head did not
                // assume, choose again, steering the way in from before the loop to
                // leave that register too.
                for k in pieceEdges where edges[k].to <= edges[k].from {
                    let t = edges[k].to
                    scratch.hints[t] = scratch.hints[t].map { $0.meet(scratch.back[k]) } ?? scratch.back[k]
                    loops = true
                }
                let steer = loops && pieceEdges.contains { k in
                    edges[k].to <= edges[k].from && canSteer(into: edges[k].to, piece, scratch)
                }
                round = 1
                if steer { continue }
            }
            var agreed = true
            for k in pieceEdges where edges[k].to <= edges[k].from && !scratch.back[k].satisfies(scratch.assumed[edges[k].to]) {
                let t = edges[k].to
                scratch.caps[t] = round < 8 ? scratch.assumed[t].meet(scratch.back[k]) : .empty
                agreed = false
            }
            if agreed { return leaving }
            round += 1
        }
    }

    /// Whether choosing again with the hints could change what loop head `t` (of
    /// `piece`) assumes: its branches back carry a loaded value it did not know was
    /// loaded, or another register that the op before it writes or could keep.
    private func canSteer(into t: Int, _ piece: Range<Int>, _ scratch: Scratch) -> Bool {
        guard let hint = scratch.hints[t], let x = hint.x else { return false }
        let assumed = scratch.assumed[t]
        if x == assumed.x { return hint.loaded && !assumed.loaded }
        let before = t - 1
        guard before >= piece.lowerBound, layouts[before] >= 0 else { return false }
        let facts = allFacts[Int(layouts[before])]
        guard facts.xWriter != 0, !facts.ends else { return false }
        return register(before, facts.xWriter) == x || (scratch.assumed[before].x == x && !facts.keeping.isEmpty)
    }

    /// One pass over `piece`: chooses its handlers, and sets what each op assumed
    /// on the way in and what each of its branches back carries; returns what its
    /// last op leaves.
    private func chooseOnce(_ piece: Range<Int>, edges pieceEdges: Range<Int>, entering: State?, _ scratch: Scratch) -> State? {
        for i in piece { scratch.forward[i] = nil }
        // What the op before leaves, if it falls through.
        var previous = entering
        var edge = pieceEdges.lowerBound
        for i in piece {
            guard layouts[i] >= 0 else {
                // Unknown or cut short: a one-byte op that traps in both loops.
                scratch.assumed[i] = .empty
                previous = nil
                continue
            }
            var state: State
            if outside[i] {
                state = .empty
            } else if reached[i] {
                var ways = previous
                if let carried = scratch.forward[i] { ways = ways.map { $0.meet(carried) } ?? carried }
                state = ways ?? .empty
                if let cap = scratch.caps[i] { state = state.meet(cap) }
                if let hint = scratch.hints[i], hint.x == state.x, hint.loaded { state.loaded = true }
            } else {
                state = previous ?? .empty
            }
            scratch.assumed[i] = state

            // An operand that is the register in an accumulator reads it from there. An x
            // value stays in the accumulator, the op writing another register through a
            // keeping form, when a later op reads it sooner than the op's own result, or
            // at all if it was loaded (a pointer, chased: its next use waits on it).
            let facts = allFacts[Int(layouts[i])]
            var handler = allLayouts[Int(layouts[i])].handler
            var keeps = false
            if let float = form(i, state.f, facts.fForms) {
                handler = float.handler
            } else {
                let read = xForm(i, state.x, facts.xForms)
                if let r = state.x, facts.xWriter != 0, !facts.keeping.isEmpty, case let d = register(i, facts.xWriter), d != r {
                    // The loop head after the op wants the register its branch back carries.
                    let wanted = i + 1 < piece.upperBound && !facts.ends ? scratch.hints[i + 1]?.x : nil
                    if r == wanted {
                        keeps = true
                    } else if d != wanted {
                        let distance = nextRead(of: r, after: i)
                        keeps = distance != .max && (state.loaded || distance < nextRead(of: d, after: i))
                    }
                }
                if keeps, let keeping = facts.keeping.first(where: { allForms[$0].field == (read?.field ?? 0) }) {
                    handler = allForms[keeping].handler
                } else {
                    keeps = false
                    if let read { handler = read.handler }
                }
            }
            scratch.handlers[i] = handler

            var after = state
            if facts.xWriter != 0 {
                if !keeps { (after.x, after.loaded) = (register(i, facts.xWriter), facts.loads) }
            } else if clobbers[i] == Self.all || (clobbers[i] != Self.none && clobbers[i] == state.x) {
                (after.x, after.loaded) = (nil, false)
            }
            after.f = facts.fWriter == 0 ? nil : register(i, facts.fWriter)
            // An op that does not fall through (a jump, `br_table32`, `br_xconst32`)
            // carries to its targets what it found, and the register it writes.
            var carried = after
            if facts.ends {
                if facts.xWriter == 0 { (carried.x, carried.loaded) = (state.x, state.loaded) }
                carried.f = state.f
            }
            while edge < pieceEdges.upperBound && edges[edge].from == i {
                let to = edges[edge].to
                if to > i {
                    scratch.forward[to] = scratch.forward[to].map { $0.meet(carried) } ?? carried
                } else {
                    scratch.back[edge] = carried
                }
                edge += 1
            }
            previous = facts.ends ? nil : after
        }
        return previous
    }
}

/// What the code image needs to know of an opcode to give its ops accumulator
/// forms (docs/design.md, "Accumulators"), read once per opcode from the generated
/// `xaccWriterField`, `xaccForms`, … Plain values; the forms lie in one flat table.
struct AccumulatorFacts {
    /// One form: the field of the operand it reads from the accumulator (0: none,
    /// for the keeping form that reads nothing), and its handler.
    struct Form {
        var field: Int
        var handler: TailHandler
    }
    /// Where the op has the register it leaves in the x (f) accumulator; 0: none.
    var xWriter = 0, fWriter = 0
    /// For an op that writes no x register: 0, or the field of the f register it
    /// writes; -1 for an op that may change the x accumulator otherwise.
    var xKept = -1
    /// Whether the x value it writes was loaded from memory.
    var loads = false
    /// Whether it does not fall through (a jump, a return, a trap, `br_table32`).
    var ends = false
    /// Whether it is a call: its target is a function's first op, entered from elsewhere too.
    var calls = false
    /// Its x, f and keeping forms, as ranges of `forms`.
    var xForms = 0..<0, fForms = 0..<0, keeping = 0..<0

    /// The forms of every opcode, one after the other: `xForms`, `fForms` and
    /// `keeping` are ranges of it.
    static var forms: UnsafeMutablePointer<Form> { tables.forms }
    /// By layout index: primary opcodes at their value, extended ones at 256 + theirs.
    static var all: UnsafeMutablePointer<AccumulatorFacts> { tables.facts }

    /// Both tables, built together in one pass over the generated functions, so each
    /// opcode's ranges are where its forms were put.
    nonisolated(unsafe) private static let tables: (facts: UnsafeMutablePointer<AccumulatorFacts>, forms: UnsafeMutablePointer<Form>) = {
        let facts = UnsafeMutablePointer<AccumulatorFacts>.allocate(capacity: 256 + extendedOpCount)
        var forms: [Form] = []
        func append(_ list: [(field: Int, handler: TailHandler)]) -> Range<Int> {
            let start = forms.count
            forms += list.map { Form(field: $0.field, handler: $0.handler) }
            return start..<forms.count
        }
        for index in 0..<(256 + extendedOpCount) {
            // `opRows`, not `OpInfo`: building 632 names and lists cost start-up.
            let row = index < 256 ? (index < primaryOpcodeCount ? index : nil) : primaryOpcodeCount + index - 256
            let flags = row.map { opRows[$0].flags }
            facts[index] = AccumulatorFacts(
                xWriter: xaccWriterField(index), fWriter: faccWriterField(index), xKept: xaccKeptField(index),
                loads: xaccWriterLoads(index), ends: flags?.contains(.terminator) ?? false, calls: flags?.contains(.call) ?? false,
                xForms: append(xaccForms(index)), fForms: append(faccForms(index)),
                keeping: append(xaccKeepingForms(index)))
        }
        let table = UnsafeMutablePointer<Form>.allocate(capacity: max(forms.count, 1))
        table.initialize(from: forms, count: forms.count)
        return (facts, table)
    }()
}
