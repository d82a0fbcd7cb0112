#ifndef SPAK_SPAWN_H
#define SPAK_SPAWN_H

#include <sys/types.h>

/// What the child is to become: everything is prepared by the parent, so the child only
/// makes system calls between fork and exec.
typedef struct {
    /// The executable's path (already searched for on PATH).
    const char *path;
    /// NULL-terminated argument vector.
    char *const *argv;
    /// NULL-terminated environment ("NAME=VALUE").
    char *const *envp;
    /// The working directory.
    const char *cwd;
    /// The descriptors that become the child's 0, 1 and 2.
    int stdin_fd, stdout_fd, stderr_fd;
    /// RLIMIT_CPU in seconds and RLIMIT_AS in bytes; 0 leaves the limit as inherited.
    long long cpu_seconds, memory_bytes;
    /// A Landlock ruleset to enforce in the child, or -1 for none.
    int landlock_ruleset;
} spak_spawn_spec;

/// Where a failed spawn failed (reported with the errno).
enum {
    SPAK_SPAWN_STAGE_FORK = 1,
    SPAK_SPAWN_STAGE_SESSION = 2,
    SPAK_SPAWN_STAGE_CHDIR = 3,
    SPAK_SPAWN_STAGE_DESCRIPTORS = 4,
    SPAK_SPAWN_STAGE_LIMITS = 5,
    SPAK_SPAWN_STAGE_CONFINE = 6,
    SPAK_SPAWN_STAGE_EXEC = 7,
};

/// Starts a child in a new session (so in its own process group, whose id is its pid),
/// with default signal handling, no descriptors but 0, 1 and 2, the given limits and
/// confinement. Returns 0 and the pid, or -1 with `*failed_errno` and `*failed_stage`.
int spak_spawn(const spak_spawn_spec *spec, pid_t *pid, int *failed_errno, int *failed_stage);

/// A Landlock ruleset that lets a process write only beneath `roots`, write (not create or
/// remove) the `files`, and write and ioctl the `devices`; reading stays free, and on ABI 6 and
/// later it cannot signal processes outside its domain. Returns its descriptor
/// (close-on-exec), or -1 with errno when the kernel has no Landlock or a path cannot be
/// opened; `*abi` receives the kernel's Landlock ABI version (0 when none).
int spak_landlock_ruleset(char *const *roots, int count, char *const *files, int file_count, char *const *devices,
                          int device_count, int *abi);

/// Records the process group of the command now running (0 for none). The first call
/// installs handlers for SIGINT, SIGTERM, SIGHUP and SIGQUIT (where they are not already
/// handled or ignored) that kill that group before spak dies of the signal.
void spak_set_running_group(pid_t group);

/// Turns SIGINT and SIGTERM into a request to stop: the first sets the signal that
/// `spak_interrupt_signal` returns and kills the group of the command running, if any (so
/// `spak_interrupt_killed_group` says its result is not its own); a second prints the text
/// given to `spak_set_interrupt_message`, kills the group and lets spak die of the signal.
void spak_watch_interrupts(void);

/// The signal that asked spak to stop (0: none).
int spak_interrupt_signal(void);

/// Whether the stop request killed a running command's group.
int spak_interrupt_killed_group(void);

/// What a second stop request prints before spak dies (copied; at most 1024 bytes).
void spak_set_interrupt_message(const char *text);

/// A descriptor that becomes readable when process `pid` exits (pidfd_open), or -1.
int spak_pidfd_open(pid_t pid);

/// A pipe whose ends close on exec. Returns 0, or -1 with errno.
int spak_pipe(int ends[2]);

/// Whether child `pid` has exited (without reaping it, so its pid still names its group).
int spak_has_exited(pid_t pid);

#endif
