#ifndef SHEAVE_SYSTEM_H
#define SHEAVE_SYSTEM_H

/// Opens `path` relative to the directory `dirfd` so that resolution never
/// leaves it: the kernel refuses an absolute path, a ".." above `dirfd` and a
/// symbolic link that points out of it, with EXDEV (Linux's openat2 with
/// RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS; O_CLOEXEC is added to `flags`).
/// Returns the new descriptor, or -1 with errno set: ENOSYS where the system
/// has no such call (other systems, Linux before 5.6).
int sheave_open_beneath(int dirfd, const char *path, int flags);

/// O_PATH where the system has it (a descriptor that names a file without
/// opening it: Swift's Glibc does not import it), else O_RDONLY.
extern const int sheave_o_path;

/// The lowest address of the calling thread's stack, in `*low`: 0 on success,
/// -1 where the system does not say (Linux's pthread_getattr_np, which Swift's
/// Glibc does not import; Darwin's pthread_get_stackaddr_np).
int sheave_thread_stack_low(unsigned long *low);

#endif
