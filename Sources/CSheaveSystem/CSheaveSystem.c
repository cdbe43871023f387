// One system call Swift cannot make itself: `syscall` is variadic, and Swift
// does not import variadic C functions. Used by SheaveWASI's host directories.
#define _GNU_SOURCE  // O_PATH, pthread_getattr_np
#include "CSheaveSystem.h"
#include <errno.h>

#if defined(__linux__)
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

// The kernel's `struct open_how` (linux/openat2.h), spelled out so that older headers do.
struct sheave_open_how { uint64_t flags, mode, resolve; };
enum { SHEAVE_RESOLVE_NO_MAGICLINKS = 0x02, SHEAVE_RESOLVE_BENEATH = 0x08 };

const int sheave_o_path = O_PATH;

int sheave_open_beneath(int dirfd, const char *path, int flags) {
    struct sheave_open_how how = {
        .flags = (uint64_t)(unsigned)(flags | O_CLOEXEC), .mode = 0,
        .resolve = SHEAVE_RESOLVE_BENEATH | SHEAVE_RESOLVE_NO_MAGICLINKS,
    };
    // EAGAIN: a rename raced with a "..": the kernel asks to try again. A few
    // times, then the error stands (no unbounded loop under a hostile renamer).
    long result = -1;
    for (int attempt = 0; attempt < 16; attempt++) {
        result = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (result >= 0 || (errno != EINTR && errno != EAGAIN)) break;
    }
    return (int)result;
}
#else
#include <fcntl.h>
const int sheave_o_path = O_RDONLY;

int sheave_open_beneath(int dirfd, const char *path, int flags) {
    (void)dirfd; (void)path; (void)flags;
    errno = ENOSYS;
    return -1;
}
#endif

#include <pthread.h>

int sheave_thread_stack_low(unsigned long *low) {
#if defined(__APPLE__)
    pthread_t self = pthread_self();
    *low = (unsigned long)pthread_get_stackaddr_np(self) - (unsigned long)pthread_get_stacksize_np(self);
    return 0;
#elif defined(__linux__)
    pthread_attr_t attributes;
    if (pthread_getattr_np(pthread_self(), &attributes) != 0) return -1;
    void *address = 0;
    size_t size = 0;
    int result = pthread_attr_getstack(&attributes, &address, &size);
    pthread_attr_destroy(&attributes);
    if (result != 0 || address == 0) return -1;
    *low = (unsigned long)address;
    return 0;
#else
    (void)low;
    return -1;
#endif
}
