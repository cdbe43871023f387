// cflags: -msimd128
// 128-bit SIMD: loops the compiler vectorizes (-msimd128) over f32, i32, i16 and
// u8 arrays: saxpy, a dot product, a saturating brightness change with a
// threshold count, a 3-tap blur. Prints a checksum.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 4096

static float x[N], y[N];
static int32_t a[N], b[N];
static uint8_t pixels[N], out[N];
static int16_t samples[N], blurred[N];

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 15000;
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i % 13) * 0.25f;
        y[i] = (float)(i % 7);
        a[i] = i * 7 % 1000 - 500;
        b[i] = i * 3 % 700 - 350;
        pixels[i] = (uint8_t)(i * 37);
        samples[i] = (int16_t)(i * 101 % 4000 - 2000);
    }
    uint64_t checksum = 0;
    for (int r = 0; r < rounds; r++) {
        float alpha = 0.5f + (float)(r % 4) * 0.125f;
        for (int i = 0; i < N; i++) y[i] = alpha * x[i] + y[i] * 0.5f;

        int32_t dot = 0;
        for (int i = 0; i < N; i++) dot += a[i] * b[i];

        int bright = 0;
        uint8_t delta = (uint8_t)(r & 63);
        for (int i = 0; i < N; i++) {
            unsigned v = pixels[i] + delta;
            out[i] = v > 255 ? 255 : (uint8_t)v;
        }
        for (int i = 0; i < N; i++) bright += out[i] > 200;

        for (int i = 1; i < N - 1; i++) blurred[i] = (int16_t)((samples[i - 1] + 2 * samples[i] + samples[i + 1]) >> 2);
        samples[r % N] = blurred[(r * 7) % N];

        checksum = checksum * 31 + (uint32_t)dot + (uint32_t)bright + (uint32_t)blurred[r % N];
    }
    double ysum = 0;
    for (int i = 0; i < N; i++) ysum += y[i];
    printf("checksum %016llx %.3f\n", (unsigned long long)checksum, ysum);
    return 0;
}
