// cflags: -fwasm-exceptions -mllvm -wasm-use-legacy-eh=false -fno-rtti
// C++ exceptions on WebAssembly's exception handling (issue 21): clang lowers
// try/catch to try_table, a throw to the `__cpp_exception` tag, and the cleanup
// of an object's destructor on the way out to catch_all_ref and throw_ref.
// There is no libc++abi for wasm here, so the three runtime functions a
// `catch (...)` and a rethrow call are defined below, and a throw is
// `__builtin_wasm_throw` of the `__cpp_exception` tag (index 0).
#include <stdio.h>
#include <stdlib.h>

struct Failure {
    int code;
    const char *what;
};

// The exception being handled, as the catch handler's `__cxa_begin_catch` got it.
static Failure *current;

extern "C" void *__cxa_begin_catch(void *exception) {
    current = static_cast<Failure *>(exception);
    return exception;
}
extern "C" void __cxa_end_catch() {}
extern "C" [[noreturn]] void __cxa_rethrow() { __builtin_wasm_throw(0, current); }

[[noreturn, gnu::noinline]] static void fail(int code, const char *what) {
    Failure *failure = static_cast<Failure *>(malloc(sizeof(Failure)));
    failure->code = code;
    failure->what = what;
    __builtin_wasm_throw(0, failure);
}

static int destroyed = 0;
struct Guard {
    int id;
    ~Guard() { destroyed++; }
};

// Recursion with an object to destroy in every frame; throws at depth `at`.
[[gnu::noinline]] static int descend(int n, int at) {
    Guard guard{n};
    if (n == at) fail(n, "the bottom");
    if (n == 0) return 0;
    return descend(n - 1, at) + 1;
}

[[gnu::noinline]] static int digit(char c) {
    if (c < '0' || c > '9') fail(c, "not a digit");
    return c - '0';
}

static int sumDigits(const char *text, int *bad) {
    int sum = 0;
    for (; *text; text++) {
        try {
            sum += digit(*text);
        } catch (...) {
            (*bad)++;
        }
    }
    return sum;
}

[[gnu::noinline]] static int rethrowing(int n) {
    try {
        return descend(n, n / 2);
    } catch (...) {
        current->code += 1000;
        throw;
    }
}

int main(int argc, char **argv) {
    int bad = 0;
    int sum = sumDigits("12a3b45c", &bad);
    printf("digits: sum %d, %d not digits\n", sum, bad);
    try {
        descend(50, 20);
        puts("not reached");
    } catch (...) {
        printf("caught \"%s\" at %d, %d destructors ran\n", current->what, current->code, destroyed);
    }
    destroyed = 0;
    try {
        rethrowing(10);
    } catch (...) {
        printf("rethrown: code %d, %d destructors ran\n", current->code, destroyed);
    }
    printf("no throw: %d\n", descend(5, -1));
    int caught = 0;
    for (int i = 0; i < 100000; i++) {
        try {
            if (i % 7 == 0) fail(i, "in a loop");
        } catch (...) {
            caught++;
        }
    }
    printf("caught %d of 100000\n", caught);
    if (argc > 1) fail(99, "uncaught");
    return 0;
}
