#!/usr/bin/env bash
# Checks, in a release binary, that every tail-loop handler passes control on with
# a jump: no handler body makes an indirect call (the dispatch to the next op), and
# no C-convention thunk in front of a handler calls it instead of jumping to it.
# A call there would grow the native stack with every op the tail loop runs.
# Usage: .ci/check-tail-calls.sh BINARY
set -euo pipefail
binary="$1"
objdump -d --no-show-raw-insn "$binary" | awk '
    /^[0-9a-f]+ <.*SheaveInterpreter[0-9]+tail_[A-Za-z0-9_]*>:$/ { name = $2; inside = 1; handlers++; next }
    /^[0-9a-f]+ <.*SheaveInterpreter[0-9]+tail_/ { name = $2; inside = 1; handlers++; next }
    /^[0-9a-f]+ </ { inside = 0; next }
    inside && /\tcall / {
        if ($0 ~ /call +\*/ || $0 ~ /tail_/) { print "not a tail call in " name ": " $0; bad++ }
    }
    END {
        if (handlers < 200) { print "expected the tail handlers in the binary, found " handlers; exit 1 }
        if (bad > 0) exit 1
        print handlers " tail handlers and thunks: every hand-off is a jump"
    }'
