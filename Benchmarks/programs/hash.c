// 64-bit arithmetic: FNV-1a and xorshift over a generated stream. Prints the hash.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 180000000;
    uint64_t hash = 0xcbf29ce484222325ULL, x = 88172645463325252ULL;
    for (long i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        hash = (hash ^ (x & 0xff)) * 0x100000001b3ULL;
    }
    printf("hash %016llx\n", (unsigned long long)hash);
    return 0;
}
