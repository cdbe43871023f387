import SheaveBytecode
import SheaveInterpreter
import XCTest

/// Memory bounds, tables, branch tables, invalid code, on every dispatch loop.
final class TrapAndControlTests: XCTestCase {
    let x0 = XReg(0), x1 = XReg(1)

    func testMemoryAccessesAreBoundsCheckedAtTheLastByte() {
        let load = assemble { e in
            e.pushFrame(2)
            e.xload32(XReg(0), XReg(0), 4)       // address x0 + 4
            e.ret()
        }
        let memory = { () -> LinearMemory? in
            let m = LinearMemory(pages: 1)!
            m.base.storeBytes(of: UInt32(0xCAFE_F00D).littleEndian, toByteOffset: 65532, as: UInt32.self)
            return m
        }
        XCTAssertEqual(callAll(load, [65528], memory: memory), .values([0xCAFE_F00D]))
        XCTAssertEqual(callAll(load, [65529], memory: memory), .trap(.memoryOutOfBounds))
        XCTAssertEqual(callAll(load, [0xFFFF_FFFF], memory: memory), .trap(.memoryOutOfBounds), "address + offset does not wrap")
        XCTAssertEqual(callAll(load, [0]), .trap(.memoryOutOfBounds), "no memory at all")

        let store = assemble { e in
            e.pushFrame(2)
            e.xstore16(XReg(0), 0xFFFF_FFFF, XReg(1))
            e.ret()
        }
        XCTAssertEqual(callAll(store, [0, 1], memory: memory), .trap(.memoryOutOfBounds))
    }

    func testLoadsExtendAndStoresTruncate() {
        let code = assemble { e in
            e.pushFrame(4)
            e.xstore16(XReg(0), 10, XReg(1))     // memory[10..<12] = low16(x1)
            e.xload8S64(XReg(2), XReg(0), 11)    // sign-extended high byte
            e.xload16U32(XReg(3), XReg(0), 10)
            e.xadd64(XReg(0), XReg(2), XReg(3))
            e.ret()
        }
        // 0x80FF: high byte 0x80 -> -128; u16 -> 0x80FF
        XCTAssertEqual(callAll(code, [0, 0x1_80FF], memory: { LinearMemory(pages: 1) }), .values([UInt64(i64: -128 + 0x80FF)]))
    }

    func testMemoryGrowReturnsOldSizeOrMinusOne() throws {
        let grow = assemble { e in
            e.pushFrame(2)
            e.memoryGrow(XReg(0), XReg(0), 0)
            e.memorySize(XReg(1), 0)
            e.xshl64U8(XReg(1), XReg(1), 32)
            e.xor64(XReg(0), XReg(0), XReg(1))   // (size << 32) | grow result
            e.ret()
        }
        for mode in dispatchModes {
            let memory = LinearMemory(pages: 1, maximumPages: 4)!
            XCTAssertEqual(call(grow, [2], mode: mode, memory: memory), .values([3 << 32 | 1]))
            XCTAssertEqual(call(grow, [2], mode: mode, memory: memory), .values([3 << 32 | 0xFFFF_FFFF]), "past the maximum")
            XCTAssertEqual(call(grow, [0xFFFF_FFFF], mode: mode, memory: memory), .values([3 << 32 | 0xFFFF_FFFF]), "a huge request")
            XCTAssertEqual(memory.byteCount, 3 * 65536)
        }
        // A grown memory is zero-filled and accessible at once, in the same call.
        let growThenLoad = assemble { e in
            e.pushFrame(2)
            e.memoryGrow(XReg(1), XReg(0), 0)
            e.xconst32(XReg(0), 65536 * 2 - 8)
            e.xload64(XReg(0), XReg(0), 0)
            e.ret()
        }
        XCTAssertEqual(callAll(growThenLoad, [1], memory: { LinearMemory(pages: 1) }), .values([0]))
    }

    func testBranchTableTakesTheDefaultPastTheEnd() {
        let code = assemble { e in
            let a = e.makeLabel(), b = e.makeLabel(), other = e.makeLabel()
            e.pushFrame(2)
            e.brTable32(XReg(0), [a, b, other])
            e.bind(a)
            e.xconst32(XReg(0), 100)
            e.ret()
            e.bind(b)
            e.xconst32(XReg(0), 200)
            e.ret()
            e.bind(other)
            e.xconst32(XReg(0), 300)
            e.ret()
        }
        XCTAssertEqual(callAll(code, [0]), .values([100]))
        XCTAssertEqual(callAll(code, [1]), .values([200]))
        XCTAssertEqual(callAll(code, [2]), .values([300]))
        XCTAssertEqual(callAll(code, [0xFFFF_FFFF]), .values([300]))
    }

    func testCompareAndBranch() {
        // max(a, b) signed, through br_if_xslt32, and a < 10 through the immediate form.
        let code = assemble { e in
            let takeB = e.makeLabel(), small = e.makeLabel()
            e.pushFrame(2)
            e.brIfXslt32I32(XReg(0), 10, small)
            e.brIfXslt32(XReg(0), XReg(1), takeB)
            e.ret()
            e.bind(takeB)
            e.xmov(XReg(0), XReg(1))
            e.ret()
            e.bind(small)
            e.xconst32(XReg(0), -1)
            e.ret()
        }
        XCTAssertEqual(callAll(code, [20, 30]), .values([30]))
        XCTAssertEqual(callAll(code, [40, 30]), .values([40]))
        XCTAssertEqual(callAll(code, [UInt64(i32: -5), 30]), .values([0xFFFF_FFFF]))
    }

    func testACalleeFrameMayStartRightAfterLiveRegisters() {
        // The link goes on the link stack, so a call at frame 1 leaves x0 intact.
        var e = Encoder()
        let double = e.makeLabel()
        e.pushFrame(2)                       // x0 live, x1 the callee's x0
        e.xconst32(XReg(0), 5)
        e.xconst32(XReg(1), 7)
        e.call(double, 1)
        e.xadd32(XReg(0), XReg(0), XReg(1))  // 5 + 14
        e.ret()
        e.bind(double)
        e.pushFrame(1)
        e.xadd32(XReg(0), XReg(0), XReg(0))
        e.ret()
        XCTAssertEqual(callAll(CodeImage(try! e.finish()), []), .values([19]))
    }

    func testIndirectCallsCheckIndexNullAndSignature() {
        // Function 0 (offset 0): call_indirect table 0, signature 1, index x0, frame 3; return its x0.
        // The callee at `double` doubles x0; a host entry calls host 9.
        var e = Encoder()
        let double = e.makeLabel()
        e.pushFrame(4)
        e.xmov(XReg(3), XReg(1))
        e.callIndirect(0, 1, XReg(0), 3)
        e.xmov(XReg(0), XReg(3))
        e.ret()
        e.bind(double)
        let doubleOffset = e.position
        e.pushFrame(1)
        e.xadd32(XReg(0), XReg(0), XReg(0))
        e.ret()
        let code = CodeImage(try! e.finish())
        // Signature ids: the module's type i has canonical id 10 + i.
        for mode in dispatchModes {
            let table = FunctionTable(count: 4)
            let context = ExecutionContext(memory: nil, tables: [table], signatures: [10, 11, 12])
            let vm = VM(dispatchMode: mode, context: context)
            var functions: [UInt64] = []
            functions.append(vm.register(FunctionRef(code: code.address(at: doubleOffset), signature: 11, context: context.identity, hostID: 0, slots: 1)))
            functions.append(vm.register(FunctionRef(code: code.address(at: doubleOffset), signature: 12, context: context.identity, hostID: 0, slots: 1)))
            functions.append(vm.register(FunctionRef(code: nil, signature: 11, context: nil, hostID: 9, slots: 1)))
            // The same code, but belonging to another context: it goes through the host.
            functions.append(vm.register(FunctionRef(code: code.address(at: doubleOffset), signature: 11, context: nil, hostID: 9, slots: 1)))
            XCTAssertEqual(functions, [1, 2, 3, 4], "a reference is 1 + the registry index")
            for i in 0..<3 { table[i] = functions[i] }
            func run(_ index: UInt64) -> Outcome {
                do {
                    return .values(try vm.invoke(code.address(at: 0), arguments: [index, 21], resultCount: 1) { id, vm in
                        XCTAssertEqual(id, 9)
                        vm.hostSlots[0] += 1000
                    })
                } catch {
                    return .trap((error as! VMTrap).code)
                }
            }
            XCTAssertEqual(run(0), .values([42]))
            XCTAssertEqual(run(1), .trap(.badSignature))
            XCTAssertEqual(run(2), .values([1021]))
            XCTAssertEqual(run(3), .trap(.indirectCallToNull))
            XCTAssertEqual(run(4), .trap(.tableOutOfBounds))
            XCTAssertEqual(run(0xFFFF_FFFF), .trap(.tableOutOfBounds))
            for forged: UInt64 in [5, 0x7FFF_0000_1234, .max] {
                table[3] = forged
                XCTAssertEqual(run(3), .trap(.badSignature), "a value naming no registered function traps")
            }
            table[3] = functions[3]
            XCTAssertEqual(run(3), .values([1021]), "a function of another context goes through the host")
        }
    }

    /// The code image puts a handler address in front of every op and rewrites
    /// branch offsets for it; outside, offsets stay the bytecode's.
    func testTheCodeImageMapsBytecodeOffsetsBothWays() throws {
        var e = Encoder()
        let loop = e.makeLabel(), done = e.makeLabel()
        e.pushFrame(3)
        e.xconst32(XReg(1), 0)
        e.bind(loop)
        e.brIfXeqz32(XReg(0), done)
        e.xadd32(XReg(1), XReg(1), XReg(0))
        e.xadd32I32(XReg(0), XReg(0), -1)
        e.jump(loop)
        e.bind(done)
        e.xmov(XReg(0), XReg(1))
        e.ret()
        let bytes = try e.finish()
        let code = CodeImage(bytes)
        XCTAssertEqual(callAll(code, [10]), .values([55]))
        var disassembler = Disassembler()
        let starts = try Decoder.decodeAll(bytes, into: &disassembler).map(\.offset)
        XCTAssertEqual(starts.count, 8)
        for start in starts {
            let address = code.address(at: start)
            XCTAssertEqual(code.offset(of: address), start)
            XCTAssertEqual(code.offset(of: address + 3), start, "an address inside the header is the op")
            XCTAssertEqual(code.offset(of: address + 9), start + 1, "past the header, bytes count as the bytecode's")
        }
        XCTAssertNil(code.offset(of: nil))
    }

    /// Bytes the compiler never writes still run safely: a branch into the middle
    /// of an op and an op cut short trap as invalid opcodes, in both loops.
    func testBadBranchTargetsAndTruncatedOpsTrap() throws {
        var e = Encoder()
        e.pushFrame(2)
        e.xconst32(XReg(0), 7)
        e.ret()
        var bytes = try e.finish()
        // jump +3: into the middle of the xconst32 at offset 5 (push_frame is 5 bytes).
        let jump: [UInt8] = [Opcode.jump.rawValue, 8, 0, 0, 0]
        bytes = Array(bytes[0..<5]) + jump + Array(bytes[5...])
        XCTAssertEqual(callAll(CodeImage(bytes), []), .trap(.invalidOpcode))
        var f = Encoder()
        f.pushFrame(2)
        f.xadd32(XReg(0), XReg(0), XReg(1))
        let whole = try f.finish()
        XCTAssertEqual(callAll(CodeImage(Array(whole.dropLast())), [1, 2]), .trap(.invalidOpcode))
        f.ret()
        XCTAssertEqual(callAll(CodeImage(try f.finish() + [0xFF, 0x01]), [1, 2]), .values([3]), "the ops before a cut-short one run")
        XCTAssertNil(Opcode(rawValue: 0xFE), "CodeImage marks malformed ops with 0xFE")
    }

    func testInvalidOpcodesAndTheTrapOpTrap() {
        XCTAssertEqual(callAll(CodeImage([0xFE]), []), .trap(.invalidOpcode))
        XCTAssertEqual(callAll(CodeImage([0xFF, 0xFF, 0xFF]), []), .trap(.invalidOpcode))
        let unreachable = assemble { $0.trap(.unreachable) }
        XCTAssertEqual(callAll(unreachable, []), .trap(.unreachable))
    }

    /// A v128 computed in registers: two i32x4 splats added, one lane extracted. In a
    /// build without the `InterpreterSIMD` trait the first SIMD op traps instead.
    func testSIMDOpsRunOrTrapAsDisabled() {
        let code = assemble { e in
            e.pushFrame(8)
            e.i32x4Splat(VReg(2), XReg(0))
            e.i32x4Splat(VReg(4), XReg(1))
            e.i32x4Add(VReg(2), VReg(2), VReg(4))
            e.i32x4ReplaceLane(VReg(2), VReg(2), XReg(1), 3)
            e.i32x4ExtractLane(XReg(0), VReg(2), 2)
            e.i32x4ExtractLane(XReg(1), VReg(2), 3 + 4)  // lane immediates are masked to the lane count
            e.ret()
        }
        #if InterpreterSIMD
        XCTAssertEqual(callAll(code, [40, 2], results: 2), .values([42, 2]))
        #else
        XCTAssertEqual(callAll(code, [40, 2], results: 2), .trap(.disabledOpcode))
        XCTAssertEqual(TrapCode.disabledOpcode.description, "disabled opcode")
        #endif
    }

    func testArgumentsThatDoNotFitTheStackTrap() {
        let code = assemble { e in e.ret() }
        let vm = VM(stackSize: 64)
        XCTAssertThrowsError(try vm.invoke(code.address(at: 0), arguments: Array(repeating: 0, count: 100), resultCount: 0)) {
            XCTAssertEqual(($0 as? VMTrap)?.code, .stackOverflow)
        }
        XCTAssertEqual(vm.depth, 0)
    }
}
