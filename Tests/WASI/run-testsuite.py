#!/usr/bin/env python3
"""Runs the official WASI test suite's preview1 programs with `sheave run`.

The suite is WebAssembly/wasi-testsuite, branch prod/testsuite-base: prebuilt
wasm32-wasip1 programs in C, Rust and AssemblyScript, each beside a JSON file
of arguments, environment, preopened directory, expected exit code and
expected output. Whoever runs this fetches them; nothing of theirs is
committed here.

    python3 Tests/WASI/run-testsuite.py SHEAVE TESTS [--dispatch tail|match] [--known FILE] [-v]
      SHEAVE: the sheave binary (swift build -c release --scratch-path .build-release --product sheave)
      TESTS:  the suite's tests/ folder (holding c/, rust/, assemblyscript/)
      --known: a file naming the programs known to fail (one `LANGUAGE/NAME` a line, `#` comments),
               as the suite's own expectation files do; then only a failure not named there, or a
               named program that passes (the file is out of date), makes the exit status 1

Each program runs as the suite's own Wasmtime adapter runs it: `--env K=V`
for its environment, its root directory preopened as `/` (a fresh copy per
program, so that what one writes no other sees), then its arguments. A
program passes when its exit status and, where the JSON gives one, its
standard output are as expected. Ends with `N passed, N failed`; exits 1 when
any failed (but see --known).
"""
import json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path


def cases(tests):
    for wasm in sorted(Path(tests).glob("*/testsuite/wasm32-wasip1/*.wasm")):
        config = wasm.with_suffix(".json")
        yield wasm, json.loads(config.read_text()) if config.exists() else {}


def run(sheave, wasm, config, dispatch, scratch):
    argv = [sheave, "run", "--dispatch", dispatch]
    for key, value in config.get("env", {}).items():
        argv += ["--env", f"{key}={value}"]
    if config.get("root"):
        root = Path(scratch) / "root"
        shutil.copytree(wasm.parent / config["root"], root, symlinks=True)
        argv += ["--dir", f"{root}::/"]
    argv += [str(wasm), *config.get("args", [])]
    try:
        p = subprocess.run(argv, capture_output=True, timeout=120, cwd=scratch)
    except subprocess.TimeoutExpired:
        return "timed out after 120 s"
    want = config.get("exit_code", 0)
    if p.returncode != want:
        tail = p.stderr.decode(errors="replace").strip().splitlines()[-3:]
        return f"exit status {p.returncode}, expected {want}: " + " / ".join(tail)
    if "stdout" in config and p.stdout.decode(errors="replace") != config["stdout"]:
        return f"standard output {p.stdout[:200]!r}, expected {config['stdout'][:200]!r}"
    return None


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    if verbose: args.remove("-v")
    dispatch = "tail"
    if "--dispatch" in args:
        at = args.index("--dispatch")
        dispatch = args[at + 1]
        del args[at:at + 2]
    known = set()
    if "--known" in args:
        at = args.index("--known")
        for line in open(args[at + 1]):
            line = line.split("#")[0].strip()
            if line: known.add(line)
        del args[at:at + 2]
    if len(args) != 2: raise SystemExit(__doc__)
    sheave, tests = os.path.abspath(args[0]), os.path.abspath(args[1])
    passed, failures = 0, []
    start = time.time()
    for wasm, config in cases(tests):
        with tempfile.TemporaryDirectory() as scratch:
            why = run(sheave, wasm, config, dispatch, scratch)
        name = f"{wasm.parts[-4]}/{wasm.stem}"
        if why is None:
            passed += 1
            if verbose: print(f"ok   {name}")
        else:
            failures.append(name)
            print(f"FAIL {name}: {why}")
    if passed + len(failures) == 0: raise SystemExit(f"no wasm32-wasip1 programs under {tests}")
    print(f"{passed} passed, {len(failures)} failed ({dispatch} loop, {time.time() - start:.0f} s)")
    if "--known" not in sys.argv: sys.exit(1 if failures else 0)
    unexpected = [f for f in failures if f not in known]
    stale = sorted(known - set(failures))
    if unexpected: print("failed, not known to fail:", ", ".join(unexpected))
    if stale: print("known to fail, but passed or absent (update the list):", ", ".join(stale))
    sys.exit(1 if unexpected or stale else 0)


if __name__ == "__main__":
    main()
