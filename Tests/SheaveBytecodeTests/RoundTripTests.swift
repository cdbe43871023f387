import Foundation
import SheaveBytecode
import SheaveTestSupport
import XCTest


func encode(_ ops: [MaterializedOp], byteOrder: ByteOrder = .host) -> [UInt8] {
    var e = Encoder(byteOrder: byteOrder)
    for op in ops { op.encode(into: &e) }
    return try! e.finish()
}

func decode(_ bytes: [UInt8], byteOrder: ByteOrder = .host) throws -> [MaterializedOp] {
    var m = Materializer()
    return try Decoder.decodeAll(bytes, byteOrder: byteOrder, into: &m).map(\.output)
}

final class RoundTripTests: XCTestCase {
    func testTableCoversEveryOpcode() {
        XCTAssertEqual(MaterializedOp.samples.count, MaterializedOp.count)
        XCTAssertEqual(Opcode.allCases.count + ExtendedOpcode.allCases.count, MaterializedOp.count)
        XCTAssertLessThan(Opcode.allCases.count, 256)
        XCTAssertFalse(Opcode.allCases.contains { $0.rawValue == 0xFF }, "0xFF is the extended prefix")
    }

    func testEveryOpRoundTripsAndHasItsDeclaredSize() throws {
        for op in MaterializedOp.samples {
            let bytes = encode([op])
            XCTAssertEqual(try decode(bytes), [op], "\(op)")
            XCTAssertEqual(encode(try decode(bytes)), bytes, "\(op)")
            let info = bytes[0] == 0xFF
                ? ExtendedOpcode(rawValue: UInt16(bytes[1]) | UInt16(bytes[2]) << 8)!.info
                : Opcode(rawValue: bytes[0])!.info
            if let size = info.size { XCTAssertEqual(bytes.count, size, info.name) }
        }
    }

    func testSeededRandomOpSequencesRoundTrip() throws {
        var g = SplitMix64(seed: 0x5EED)
        for order in [ByteOrder.littleEndian, .bigEndian] {
            for _ in 0..<300 {
                let ops = (0..<Int.random(in: 1...200, using: &g)).map { _ in MaterializedOp.random(using: &g) }
                let bytes = encode(ops, byteOrder: order)
                let decoded = try decode(bytes, byteOrder: order)
                XCTAssertEqual(decoded, ops)
                XCTAssertEqual(encode(decoded, byteOrder: order), bytes)
            }
        }
    }

    func testByteOrderChangesImmediatesOnly() {
        let op = MaterializedOp.xconst32(dst: XReg(0x0102), imm: 0x0A0B_0C0D)
        XCTAssertEqual(encode([op], byteOrder: .littleEndian).dropFirst().map { $0 }, [0x02, 0x01, 0x0D, 0x0C, 0x0B, 0x0A])
        XCTAssertEqual(encode([op], byteOrder: .bigEndian).dropFirst().map { $0 }, [0x01, 0x02, 0x0A, 0x0B, 0x0C, 0x0D])
    }

    func testTruncatedOpsAreErrorsNotCrashes() {
        for op in MaterializedOp.samples {
            let bytes = encode([op])
            for length in 1..<bytes.count {
                XCTAssertThrowsError(try decode(Array(bytes[..<length])), "\(op) cut at \(length)") { error in
                    guard case .truncated(let at)? = error as? DecodeError else { return XCTFail("\(op): \(error)") }
                    XCTAssertLessThanOrEqual(at, length)
                }
            }
        }
    }

    func testUnknownOpcodesAreErrors() {
        let unusedPrimary = (0..<0xFF).first { Opcode(rawValue: UInt8($0)) == nil }.map(UInt8.init)
        if let unusedPrimary {
            XCTAssertThrowsError(try decode([unusedPrimary])) { XCTAssertEqual($0 as? DecodeError, .invalidOpcode(unusedPrimary, at: 0)) }
        }
        XCTAssertThrowsError(try decode([0xFF, 0xFF, 0xFF])) { XCTAssertEqual($0 as? DecodeError, .invalidExtendedOpcode(0xFFFF, at: 0)) }
        // A trap code no trap has.
        XCTAssertThrowsError(try decode([Opcode.trap.rawValue, 0xEE])) { XCTAssertEqual($0 as? DecodeError, .invalidOperand(at: 1)) }
        // A branch table claiming more targets than there are bytes.
        var e = Encoder()
        e.brTable32(XReg(0), BranchTable([PcRelOffset(0)]))
        var bytes = try! e.finish()
        bytes[3] = 0xFF; bytes[4] = 0xFF; bytes[5] = 0xFF; bytes[6] = 0x7F
        XCTAssertThrowsError(try decode(bytes)) { XCTAssertEqual($0 as? DecodeError, .truncated(at: 3)) }
    }

    func testRandomBytesDecodeOrFailCleanly() {
        var g = SplitMix64(seed: 42)
        var decodedOps = 0, errors = 0
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...64, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            var m = Materializer()
            var decoder = Decoder(bytes)
            while !decoder.reader.isAtEnd {
                do {
                    _ = try decoder.decodeOne(&m)
                    decodedOps += 1
                } catch {
                    errors += 1
                    break
                }
            }
        }
        XCTAssertGreaterThan(decodedOps, 1000)
        XCTAssertGreaterThan(errors, 100)
    }

    func testLabelsResolveForwardAndBackward() throws {
        var e = Encoder()
        let top = e.makeLabel(), bottom = e.makeLabel()
        e.bind(top)
        e.nop()                                         // 0
        e.brIfXnez32(XReg(1), bottom)                   // 1: forward
        e.brTable32(XReg(2), [top, bottom, top])        // 8
        e.bind(bottom)
        e.jump(top)                                     // 8 + 1 + 2 + 4 + 12 = 27: backward
        let ops = try decode(try e.finish())
        XCTAssertEqual(ops, [
            .nop,
            .brIfXnez32(cond: XReg(1), offset: PcRelOffset(26)),
            .brTable32(index: XReg(2), targets: BranchTable([PcRelOffset(-8), PcRelOffset(19), PcRelOffset(-8)])),
            .jump(offset: PcRelOffset(-27)),
        ])
    }

    func testUnboundLabelIsAnError() {
        var e = Encoder()
        let nowhere = e.makeLabel()
        e.jump(nowhere)
        XCTAssertThrowsError(try e.finish())
    }
}
