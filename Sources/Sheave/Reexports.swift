// What the Sheave module re-exports, so that `import Sheave` is enough to embed it:
// the value and extern types of WebAssembly (WasmKit's WasmTypes and WasmParser,
// the decoder Sheave reads modules with), and the bytecode's targets, proposals
// and trap kinds. Nothing of the compiler or the interpreter.
@_exported import enum SheaveBytecode.Target
@_exported import struct SheaveBytecode.Features
@_exported import enum SheaveBytecode.TrapCode
@_exported import enum WasmTypes.ValueType
@_exported import struct WasmTypes.ReferenceType
@_exported import enum WasmTypes.HeapType
@_exported import struct WasmTypes.FunctionType
@_exported import struct WasmParser.Limits
@_exported import typealias WasmParser.MemoryType
@_exported import struct WasmParser.TableType
@_exported import struct WasmParser.GlobalType
@_exported import enum WasmParser.Mutability
