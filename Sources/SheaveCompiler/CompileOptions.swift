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
    /// Compile a large module's functions on every core, as Wasmtime does by default.
    /// The bytecode is the same either way; it is not part of an artifact.
    public var parallel: Bool
    /// Each function is compiled alone, when it is first called (`CompiledModule(lazy:options:)`),
    /// into code of its own: a direct call to another function goes through that
    /// function's reference (`ref_func`, then `call_ref`), a call to itself stays
    /// pc-relative. Not part of an artifact (an artifact is compiled whole).
    public var lazy: Bool

    /// Options; no checkpoints, every feature, the host's target and parallel compilation by default.
    public init(checkpoints: Bool = false, features: Features = .all, target: Target = .host, parallel: Bool = true, lazy: Bool = false) {
        self.checkpoints = checkpoints
        self.features = features
        self.target = target
        self.parallel = parallel
        self.lazy = lazy
    }
}

/// A module compiled to Sheave bytecode: one image holding every defined function, and everything needed to instantiate it.
