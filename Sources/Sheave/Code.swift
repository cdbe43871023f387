import Atomics
import SheaveBytecode
import SheaveCompiler
import SheaveInterpreter

/// A lazily compiled module's functions (`Config.Compilation`): each is
/// validated, compiled and given a code image of its own the first time any
/// instance calls it, and every later instance, on any thread, takes that image.
/// Two threads that call an uncompiled function at once may both compile it; the
/// first image stored is the one every instance runs, the other is dropped (both
/// are the same code).
final class LazyFunctions: @unchecked Sendable {
    /// The module's sections with the function bodies (`CompiledModule(lazy:options:)`).
    let module: CompiledModule
    /// The module's bytes, which `module.info`'s bodies are read from.
    let bytes: [UInt8]
    private let images: [ManagedAtomicLazyReference<CodeImage>]
    /// One `lazy_entry` op per function: what its reference runs until it is compiled;
    /// where each starts in the stubs' bytecode.
    private let stubs: CodeImage
    private let stubOffsets: [Int]

    init(module: CompiledModule, bytes: [UInt8]) {
        self.module = module
        self.bytes = bytes
        images = module.info.codes.map { _ in ManagedAtomicLazyReference() }
        var stubs = Encoder(byteOrder: module.options.target.byteOrder)
        stubOffsets = module.info.codes.indices.map { i in
            defer { stubs.lazyEntry(UInt32(module.info.importedFunctionCount + i)) }
            return stubs.position
        }
        self.stubs = CodeImage(stubs.bytes)
    }

    /// The code defined function `i`'s reference starts with until it is compiled: a
    /// `lazy_entry` stub, which stops the run for the host to compile it (`RunResult.compile`).
    func stub(of i: Int) -> UnsafeRawPointer { stubs.address(at: stubOffsets[i]) }

    /// The image of defined function `i`, compiled now if no instance has called it yet.
    func image(of i: Int) throws(ModuleError) -> CodeImage {
        if let image = images[i].load() { return image }
        let compiled: (code: [UInt8], handlers: [ExceptionHandler])
        do {
            compiled = try module.compileFunction(i, bytes: bytes)
        } catch {
            throw ModuleError(error)
        }
        return images[i].storeIfNilThenLoad(CodeImage(compiled.code, functionStarts: [0], handlers: [compiled.handlers]))
    }

    /// How many functions are compiled.
    var compiledCount: Int { images.reduce(0) { $0 + ($1.load() == nil ? 0 : 1) } }

    /// The image of defined function `i` when some instance has compiled it, else nil.
    func compiledImage(of i: Int) -> CodeImage? { images[i].load() }

    /// The whole module compiled eagerly (for an artifact or a listing), as if the
    /// engine had compiled it so.
    func eager() throws(ModuleError) -> CompiledModule {
        var options = module.options
        options.lazy = false
        do {
            return try CompiledModule(bytes: bytes, options: options)
        } catch {
            throw ModuleError(error)
        }
    }
}

/// The code one instance runs: its module's image (compiled eagerly, or loaded
/// from an artifact), or, for a lazily compiled module, the image of each
/// function the instance has called so far, kept sorted by address for the
/// exception path and backtraces. Used on the store's thread only.
final class InstanceCode: CodeImages {
    enum Source {
        /// The image of every function, and where each starts in its bytecode (eager).
        case whole(CodeImage, functionOffsets: [Int])
        /// The functions compiled on first call (lazy).
        case lazy(LazyFunctions)
    }
    let source: Source
    /// Lazy: the images this instance has entered, by ascending base address, with
    /// their function (defined index).
    private var entered: [(image: CodeImage, function: Int)] = []

    init(_ source: Source) {
        self.source = source
    }

    /// The identity of the shared image (tests: instances of a module share it).
    var identity: ObjectIdentifier {
        if case .whole(let image, _) = source { return ObjectIdentifier(image) }
        return ObjectIdentifier(self)
    }

    /// The first op of defined function `i`, compiling it when it is lazy and no
    /// instance has yet.
    func entry(of i: Int) throws(ModuleError) -> UnsafeRawPointer {
        switch source {
        case .whole(let image, let offsets): return image.address(at: offsets[i])
        case .lazy(let functions): return enter(try functions.image(of: i), function: i)
        }
    }

    /// What defined function `i`'s reference starts with: its first op when its code
    /// exists already (always, eagerly compiled), else its `lazy_entry` stub.
    func referenceEntry(of i: Int) -> UnsafeRawPointer {
        switch source {
        case .whole(let image, let offsets): return image.address(at: offsets[i])
        case .lazy(let functions): return functions.compiledImage(of: i).map { enter($0, function: i) } ?? functions.stub(of: i)
        }
    }

    private func enter(_ image: CodeImage, function: Int) -> UnsafeRawPointer {
        let k = entered.partitioningIndex { $0.image.base >= image.base }
        if k == entered.count || entered[k].image !== image { entered.insert((image, function), at: k) }
        return image.address(at: 0)
    }

    func image(containing address: UnsafeRawPointer) -> CodeImage? {
        switch source {
        case .whole(let image, _): return image.image(containing: address)
        case .lazy: return found(address)?.image
        }
    }

    /// The defined function whose code holds `address`, and the address's bytecode
    /// offset from the function's first op.
    func function(at address: UnsafeRawPointer) -> (function: Int, offset: Int)? {
        switch source {
        case .whole(let image, let offsets):
            guard let offset = image.offset(of: address), let i = offsets.lastIndex(where: { $0 <= offset }) else { return nil }
            return (i, offset - offsets[i])
        case .lazy:
            guard let (image, function) = found(address), let offset = image.offset(of: address) else { return nil }
            return (function, offset)
        }
    }

    /// The offset of `address` in the module's bytecode (a profiler sample): eager code only.
    func codeOffset(of address: UnsafeRawPointer?) -> Int? {
        if case .whole(let image, _) = source { return image.offset(of: address) }
        return nil
    }

    private func found(_ address: UnsafeRawPointer) -> (image: CodeImage, function: Int)? {
        let k = entered.partitioningIndex { $0.image.base > address }
        guard k > 0, entered[k - 1].image.image(containing: address) != nil else { return nil }
        return entered[k - 1]
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, which must be false for
    /// a prefix of the array and true for the rest (binary search).
    fileprivate func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
