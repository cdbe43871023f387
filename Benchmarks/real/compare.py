#!/usr/bin/env python3
"""Runs the real-program benchmarks (prepare.py's commands) on every runtime.

    compare.py DIR RUNS RUNTIME=COMMAND...

For each program in DIR (NAME.wasm and NAME-load.wasm) and each runtime, RUNS
rounds interleaved (round by round, program by program, runtime by runtime),
whole processes: `COMMAND DIR/NAME.wasm`. Prints, as Markdown tables, the
median wall time of the program, of its `-load` twin (read, compile,
instantiate, exit: the start-up a program pays before its first instruction)
and the median peak resident memory, with the first runtime's ratio to each
other and their geometric means. A run that exits non-zero (a program traps
when its result is wrong) is a failure: the runtime's cell says so and the
ratio leaves that program out.
"""
import math
import os
import pathlib
import shlex
import statistics
import subprocess
import sys
import time


def run(command: list, path: pathlib.Path):
    start = time.perf_counter()
    process = subprocess.Popen(command + [str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    return (seconds, usage.ru_maxrss / 1024) if os.waitstatus_to_exitcode(status) == 0 else None


def main() -> None:
    folder, runs = pathlib.Path(sys.argv[1]), int(sys.argv[2])
    runtimes = dict(arg.split("=", 1) for arg in sys.argv[3:])
    commands = {name: shlex.split(command) for name, command in runtimes.items()}
    names = sorted(p.stem for p in folder.glob("*.wasm") if not p.stem.endswith("-load"))
    results = {(n, r, kind): [] for n in names for r in runtimes for kind in ("run", "load")}
    for _ in range(runs):
        for name in names:
            for runtime, command in commands.items():
                for kind, path in (("run", folder / f"{name}.wasm"), ("load", folder / f"{name}-load.wasm")):
                    results[(name, runtime, kind)].append(run(command, path))

    def median(name, runtime, kind, field):
        values = results[(name, runtime, kind)]
        return None if None in values else statistics.median(v[field] for v in values)

    first, others = list(runtimes)[0], list(runtimes)[1:]

    def table(title, kind, field, scale, unit, ratios):
        print(f"{title}\n")
        header = ["program", "size (KiB)"] + [f"{r} ({unit})" for r in runtimes]
        header += [f"{first}/{r}" for r in others] if ratios else []
        print("| " + " | ".join(header) + " |")
        print("|---|" + "---:|" * (len(header) - 1))
        logs = {r: [] for r in others}
        for name in names:
            cells = [name, "%.0f" % ((folder / f"{name}.wasm").stat().st_size / 1024)]
            values = {r: median(name, r, kind, field) for r in runtimes}
            cells += ["fails" if values[r] is None else ("%.1f" if scale == 1 else "%.0f") % (values[r] * scale) for r in runtimes]
            if ratios:
                for r in others:
                    if values[first] is None or values[r] is None:
                        cells.append("—")
                    else:
                        cells.append("%.2f" % (values[first] / values[r]))
                        logs[r].append(math.log(values[first] / values[r]))
            print("| " + " | ".join(cells) + " |")
        if ratios:
            means = ["**%.2f**" % math.exp(sum(logs[r]) / len(logs[r])) if logs[r] else "—" for r in others]
            print("| **geometric mean** |" + " |" * len(runtimes) + " " + " | ".join(means) + " |")
        print()

    table("Whole run (ms, median)", "run", 0, 1000, "ms", True)
    table("Start-up: the same module with a `_start` that returns at once (ms, median)", "load", 0, 1000, "ms", True)
    table("Peak resident memory of the whole run (MiB, median)", "run", 1, 1, "MiB", True)


if __name__ == "__main__":
    main()
