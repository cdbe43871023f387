import Foundation
import SheaveBytecode
import SheaveInterpreter
import SheaveTestSupport
import XCTest

/// A super-instruction and the plain ops it stands for, as the op table declares
/// them (`Generated/FusionCases.swift`, written by SheaveGen from `Op.fuses`).
struct FusionCase: Sendable {
    let name: String
    /// The steps as the op table writes them, for messages.
    let stands: String
    /// The values x registers hold (32: an i32, upper half zero; 64: an i64), and f registers.
    let xBits: Int
    let fBits: Int
    let operands: [(name: String, kind: FusionOperand)]
    /// Registers only the steps write and read.
    let temporaries: [(name: String, kind: FusionOperand)]
    /// Register operands that must differ for the steps to mean what the op does.
    let distinct: [(String, String)]
    let fused: @Sendable (inout Encoder, FusionOperands) -> Void
    let steps: @Sendable (inout Encoder, FusionOperands) -> Void
}

/// What an operand of a fusion is, for choosing its value.
enum FusionOperand: Sendable {
    case x, f, u8, i32, label
    /// A memory offset (u32).
    case offset
    /// `push_frame`'s size, a frame's first slot and a count of slots.
    case frameSize, firstSlot, slotCount
}

/// The operands of one round: a register number for each register operand and
/// temporary, a value for each immediate, and the one label every branch takes.
struct FusionOperands {
    var registers: [String: UInt16] = [:]
    var immediates: [String: UInt64] = [:]
    var label: Label

    func x(_ name: String) -> XReg { XReg(registers[name]!) }
    func f(_ name: String) -> FReg { FReg(registers[name]!) }
    func u8(_ name: String) -> UInt8 { UInt8(truncatingIfNeeded: immediates[name]!) }
    func u16(_ name: String) -> UInt16 { UInt16(truncatingIfNeeded: immediates[name]!) }
    func u32(_ name: String) -> UInt32 { UInt32(truncatingIfNeeded: immediates[name]!) }
    func i32(_ name: String) -> Int32 { Int32(truncatingIfNeeded: immediates[name]!) }
}

/// Every super-instruction against the ops it stands for. Each round draws
/// register numbers (from small pools, so that operands alias: `dst` is `a`, `a`
/// is `b`…, except where the table says they must differ), register values (edges
/// of the value's type, small addresses in and out of bounds) and immediates, and
/// runs two programs that differ only in the fused op or its steps, on every
/// dispatch loop. Both must end alike: the same trap, or the same registers
/// (the temporaries aside), which way the branch went, and the same memory.
///
/// The registers are loaded from memory before the op, one of them last, so that
/// in the tail loop (release builds) the op reads that operand through its
/// accumulator form; a last variant loads a pointer before the op and reads
/// through it after, so that a keeping form may carry the pointer across.
final class FusionEquivalenceTests: XCTestCase {
    // Frame layout: x operands in slots 0..<5, f operands in 5..<9, the temporaries
    // 10 and 11, the branch's mark 12, a zero 13, a kept pointer 14 and what is read
    // through it 15.
    static let xPool: [UInt16] = Array(0..<5), fPool: [UInt16] = Array(5..<9)
    static let temporarySlots: [UInt16] = [10, 11]
    static let mark = XReg(12), zero = XReg(13), pointer = XReg(14), throughPointer = XReg(15)
    static let frameSize = 16
    /// Where each slot's first value is in memory.
    static let preloadBase = 0xF000
    static let rounds = 40

    func testEverySuperInstructionDoesWhatTheOpsItStandsForDo() throws {
        XCTAssertGreaterThan(fusionCases.count, 100, "the op table declares what its super-instructions stand for")
        let runners = dispatchModes.map { Runner(mode: $0) }
        var failures = 0
        for (index, fusion) in fusionCases.enumerated() {
            var random = SplitMix64(seed: 0xF05E_0000 &+ UInt64(index))
            // The variants: no operand last, each register operand last, a kept pointer.
            let registerOperands = fusion.operands.filter { $0.kind == .x || $0.kind == .f }.map(\.name)
            let variants: [Variant] = [.plain] + registerOperands.map { .last($0) } + [.keep]
            var caseFailures = 0, returned = 0, rounds = 0
            for variant in variants {
                for round in 0..<Self.rounds where caseFailures < 3 {
                    let setup = Self.draw(fusion, &random)
                    let fused = try Self.program(fusion, setup, variant, fusedOp: true)
                    let steps = try Self.program(fusion, setup, variant, fusedOp: false)
                    rounds += 1
                    for (i, runner) in runners.enumerated() {
                        let a = Self.canonical(runner.run(fused, memory: setup.memory), fusion)
                        let b = Self.canonical(runner.run(steps, memory: setup.memory), fusion)
                        if i == 0 && a.trap == nil { returned += 1 }
                        if a != b {
                            caseFailures += 1
                            XCTFail("""
                                \(fusion.name) (\(fusion.stands)), \(variant), round \(round), \(runner.mode) loop: \
                                the op gives \(a.summary), its steps \(b.summary)
                                registers \(setup.operands.registers.sorted { $0.key < $1.key }), immediates \(setup.operands.immediates.sorted { $0.key < $1.key })
                                values \(setup.values.enumerated().map { "\($0.offset): \(String($0.element, radix: 16))" }.joined(separator: ", "))
                                """)
                            break
                        }
                    }
                }
            }
            failures += caseFailures
            // Rounds that trap compare little: many must run to the end.
            XCTAssertGreaterThan(returned * 10, rounds, "\(fusion.name): \(returned) of \(rounds) rounds ran to the end")
        }
        XCTAssertEqual(failures, 0)
    }

    enum Variant: CustomStringConvertible {
        case plain, last(String), keep
        var description: String {
            switch self {
            case .plain: return "no operand in an accumulator"
            case .last(let name): return "\(name) loaded last"
            case .keep: return "a pointer kept across"
            }
        }
    }

    struct Setup {
        var operands: FusionOperands
        /// The first value of every slot.
        var values: [UInt64]
        var memory: Data
    }

    /// The memory every round starts from before its own bytes go in: random.
    static let background: [UInt64] = {
        var random = SplitMix64(seed: 0xF05E_BA5E)
        return (0..<LinearMemory.pageSize / 8).map { _ in random.next() }
    }()

    /// One round's registers, values and memory.
    static func draw(_ fusion: FusionCase, _ random: inout SplitMix64) -> Setup {
        var encoderForLabel = Encoder()
        var operands = FusionOperands(label: encoderForLabel.makeLabel())
        repeat {
            for (name, kind) in fusion.operands {
                switch kind {
                case .x: operands.registers[name] = xPool[Int(random.next() % UInt64(xPool.count))]
                case .f: operands.registers[name] = fPool[Int(random.next() % UInt64(fPool.count))]
                case .u8: operands.immediates[name] = random.next() % 72
                case .i32: operands.immediates[name] = UInt64(UInt32(truncatingIfNeeded: edgeI32(&random)))
                case .offset: operands.immediates[name] = offset(&random)
                case .frameSize: operands.immediates[name] = UInt64(frameSize)
                case .firstSlot: operands.immediates[name] = random.next() % 10
                case .slotCount: break
                case .label: break
                }
            }
            for (name, kind) in fusion.operands where kind == .slotCount {
                let first = fusion.operands.first { $0.kind == .firstSlot }.flatMap { operands.immediates[$0.name] } ?? 0
                operands.immediates[name] = random.next() % (UInt64(frameSize) - first + 1)
            }
        } while fusion.distinct.contains { operands.registers[$0.0] == operands.registers[$0.1] }
        for (i, temporary) in fusion.temporaries.enumerated() { operands.registers[temporary.name] = temporarySlots[i] }

        var values = [UInt64](repeating: 0, count: frameSize)
        for slot in xPool { values[Int(slot)] = xValue(fusion.xBits, &random) }
        for slot in fPool { values[Int(slot)] = fValue(fusion.fBits, &random) }
        values[Int(pointer.index)] = (random.next() % 256) * 4
        // Memory: random words, with small ones at the bottom (pointers that stay in
        // bounds when loaded and followed), the slots' first values at `preloadBase`.
        var words = background
        for i in 0..<128 {
            let low = random.next() % 4 != 0 ? random.next() % 1024 : random.next() & 0xFFFF_FFFF
            let high = random.next() % 4 != 0 ? random.next() % 1024 : random.next() & 0xFFFF_FFFF
            words[i] = (low | high << 32).littleEndian
        }
        for (slot, value) in values.enumerated() { words[preloadBase / 8 + slot] = value.littleEndian }
        return Setup(operands: operands, values: values, memory: words.withUnsafeBytes { Data($0) })
    }

    /// The program of one round: load the registers, run the fused op or its steps,
    /// mark which way control left them (1: fell through, 2: branched) and return
    /// every slot.
    static func program(_ fusion: FusionCase, _ setup: Setup, _ variant: Variant, fusedOp: Bool) throws -> CodeImage {
        var e = Encoder()
        var operands = setup.operands
        operands.label = e.makeLabel()
        e.pushFrame(UInt32(frameSize))
        e.xconst32(zero, 0)
        var order = xPool.map { (slot: $0, isF: false) } + fPool.map { (slot: $0, isF: true) } + [(slot: pointer.index, isF: false)]
        if case .last(let name) = variant, let slot = operands.registers[name], let at = order.firstIndex(where: { $0.slot == slot }) {
            order.append(order.remove(at: at))
        }
        for (slot, isF) in order {
            let at = UInt32(preloadBase + 8 * Int(slot))
            if !isF {
                e.xload64(XReg(slot), zero, at)
            } else if fusion.fBits == 32 {
                e.fload32(FReg(slot), zero, at)
            } else {
                e.fload64(FReg(slot), zero, at)
            }
        }
        if case .keep = variant { e.xload32(pointer, zero, UInt32(preloadBase + 8 * Int(pointer.index))) }
        if fusedOp { fusion.fused(&e, operands) } else { fusion.steps(&e, operands) }
        if case .keep = variant { e.xload64(throughPointer, pointer, 0) }
        e.xconst32(mark, 1)
        e.ret()
        e.bind(operands.label)
        e.xconst32(mark, 2)
        e.ret()
        return CodeImage(try e.finish())
    }

    /// How a program ended: every slot but the temporaries, or a trap; and the memory.
    struct Ending: Equatable {
        var slots: [UInt64]?
        var trap: TrapCode?
        var memory: Data

        var summary: String {
            if let trap { return "a trap (\(trap))" }
            return "slots \(slots!.enumerated().map { "\($0.offset): \(String($0.element, radix: 16))" }.joined(separator: ", "))"
        }
    }

    /// An ending with the temporaries cleared and every NaN in an f slot made one:
    /// a NaN's sign and payload are not fixed by Wasm.
    static func canonical(_ ending: Ending, _ fusion: FusionCase) -> Ending {
        var ending = ending
        guard var slots = ending.slots else { return ending }
        for slot in temporarySlots { slots[Int(slot)] = 0 }
        for slot in fPool.map(Int.init) {
            if fusion.fBits == 64, Double(bitPattern: slots[slot]).isNaN { slots[slot] = 0x7FF8_0000_0000_0000 }
            if fusion.fBits == 32, Float(bitPattern: UInt32(truncatingIfNeeded: slots[slot])).isNaN { slots[slot] = 0x7FC0_0000 }
        }
        ending.slots = slots
        return ending
    }

    /// One dispatch loop with its VM and memory, reused from round to round.
    final class Runner {
        let mode: DispatchMode
        let memory: LinearMemory
        let vm: VM

        init(mode: DispatchMode) {
            self.mode = mode
            memory = LinearMemory(pages: 1)!
            vm = VM(stackSize: 1 << 16, dispatchMode: mode, context: ExecutionContext(memory: memory))
        }

        func run(_ code: CodeImage, memory initial: Data) -> Ending {
            initial.withUnsafeBytes { memory.base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            var ending = Ending(slots: nil, trap: nil, memory: Data())
            do {
                ending.slots = try vm.invoke(code.address(at: 0), arguments: [], resultCount: FusionEquivalenceTests.frameSize)
            } catch let trap as VMTrap {
                ending.trap = trap.code
            } catch {
                XCTFail("unexpected error \(error)")
            }
            ending.memory = Data(bytes: memory.base, count: memory.byteCount)
            return ending
        }
    }

    // MARK: Values

    static func edgeI32(_ random: inout SplitMix64) -> Int32 {
        let edges: [Int32] = [0, 1, -1, 2, 3, 4, 7, 8, -16, 31, 32, 63, 64, 255, 0x7FFF, 0xFFFF, 0x10000, .max, .min]
        switch random.next() % 3 {
        case 0: return edges[Int(random.next() % UInt64(edges.count))]
        case 1: return Int32(truncatingIfNeeded: random.next() % 2048) - 1024
        default: return Int32(truncatingIfNeeded: random.next())
        }
    }

    /// An x register's value: small addresses (in bounds), the memory's end, the
    /// edges of i32 (and of i64, for 64-bit values), anything.
    static func xValue(_ bits: Int, _ random: inout SplitMix64) -> UInt64 {
        let value: UInt64
        switch random.next() % 8 {
        case 0, 1, 2: value = (random.next() % 256) * 4  // a pointer to the small words below 1024
        case 3: value = random.next() % 1024
        case 4: value = UInt64(LinearMemory.pageSize) - random.next() % 16
        case 5: value = UInt64(UInt32(bitPattern: edgeI32(&random)))
        case 6: value = bits == 64 ? UInt64(bitPattern: Int64(edgeI32(&random))) : random.next() % 64
        default: value = random.next()
        }
        return bits == 32 ? value & 0xFFFF_FFFF : value
    }

    /// An f register's value: finite and small, so that no sum overflows into a NaN.
    static func fValue(_ bits: Int, _ random: inout SplitMix64) -> UInt64 {
        let edges: [Double] = [0, -0.0, 1, -1, 0.5, 1.5, -2.25, 1e-30, 3]
        let value = random.next() % 3 == 0 ? edges[Int(random.next() % UInt64(edges.count))]
            : Double(Int64(bitPattern: random.next()) % 1_000_000) / 64
        return bits == 32 ? UInt64(Float(value).bitPattern) : value.bitPattern
    }

    /// A memory offset: mostly small, sometimes at the memory's end, sometimes far past it.
    static func offset(_ random: inout SplitMix64) -> UInt64 {
        switch random.next() % 8 {
        case 0: return UInt64(LinearMemory.pageSize) - random.next() % 24
        case 1: return random.next() & 0xFFFF_FFFF
        case 2: return random.next() % 64
        default: return (random.next() % 16) * 4
        }
    }
}
