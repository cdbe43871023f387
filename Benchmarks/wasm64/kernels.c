// Memory-bound kernels for comparing 64-bit addresses (memory64) with 32-bit
// ones: the same source built for wasm32 and for wasm64, freestanding (there is
// no libc for wasm64), exporting `run(n)`, which returns a checksum that does
// not depend on the pointer width. Benchmarks/wasm64/compare.sh builds and runs both.
//
//   pointer chase: a random cyclic list of nodes holding pointers (8 bytes on wasm64)
//   sieve:         bytes, stored and tested through indices
//   stencil:       a 1-D three-point average over doubles, repeated
#include <stddef.h>
#include <stdint.h>

extern unsigned char __heap_base;
static unsigned char *heap;

static void *allocate(size_t bytes) {
    if (!heap) heap = &__heap_base;
    unsigned char *at = heap;
    heap += (bytes + 15) & ~(size_t)15;
    size_t end = (size_t)heap, size = __builtin_wasm_memory_size(0) * 65536;
    if (end > size) __builtin_wasm_memory_grow(0, (end - size + 65535) / 65536);
    return at;
}

struct node { struct node *next; uint32_t value; };

static uint64_t chase(uint32_t count, uint32_t steps) {
    struct node *nodes = allocate(sizeof(struct node) * count);
    uint32_t *order = allocate(sizeof(uint32_t) * count);
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (uint32_t i = 0; i < count; i++) order[i] = i;
    for (uint32_t i = count - 1; i > 0; i--) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        uint32_t j = (uint32_t)(x % (i + 1)), t = order[i];
        order[i] = order[j]; order[j] = t;
    }
    for (uint32_t i = 0; i < count; i++) {
        nodes[order[i]].next = &nodes[order[(i + 1) % count]];
        nodes[order[i]].value = i * 2654435761u;
    }
    struct node *p = &nodes[order[0]];
    uint64_t sum = 0;
    for (uint32_t s = 0; s < steps; s++) { sum += p->value; p = p->next; }
    return sum;
}

static uint64_t sieve(uint32_t limit, uint32_t rounds) {
    unsigned char *composite = allocate(limit);
    uint64_t primes = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t i = 0; i < limit; i++) composite[i] = 0;
        for (uint32_t i = 2; i * i < limit; i++)
            if (!composite[i]) for (uint32_t j = i * i; j < limit; j += i) composite[j] = 1;
        for (uint32_t i = 2; i < limit; i++) primes += !composite[i];
    }
    return primes;
}

static uint64_t stencil(uint32_t length, uint32_t rounds) {
    double *a = allocate(sizeof(double) * length), *b = allocate(sizeof(double) * length);
    for (uint32_t i = 0; i < length; i++) a[i] = (double)(i % 97);
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t i = 1; i + 1 < length; i++) b[i] = (a[i - 1] + a[i] + a[i + 1]) * (1.0 / 3.0);
        b[0] = a[0]; b[length - 1] = a[length - 1];
        double *t = a; a = b; b = t;
    }
    double sum = 0;
    for (uint32_t i = 0; i < length; i++) sum += a[i];
    return (uint64_t)(sum * 1000.0);
}

// `scale` 15 is the benchmark's size (compare.sh); 1 is for tests.
__attribute__((export_name("run"))) uint64_t run(uint32_t scale) {
    heap = 0;
    uint64_t a = chase(1 << 16, 2000000 * scale);
    uint64_t b = sieve(1 << 20, 2 * scale);
    uint64_t c = stencil(1 << 16, 20 * scale);
    return a ^ (b << 40) ^ (c << 1);
}
