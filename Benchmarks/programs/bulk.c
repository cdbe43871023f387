// Bulk memory: overlapping moves and fills of varying sizes over a 4 MiB buffer
// (memory.copy and memory.fill). Prints a checksum of the buffer.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE (4u << 20)

int main(int argc, char **argv) {
    uint32_t n = argc > 1 ? (uint32_t)atoi(argv[1]) : 25000000;
    unsigned char *buf = malloc(SIZE);
    for (uint32_t i = 0; i < SIZE; i++) buf[i] = (unsigned char)(i * 7);
    uint32_t x = 2463534242u;
    for (uint32_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        uint32_t len = 16 + (x & 4095), src = (x >> 4) % (SIZE - len), dst = (x >> 9) % (SIZE - len);
        __builtin_memmove(buf + dst, buf + src, len);
        if ((x & 3) == 0) __builtin_memset(buf + ((x >> 3) % (SIZE - 256)), (int)(i & 0xff), 1 + (x >> 24));
    }
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (uint32_t i = 0; i < SIZE; i += 61) hash = (hash ^ buf[i]) * 0x100000001b3ULL;
    printf("checksum %016llx\n", (unsigned long long)hash);
    return 0;
}
