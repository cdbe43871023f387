// Indirect calls through a table: a pseudo-random walk over eight small functions
// reached through function pointers (call_indirect). Prints the final state.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef uint32_t (*step_fn)(uint32_t, uint32_t);

__attribute__((noinline)) static uint32_t f0(uint32_t x, uint32_t i) { return x + i; }
__attribute__((noinline)) static uint32_t f1(uint32_t x, uint32_t i) { return x ^ (i << 3); }
__attribute__((noinline)) static uint32_t f2(uint32_t x, uint32_t i) { return x * 2654435761u + 1; }
__attribute__((noinline)) static uint32_t f3(uint32_t x, uint32_t i) { return (x << 7) | (x >> 25); }
__attribute__((noinline)) static uint32_t f4(uint32_t x, uint32_t i) { return x - (i ^ 0x5bd1e995u); }
__attribute__((noinline)) static uint32_t f5(uint32_t x, uint32_t i) { return x ^ (x >> 13); }
__attribute__((noinline)) static uint32_t f6(uint32_t x, uint32_t i) { return x * 0x27d4eb2du; }
__attribute__((noinline)) static uint32_t f7(uint32_t x, uint32_t i) { return ~x + i; }

static step_fn table[8] = {f0, f1, f2, f3, f4, f5, f6, f7};

int main(int argc, char **argv) {
    uint32_t n = argc > 1 ? (uint32_t)atoi(argv[1]) : 120000000;
    uint32_t x = 12345;
    for (uint32_t i = 0; i < n; i++) x = table[(x >> 11) & 7](x, i);
    printf("state %08x\n", x);
    return 0;
}
