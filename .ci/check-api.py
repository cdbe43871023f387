#!/usr/bin/env python3
"""The embedding API shows nothing of the engine: no public declaration of the
Sheave, SheaveWASI or SheaveWAST modules names a type of SheaveCompiler or
SheaveInterpreter. Reads the symbol graphs of `swift package dump-symbol-graph`
(the folder is the argument) and prints each offending declaration."""
import glob, json, os, sys

folder = sys.argv[1]
engine = ("s:14SheaveCompiler", "s:17SheaveInterpreter")
offending = []
for path in sorted(glob.glob(os.path.join(folder, "*.symbols.json"))):
    module = os.path.basename(path).split(".")[0].split("@")[0]
    if module not in ("Sheave", "SheaveWASI", "SheaveWAST"):
        continue
    for symbol in json.load(open(path))["symbols"]:
        if symbol["accessLevel"] not in ("public", "open"):
            continue
        named = [f["spelling"] for f in symbol.get("declarationFragments", [])
                 if f.get("kind") == "typeIdentifier" and f.get("preciseIdentifier", "").startswith(engine)]
        if named:
            title = "".join(f["spelling"] for f in symbol["declarationFragments"])
            offending.append(f"{module}: {title}  (names {', '.join(named)})")
if offending:
    print("error: the embedding API names engine types:")
    print("\n".join("  " + line for line in offending))
    sys.exit(1)
print("embedding API: no public declaration names a type of SheaveCompiler or SheaveInterpreter")
