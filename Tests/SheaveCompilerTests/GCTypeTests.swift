import Sheave
import SheaveBytecode
import SheaveCompiler
import WAT
import WasmTypes
import XCTest

/// GC's types (issue 23, first part): recursion groups, declared subtypes, struct
/// and array types, and what they mean for type identity, validation, indirect
/// calls, linking and artifacts.
final class GCTypeTests: XCTestCase {
    func info(_ wat: String) throws -> ModuleInfo {
        try CompiledModule(bytes: try wat2wasm(wat)).info
    }

    func refusal(_ wat: String, features: Features = .all) -> String? {
        do {
            _ = try CompiledModule(bytes: try wat2wasm(wat), options: CompileOptions(features: features))
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testTypesAreTheSameWhenTheirRecursionGroupsHaveTheSameShape() throws {
        let module = try info("""
            (module
              (type $a (func))                                          ;; 0
              (type $b (func))                                          ;; 1: the same as 0
              (rec (type $f1 (func)) (type (struct (field (ref $f1))))) ;; 2, 3
              (rec (type $f2 (func)) (type (struct (field (ref $f2))))) ;; 4, 5: the same as 2, 3
              (rec (type (func)) (type (func)))                         ;; 6, 7: neither is 0
              (type $s (sub (func)))                                    ;; 8: not final, so not 0
            )
            """)
        XCTAssertEqual(module.canonicalTypes, [0, 0, 2, 3, 2, 3, 6, 7, 8])
        XCTAssertTrue(module.isSubtype(.ref(ReferenceType(isNullable: false, heapType: .concrete(typeIndex: 4))),
                                       of: .ref(ReferenceType(isNullable: true, heapType: .concrete(typeIndex: 2)))))
        XCTAssertFalse(module.isSubtype(.ref(ReferenceType(isNullable: true, heapType: .concrete(typeIndex: 6))),
                                        of: .ref(ReferenceType(isNullable: true, heapType: .concrete(typeIndex: 0)))))
        // A struct type lies below struct, eq and any; a function type below func only.
        let structRef = ValueType.ref(ReferenceType(isNullable: true, heapType: .concrete(typeIndex: 3)))
        for top in [AbstractHeapType.structRef, .eq, .any] {
            XCTAssertTrue(module.isSubtype(structRef, of: .ref(ReferenceType(isNullable: true, heapType: .abstract(top)))), "\(top)")
        }
        XCTAssertFalse(module.isSubtype(structRef, of: .ref(ReferenceType(isNullable: true, heapType: .abstract(.arrayRef)))))
        XCTAssertFalse(module.isSubtype(structRef, of: .ref(ReferenceType(isNullable: true, heapType: .abstract(.funcRef)))))
        XCTAssertTrue(module.isSubtype(.ref(ReferenceType(isNullable: true, heapType: .abstract(.noneRef))), of: structRef))
        XCTAssertFalse(module.isSubtype(.ref(ReferenceType(isNullable: true, heapType: .abstract(.noFunc))), of: structRef))
    }

    func testValidationHoldsSubtypesToTheirSupertypes() {
        // A supertype must be declared before, not final, of the same kind, and matched.
        XCTAssertTrue(refusal("(module (type $t (func)) (type (sub $t (func))))")?.contains("sub type") ?? false)
        XCTAssertTrue(refusal("(module (type (sub 1 (func))) (type (sub (func))))")?.contains("unknown type") ?? false)
        XCTAssertTrue(refusal("(module (type $t (sub (func))) (type (sub $t (struct))))")?.contains("sub type") ?? false)
        XCTAssertTrue(refusal("(module (type $t (sub (func (result i32)))) (type (sub $t (func (result i64)))))")?.contains("sub type") ?? false)
        XCTAssertTrue(refusal("(module (type $t (sub (struct (field i32)))) (type (sub $t (struct))))")?.contains("sub type") ?? false)
        XCTAssertTrue(refusal("(module (type $t (sub (struct (field (mut i32))))) (type (sub $t (struct (field i32)))))")?.contains("sub type") ?? false)
        XCTAssertNil(refusal("(module (type $t (sub (struct (field i32)))) (type (sub $t (struct (field i32) (field f64)))))"))
        XCTAssertNil(refusal("""
            (module (type $t (sub (func (param (ref $t)) (result funcref))))
                    (type (sub $t (func (param funcref) (result (ref $t))))))
            """), "parameters widen, results narrow")
        // A struct type is no function type; a type outside the group names only earlier ones.
        // (module (type (struct)) (func (type 0))), in binary: the text encoder refuses it itself.
        let structFunction: [UInt8] = [0, 0x61, 0x73, 0x6D, 1, 0, 0, 0, 1, 3, 1, 0x5F, 0, 3, 2, 1, 0, 0x0A, 4, 1, 2, 0, 0x0B]
        XCTAssertThrowsError(try CompiledModule(bytes: structFunction)) { XCTAssertTrue("\($0)".contains("type mismatch"), "\($0)") }
        XCTAssertTrue(refusal("(module (rec (type (func (param (ref 1))))) (rec (type (func))))")?.contains("unknown type") ?? false)
        // GC's instructions are not compiled yet: a module using them is unsupported, not invalid.
        XCTAssertThrowsError(try CompiledModule(bytes: try wat2wasm("(module (type $a (array i8)) (global (ref $a) (array.new_default $a (i32.const 1))))"))) {
            XCTAssertEqual(($0 as? CompileError)?.kind, .unsupported, "\($0)")
        }
        XCTAssertThrowsError(try CompiledModule(bytes: try wat2wasm("(module (func (result i31ref) (ref.i31 (i32.const 1))))"))) {
            XCTAssertEqual(($0 as? CompileError)?.kind, .unsupported, "\($0)")
        }
        // A chain of supertypes at most 63 deep (a store keeps each type's whole chain).
        let chain = { (n: Int) in "(module (type (sub (func)))" + (1...n).map { "(type (sub \($0 - 1) (func)))" }.joined() + ")" }
        XCTAssertNil(refusal(chain(63)))
        XCTAssertTrue(refusal(chain(64))?.contains("more than 63") ?? false)
        // GC's types need the feature.
        XCTAssertTrue(refusal("(module (type (struct)))", features: Features.all.subtracting(.gc))?.contains("needs a feature") ?? false)
        XCTAssertTrue(refusal("(module (global anyref (ref.null any)))", features: Features.all.subtracting(.gc))?.contains("needs a feature") ?? false)
    }

    /// `call_indirect` takes a callee of the type it names or of a declared subtype of
    /// it; a type of another recursion group, equal in every other way, traps.
    func testIndirectCallsAcceptDeclaredSubtypesAndRefuseOtherGroups() throws {
        let engine = Engine()
        let module = try Module(engine: engine, wat: """
            (module
              (type $t (sub (func (result i32))))
              (type $u (sub $t (func (result i32))))
              (rec (type $v (func (result i32))) (type (struct)))
              (table 3 funcref)
              (elem (i32.const 0) $f $g $h)
              (func $f (type $t) (i32.const 1))
              (func $g (type $u) (i32.const 2))
              (func $h (type $v) (i32.const 3))
              (func (export "as_t") (param i32) (result i32) (call_indirect (type $t) (local.get 0)))
              (func (export "as_u") (param i32) (result i32) (call_indirect (type $u) (local.get 0))))
            """)
        let instance = try Linker().instantiate(module, in: Store(engine: engine))
        XCTAssertEqual(try instance.invoke("as_t", [.i32(0)]), [.i32(1)])
        XCTAssertEqual(try instance.invoke("as_t", [.i32(1)]), [.i32(2)], "a $u is a $t")
        XCTAssertEqual(try instance.invoke("as_u", [.i32(1)]), [.i32(2)])
        for (name, index) in [("as_u", 0), ("as_t", 2), ("as_u", 2)] {
            XCTAssertThrowsError(try instance.invoke(name, [.i32(UInt32(index))]), "\(name) \(index)") {
                XCTAssertEqual(($0 as? Trap)?.code, .badSignature, "\($0)")
            }
        }
    }

    /// Modules that declare the same recursion group share its types: an import
    /// matches an export of the same or a declared subtype, not of another group.
    func testLinkingComparesCanonicalTypesAcrossModules() throws {
        let engine = Engine()
        let store = Store(engine: engine)
        let exporter = try Linker().instantiate(try Module(engine: engine, wat: """
            (module
              (rec (type $f (sub (func (result i32)))) (type (struct)))
              (type $g (sub $f (func (result i32))))
              (func (export "f") (type $f) (i32.const 7))
              (func (export "g") (type $g) (i32.const 8)))
            """), in: store)
        func link(_ wat: String) throws -> Instance {
            var linker = Linker()
            linker.define("m", instance: exporter)
            return try linker.instantiate(try Module(engine: engine, wat: wat), in: store)
        }
        let importer = try link("""
            (module
              (rec (type $f (sub (func (result i32)))) (type (struct)))
              (import "m" "g" (func $g (type $f)))
              (func (export "call") (result i32) (call $g)))
            """)
        XCTAssertEqual(try importer.invoke("call", []), [.i32(8)], "g's type is a subtype of the import's")
        XCTAssertThrowsError(try link("""
            (module (rec (type $f (func (result i32))) (type (array i8))) (import "m" "f" (func (type $f))))
            """)) { XCTAssertTrue("\($0)".contains("incompatible import type"), "\($0)") }
        XCTAssertThrowsError(try link("(module (import \"m\" \"f\" (func (result i32))))"), "a plain type is not a type of a group of two") {
            XCTAssertTrue("\($0)".contains("incompatible import type"), "\($0)")
        }
    }

    /// Found comparing with Wasmtime (session 20): a global's or a table's typed
    /// reference was compared by type index across modules, so a global of
    /// `(ref null $p)`, type 0 `(func (param i32) (result i32))` in its module, was
    /// imported as `(ref null $f)`, type 0 `(func (result i32))` in the importer's, and
    /// `call_ref` then called it without its argument; and the same type at another
    /// index was refused. Types are compared by canonical id now.
    func testTypedGlobalsAndTablesImportByTypeNotByIndex() throws {
        let engine = Engine()
        let store = Store(engine: engine)
        let exporter = try Linker().instantiate(try Module(engine: engine, wat: """
            (module
              (type $p (func (param i32) (result i32)))
              (func $inc (type $p) (i32.add (local.get 0) (i32.const 1)))
              (global (export "g") (ref null $p) (ref.func $inc))
              (global (export "mg") (mut (ref null $p)) (ref.func $inc))
              (table (export "t") 1 (ref null $p) (ref.func $inc)))
            """), in: store)
        func link(_ wat: String) throws -> Instance {
            var linker = Linker()
            linker.define("m", instance: exporter)
            return try linker.instantiate(try Module(engine: engine, wat: wat), in: store)
        }
        for (kind, importWAT) in [("global", "(global $g (ref null $f))"), ("mutable global", "(global $g (mut (ref null $f)))"),
                                  ("table", "(table $g 1 (ref null $f))")] {
            let name = kind == "table" ? "t" : kind == "global" ? "g" : "mg"
            XCTAssertThrowsError(try link("(module (type $f (func (result i32))) (import \"m\" \"\(name)\" \(importWAT)))"), kind) {
                XCTAssertTrue("\($0)".contains("incompatible import type"), "\(kind): \($0)")
            }
        }
        let importer = try link("""
            (module
              (type $x (func))
              (type $p (func (param i32) (result i32)))
              (import "m" "g" (global $g (ref null $p)))
              (import "m" "mg" (global $mg (mut (ref null $p))))
              (import "m" "t" (table $t 1 (ref null $p)))
              (func (export "call") (result i32)
                (i32.add (call_ref $p (i32.const 41) (global.get $g))
                         (i32.add (call_ref $p (i32.const 1) (global.get $mg)) (call_ref $p (i32.const 2) (table.get $t (i32.const 0)))))))
            """)
        XCTAssertEqual(try importer.invoke("call", []), [.i32(42 + 2 + 3)])
        // An immutable global may be imported at a supertype: funcref.
        XCTAssertNoThrow(try link("(module (import \"m\" \"g\" (global funcref)))"))
    }

    func testArtifactsKeepRecursionGroupsAndSupertypes() throws {
        let wat = """
            (module
              (rec (type $f (sub (func (param (ref null $s)) (result i32)))) (type $s (sub (struct (field (mut i8)) (field (ref null $f))))))
              (type $a (array (mut i16)))
              (type $g (sub final $f (func (param (ref null $s)) (result i32))))
              (func (export "f") (type $g) (i32.const 5)))
            """
        let compiled = try CompiledModule(bytes: try wat2wasm(wat))
        let loaded = try CompiledModule(deserializing: compiled.serialized())
        XCTAssertEqual(loaded.info.definedTypes, compiled.info.definedTypes)
        XCTAssertEqual(loaded.info.canonicalTypes, compiled.info.canonicalTypes)
        XCTAssertEqual(loaded.info.definedTypes.map(\.group), [0..<2, 0..<2, 2..<3, 3..<4])
        XCTAssertEqual(loaded.info.definedTypes[3].supertype, 0)
    }
}
