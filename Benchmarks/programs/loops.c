// Tight integer loops over locals: the Collatz step counts of 1..n, no memory. Prints the total.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 1500000;
    unsigned long long total = 0;
    for (unsigned i = 1; i < n; i++) {
        unsigned long long x = i;
        unsigned steps = 0;
        while (x != 1) {
            x = (x & 1) ? 3 * x + 1 : x >> 1;
            steps++;
        }
        total += steps;
    }
    printf("collatz steps %llu\n", total);
    return 0;
}
