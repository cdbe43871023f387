import SheaveBytecode

/// How a module is compiled.
public struct CompileOptions: Equatable, Sendable {
    /// Emit a `checkpoint` op at every function entry and loop header, where fuel
    /// is consumed and interruption is noticed. Without them code runs at full
    /// speed but can be neither metered nor interrupted.
    public var checkpoints: Bool
    /// The proposals a module may use.
    public var features: Features
    /// The target the bytecode is for: its immediates are in the target's byte order.
    public var target: Target

    /// Options; no checkpoints, every feature and the host's target by default.
    public init(checkpoints: Bool = false, features: Features = .all, target: Target = .host) {
        self.checkpoints = checkpoints
        self.features = features
        self.target = target
    }
}

/// A module compiled to Sheave bytecode: one image holding every defined function, and everything needed to instantiate it.
