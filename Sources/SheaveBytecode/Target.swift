/// A bytecode target, named as Wasmtime names Pulley's: pointer width and byte order.
///
/// The byte order is that of every multi-byte immediate in the bytecode, so a
/// big-endian target's code differs from a little-endian one's wherever an
/// immediate is wider than a byte. Sheave's bytecode holds no pointer-sized
/// field (registers are 64-bit slots on every target, branches are 32-bit
/// pc-relative, functions are reached through offsets and registries), so the
/// pointer width shows only in an artifact's header; it is still checked,
/// because the runtime that loads an artifact must be the one it names.
public enum Target: String, Sendable, CaseIterable {
    /// 32-bit pointers, little-endian.
    case pulley32
    /// 32-bit pointers, big-endian.
    case pulley32be
    /// 64-bit pointers, little-endian (x86_64, arm64).
    case pulley64
    /// 64-bit pointers, big-endian (s390x).
    case pulley64be

    /// The target of the machine running this code.
    public static var host: Target {
        Target(pointerWidth: MemoryLayout<Int>.size * 8, byteOrder: .host)
    }

    /// The target with this pointer width (32 or 64 bits) and byte order.
    public init(pointerWidth: Int, byteOrder: ByteOrder) {
        switch (pointerWidth, byteOrder) {
        case (32, .littleEndian): self = .pulley32
        case (32, .bigEndian): self = .pulley32be
        case (_, .littleEndian): self = .pulley64
        case (_, .bigEndian): self = .pulley64be
        }
    }

    /// The byte order of the bytecode's immediates.
    public var byteOrder: ByteOrder {
        switch self {
        case .pulley32, .pulley64: return .littleEndian
        case .pulley32be, .pulley64be: return .bigEndian
        }
    }

    /// The pointer width in bits: 32 or 64.
    public var pointerWidth: Int {
        switch self {
        case .pulley32, .pulley32be: return 32
        case .pulley64, .pulley64be: return 64
        }
    }
}
