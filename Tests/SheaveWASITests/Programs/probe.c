// A WASI program that reports what it can see; the tests run it with Sheave.
//   probe args            print each argument and the variable SHEAVE_TEST
//   probe files           write /sandbox/out.txt, read /sandbox/in.txt
//   probe escape          try paths that lead out of /sandbox
//   probe exit N          exit with code N
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *command = argv[1];
    if (strcmp(command, "args") == 0) {
        for (int i = 0; i < argc; i++) printf("%s\n", argv[i]);
        const char *value = getenv("SHEAVE_TEST");
        printf("SHEAVE_TEST=%s\n", value ? value : "(unset)");
        return 0;
    }
    if (strcmp(command, "files") == 0) {
        FILE *out = fopen("/sandbox/out.txt", "w");
        if (!out) return 10;
        fprintf(out, "written by wasm\n");
        fclose(out);
        FILE *in = fopen("/sandbox/in.txt", "r");
        if (!in) return 11;
        char buffer[128] = {0};
        size_t n = fread(buffer, 1, sizeof buffer - 1, in);
        fclose(in);
        printf("read %zu bytes: %s", n, buffer);
        return 0;
    }
    if (strcmp(command, "escape") == 0) {
        const char *paths[] = {"/sandbox/../outside.txt", "/sandbox/link/secret.txt", "/etc/passwd", "../outside.txt"};
        for (int i = 0; i < 4; i++) {
            FILE *f = fopen(paths[i], "r");
            struct stat st;
            int found = stat(paths[i], &st) == 0;
            printf("%s open=%s stat=%s\n", paths[i], f ? "yes" : "no", found ? "yes" : "no");
            if (f) fclose(f);
        }
        return 0;
    }
    if (strcmp(command, "exit") == 0 && argc > 2) return atoi(argv[2]);
    return 3;
}
