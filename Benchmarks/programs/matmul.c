// f32 numerics: a square matrix multiply, repeated. Prints a checksum.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 200, rounds = argc > 2 ? atoi(argv[2]) : 30;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++) { a[i] = (float)(i % 7) * 0.5f; b[i] = (float)(i % 5) * 0.25f; }
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                float sum = 0;
                for (int k = 0; k < n; k++) sum += a[i * n + k] * b[k * n + j];
                c[i * n + j] = sum + (float)r;
            }
    double checksum = 0;
    for (int i = 0; i < n * n; i++) checksum += c[i];
    printf("checksum %.1f\n", checksum);
    return 0;
}
