// Pointer chasing: a random cyclic list of a quarter of a million nodes, walked node by node
// through pointers. Prints the sum of the values seen.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct node { struct node *next; uint32_t value; };

int main(int argc, char **argv) {
    uint32_t count = 1 << 18, steps = argc > 1 ? (uint32_t)atoi(argv[1]) : 150000000;
    struct node *nodes = malloc(sizeof(struct node) * count);
    uint32_t *order = malloc(sizeof(uint32_t) * count);
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (uint32_t i = 0; i < count; i++) order[i] = i;
    for (uint32_t i = count - 1; i > 0; i--) {  // Fisher-Yates with xorshift
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
    printf("sum %llu\n", (unsigned long long)sum);
    return 0;
}
