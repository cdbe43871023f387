// br_table-heavy dispatch: a tiny stack-machine interpreter running a looping
// program, one dense switch per instruction. Prints the machine's result.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, XOR, SHR, AND, DUP, SWAP, DROP, JNZ, DEC, HALT, NOP };

// acc = 0; k = n; do { acc = (acc * 31 + (k ^ (k >> 3))) & 0xffffff; } while (--k)
static const int32_t program[] = {
    PUSH, 0, STORE, 0,        // acc = 0
    LOAD, 1, STORE, 2,        // k = n
    /* 8: loop */
    LOAD, 0, PUSH, 31, MUL,   // acc * 31
    LOAD, 2, DUP, PUSH, 3, SHR, XOR,  // k ^ (k >> 3)
    ADD, PUSH, 0xffffff, AND, STORE, 0,
    NOP, LOAD, 2, DEC, DUP, STORE, 2, JNZ, 8,
    LOAD, 0, HALT,
};

static int32_t run(int32_t n) {
    int32_t stack[64], vars[4] = {0, n, 0, 0};
    int sp = 0, pc = 0;
    for (;;) {
        int32_t a;
        switch (program[pc++]) {
        case PUSH: stack[sp++] = program[pc++]; break;
        case LOAD: stack[sp++] = vars[program[pc++]]; break;
        case STORE: vars[program[pc++]] = stack[--sp]; break;
        case ADD: a = stack[--sp]; stack[sp - 1] += a; break;
        case SUB: a = stack[--sp]; stack[sp - 1] -= a; break;
        case MUL: a = stack[--sp]; stack[sp - 1] *= a; break;
        case XOR: a = stack[--sp]; stack[sp - 1] ^= a; break;
        case SHR: a = stack[--sp]; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] >> a); break;
        case AND: a = stack[--sp]; stack[sp - 1] &= a; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case SWAP: a = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = a; break;
        case DROP: sp--; break;
        case JNZ: a = program[pc++]; if (stack[--sp]) pc = a; break;
        case DEC: stack[sp - 1]--; break;
        case HALT: return stack[sp - 1];
        case NOP: break;
        }
    }
}

int main(int argc, char **argv) {
    int32_t n = argc > 1 ? atoi(argv[1]) : 4000000;
    printf("result %d\n", run(n));
    return 0;
}
