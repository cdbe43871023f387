// Byte-level memory work: the sieve of Eratosthenes, repeated. Prints the prime count.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 4000000, rounds = argc > 2 ? atoi(argv[2]) : 20;
    unsigned char *sieve = malloc((size_t)n);
    int count = 0;
    for (int r = 0; r < rounds; r++) {
        memset(sieve, 1, (size_t)n);
        count = 0;
        for (int i = 2; i < n; i++) {
            if (!sieve[i]) continue;
            count++;
            for (long long j = (long long)i * i; j < n; j += i) sieve[j] = 0;  // i * i overflows 32 bits (wasm32 long)
        }
    }
    printf("primes below %d: %d\n", n, count);
    free(sieve);
    return 0;
}
