// A WASI program in C. Build it with ./build.sh, run it with
//     swift run -c release sheave run Examples/c/hello.wasm Ada
#include <stdio.h>

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "world";
    printf("Hello, %s, from C on Sheave!\n", name);
    return 0;
}
