import WasmParser
import WasmTypes

/// An operand a constant expression pushes.
package enum ConstantOperand {
    case i32(Int32), i64(Int64), f32(UInt32), f64(UInt64)
    /// The 16 bytes of a `v128.const`, lane 0 first.
    case v128([UInt8])
    case refNull(HeapType)
    case refFunc(UInt32)
    case globalGet(UInt32)
}

/// An arithmetic instruction of the extended constant expressions.
package enum ConstantOperation {
    case i32Add, i32Sub, i32Mul, i64Add, i64Sub, i64Mul

    /// The type of both operands and of the result.
    package var type: ValueType {
        switch self {
        case .i32Add, .i32Sub, .i32Mul: return .i32
        case .i64Add, .i64Sub, .i64Mul: return .i64
        }
    }

    /// The result on the operands' bits (an i32's upper half is ignored and left zero).
    package func apply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        switch self {
        case .i32Add: return UInt64(UInt32(truncatingIfNeeded: a &+ b))
        case .i32Sub: return UInt64(UInt32(truncatingIfNeeded: a &- b))
        case .i32Mul: return UInt64(UInt32(truncatingIfNeeded: a) &* UInt32(truncatingIfNeeded: b))
        case .i64Add: return a &+ b
        case .i64Sub: return a &- b
        case .i64Mul: return a &* b
        }
    }
}

/// Why a constant expression is refused: an instruction it may not hold, or
/// operands that do not add up to one value.
package enum ConstantExpressionError: Error {
    case notConstant
    case typeMismatch
}

extension Array where Element == Instruction {
    /// Runs the constant expression over any domain: the one place that knows which
    /// instructions a constant expression may hold and how they use the stack.
    /// Validation folds it over types, instantiation over values.
    ///
    /// - Parameters:
    ///   - operand: the value (or type) an operand instruction pushes.
    ///   - operation: the value (or type) an arithmetic instruction makes of its two
    ///     operands, the first pushed first.
    /// - Throws: `ConstantExpressionError` for an instruction a constant expression
    ///   may not hold or a stack that does not end with one value; what `operand`
    ///   and `operation` throw.
    package func foldConstant<V>(
        operand: (ConstantOperand) throws -> V,
        operation apply: (ConstantOperation, V, V) throws -> V
    ) throws -> V {
        var stack: [V] = []
        for instruction in self {
            switch instruction {
            case .i32Const(let v): stack.append(try operand(.i32(v)))
            case .i64Const(let v): stack.append(try operand(.i64(v)))
            case .f32Const(let v): stack.append(try operand(.f32(v.bitPattern)))
            case .f64Const(let v): stack.append(try operand(.f64(v.bitPattern)))
            case .v128Const(let v): stack.append(try operand(.v128(v.bytes)))
            case .refNull(let heap): stack.append(try operand(.refNull(heap)))
            case .refFunc(let index): stack.append(try operand(.refFunc(index)))
            case .globalGet(let index): stack.append(try operand(.globalGet(index)))
            case .binary(let op):
                let operation: ConstantOperation
                switch op {
                case .i32Add: operation = .i32Add
                case .i32Sub: operation = .i32Sub
                case .i32Mul: operation = .i32Mul
                case .i64Add: operation = .i64Add
                case .i64Sub: operation = .i64Sub
                case .i64Mul: operation = .i64Mul
                default: throw ConstantExpressionError.notConstant
                }
                guard stack.count >= 2 else { throw ConstantExpressionError.typeMismatch }
                let b = stack.removeLast(), a = stack.removeLast()
                stack.append(try apply(operation, a, b))
            case .end: break
            default: throw ConstantExpressionError.notConstant
            }
        }
        guard stack.count == 1 else { throw ConstantExpressionError.typeMismatch }
        return stack[0]
    }
}
