#!/usr/bin/env bash
# Builds C (and C++ without its library: FILE.cpp) into WASI modules with the
# Swift toolchain's clang and Debian's wasi-libc: build.sh [FILE.c...] (default:
# hello.c), writing FILE.wasm beside each.
# A file whose first line is "// cflags: FLAGS" is built with FLAGS too.
# Needs: apt-get install wasi-libc libclang-rt-14-dev-wasm32
set -euo pipefail
# Sources as absolute paths, then work from this folder (for the default, hello.c).
sources=()
for source in "$@"; do sources+=("$(cd "$(dirname "$source")" && pwd)/$(basename "$source")"); done
cd "$(dirname "$0")"
[ ${#sources[@]} -gt 0 ] || sources=(hello.c)
CLANG="${CLANG:-$(command -v clang)}"
SYSROOT_INCLUDE=/usr/include/wasm32-wasi
SYSROOT_LIB=/usr/lib/wasm32-wasi
BUILTINS=$(ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a 2>/dev/null | head -n 1 || true)
if [ ! -d "$SYSROOT_INCLUDE" ] || [ -z "$BUILTINS" ]; then
    echo "error: wasi-libc or the wasm32 compiler runtime is missing: apt-get install wasi-libc libclang-rt-14-dev-wasm32" >&2
    exit 1
fi
RESOURCE_DIR=$(dirname "$(dirname "$(dirname "$BUILTINS")")")
for source in "${sources[@]}"; do
    # A first line "// cflags: ..." adds flags for that file (-msimd128 for SIMD programs).
    extra=$(sed -n '1s|^// cflags: *||p' "$source")
    # shellcheck disable=SC2086
    "$CLANG" --target=wasm32-wasi --sysroot=/usr -isystem "$SYSROOT_INCLUDE" -L"$SYSROOT_LIB" \
        -resource-dir "$RESOURCE_DIR" -fuse-ld=lld -O2 $extra -o "${source%.*}.wasm" "$source"
    echo "built ${source%.*}.wasm"
done
