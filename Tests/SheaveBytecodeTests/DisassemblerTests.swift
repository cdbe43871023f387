import Foundation
import SheaveBytecode
import XCTest

final class DisassemblerTests: XCTestCase {
    /// Every op, disassembled, against a checked-in listing. Set
    /// SHEAVE_UPDATE_GOLDEN=1 to rewrite the listing after a deliberate change.
    func testEveryOpDisassemblesToTheGoldenListing() throws {
        let text = Disassembler.disassemble(encode(MaterializedOp.samples))
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/all-ops.txt")
        if ProcessInfo.processInfo.environment["SHEAVE_UPDATE_GOLDEN"] == "1" {
            try text.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").count, MaterializedOp.count)
        if text != expected {
            let diff = zip(text.split(separator: "\n"), expected.split(separator: "\n")).first { $0 != $1 }
            XCTFail("disassembly differs from Golden/all-ops.txt; first difference: \(diff.map { "\($0.0) vs \($0.1)" } ?? "in length")")
        }
    }

    func testLayoutMatchesWasmtimeObjdump() throws {
        var e = Encoder()
        let loop = e.makeLabel()
        e.pushFrame(2)
        e.bind(loop)
        e.xmov(XReg(19), XReg(0))
        e.brIfXult32(XReg(1), XReg(0), loop)
        let text = Disassembler.disassemble(try e.finish())
        // Offsets right-aligned in 8 columns; raw bytes padded to 30 columns.
        let push = hex(Opcode.pushFrame.rawValue), mov = hex(Opcode.xmov.rawValue), br = hex(Opcode.brIfXult32.rawValue)
        let pad16 = String(repeating: " ", count: 16), pad4 = String(repeating: " ", count: 4)
        let line0: String = "       0: " + push + " 02 00 00 00" + pad16 + "push_frame 2"
        let line1: String = "       5: " + mov + " 13 00 00 00" + pad16 + "xmov x19, x0"
        let line2: String = "       a: " + br + " 01 00 00 00 fb ff ff ff" + pad4 + "br_if_xult32 x1, x0, -0x5    // target = 0x5"
        XCTAssertEqual(text.split(separator: "\n").map(String.init), [line0, line1, line2])
        let bare = Disassembler.disassemble(try e.finish(), options: .init(addresses: false, bytes: false))
        XCTAssertEqual(bare, "push_frame 2\nxmov x19, x0\nbr_if_xult32 x1, x0, -0x5    // target = 0x5\n")
    }

    func testSuperInstructionsCanShowWhatTheyStandFor() throws {
        var e = Encoder()
        e.pushFrame(4)
        e.xadd32Shl(XReg(0), XReg(2), XReg(1), 2)
        e.ret()
        let text = Disassembler.disassemble(try e.finish(), options: .init(addresses: false, bytes: false, fusions: true))
        XCTAssertEqual(text, """
            push_frame 4
            xadd32_shl x0, x2, x1, 2    // = xshl32_u8 t, index, shift; xadd32 dst, base, t
            ret

            """)
    }

    func testDamagedCodeEndsTheListingWithTheError() {
        let text = Disassembler.disassemble([Opcode.nop.rawValue, Opcode.xmov.rawValue, 1])
        XCTAssertTrue(text.hasSuffix("; bytecode truncated at offset 2\n"), text)
    }

    private func hex(_ byte: UInt8) -> String { byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }
}
