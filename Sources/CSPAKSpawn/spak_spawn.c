#define _GNU_SOURCE
#include "spak_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/landlock.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/// Reports a failure to the parent through the error pipe and exits.
static void child_fail(int pipe_fd, int stage) {
    int report[2] = {errno, stage};
    ssize_t ignored = write(pipe_fd, report, sizeof report);
    (void)ignored;
    _exit(127);
}

/// Runs in the child between vfork and exec: system calls only.
static void child_exec(const spak_spawn_spec *spec, int pipe_fd) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
    }
    if (setsid() < 0) child_fail(pipe_fd, SPAK_SPAWN_STAGE_SESSION);
    if (chdir(spec->cwd) != 0) child_fail(pipe_fd, SPAK_SPAWN_STAGE_CHDIR);
    int sources[3] = {spec->stdin_fd, spec->stdout_fd, spec->stderr_fd};
    for (int target = 0; target < 3; target++) {
        if (sources[target] == target) {
            // dup2 onto itself keeps close-on-exec; clear it instead.
            if (fcntl(target, F_SETFD, 0) != 0) child_fail(pipe_fd, SPAK_SPAWN_STAGE_DESCRIPTORS);
        } else if (dup2(sources[target], target) < 0) {
            child_fail(pipe_fd, SPAK_SPAWN_STAGE_DESCRIPTORS);
        }
    }
    // Every other descriptor closes at exec; the error pipe stays usable until then.
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        for (int fd = 3; fd < 65536; fd++) {
            if (fd != pipe_fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
    if (spec->cpu_seconds > 0) {
        struct rlimit limit = {(rlim_t)spec->cpu_seconds, (rlim_t)spec->cpu_seconds + 1};
        if (setrlimit(RLIMIT_CPU, &limit) != 0) child_fail(pipe_fd, SPAK_SPAWN_STAGE_LIMITS);
    }
    if (spec->memory_bytes > 0) {
        struct rlimit limit = {(rlim_t)spec->memory_bytes, (rlim_t)spec->memory_bytes};
        if (setrlimit(RLIMIT_AS, &limit) != 0) child_fail(pipe_fd, SPAK_SPAWN_STAGE_LIMITS);
    }
    if (spec->landlock_ruleset >= 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(pipe_fd, SPAK_SPAWN_STAGE_CONFINE);
        if (syscall(SYS_landlock_restrict_self, spec->landlock_ruleset, 0U) != 0) {
            child_fail(pipe_fd, SPAK_SPAWN_STAGE_CONFINE);
        }
    }
    execve(spec->path, spec->argv, spec->envp);
    child_fail(pipe_fd, SPAK_SPAWN_STAGE_EXEC);
}

int spak_spawn(const spak_spawn_spec *spec, pid_t *pid, int *failed_errno, int *failed_stage) {
    int report_pipe[2];
    if (pipe2(report_pipe, O_CLOEXEC) != 0) {
        *failed_errno = errno;
        *failed_stage = SPAK_SPAWN_STAGE_FORK;
        return -1;
    }
    pid_t child = vfork();
    if (child == 0) {
        close(report_pipe[0]);
        child_exec(spec, report_pipe[1]);
    }
    int fork_errno = errno;
    close(report_pipe[1]);
    if (child < 0) {
        close(report_pipe[0]);
        *failed_errno = fork_errno;
        *failed_stage = SPAK_SPAWN_STAGE_FORK;
        return -1;
    }
    int report[2];
    ssize_t got;
    do {
        got = read(report_pipe[0], report, sizeof report);
    } while (got < 0 && errno == EINTR);
    close(report_pipe[0]);
    if (got == (ssize_t)sizeof report) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        *failed_errno = report[0];
        *failed_stage = report[1];
        return -1;
    }
    *pid = child;
    return 0;
}

/// The ruleset attributes of Landlock ABI 6 (older kernel headers lack the later fields).
struct spak_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

#define SPAK_ACCESS_FS_REFER (1ULL << 13)
#define SPAK_ACCESS_FS_TRUNCATE (1ULL << 14)
#define SPAK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#define SPAK_SCOPE_SIGNAL (1ULL << 1)

/// Adds a rule granting `access` beneath (or on) `path`; returns 0, or -1 with errno.
static int add_rule(int ruleset, const char *path, uint64_t access) {
    int target = open(path, O_PATH | O_CLOEXEC);
    if (target < 0) return -1;
    struct landlock_path_beneath_attr rule = {.allowed_access = access, .parent_fd = target};
    long added = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0U);
    int saved = errno;
    close(target);
    errno = saved;
    return added == 0 ? 0 : -1;
}

int spak_landlock_ruleset(char *const *roots, int count, char *const *files, int file_count, char *const *devices,
                          int device_count, int *abi) {
    long version = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    *abi = version > 0 ? (int)version : 0;
    if (version <= 0) return -1;
    uint64_t file_writes = LANDLOCK_ACCESS_FS_WRITE_FILE | (version >= 3 ? SPAK_ACCESS_FS_TRUNCATE : 0);
    uint64_t writes = file_writes | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE
        | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG
        | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK
        | LANDLOCK_ACCESS_FS_MAKE_SYM | (version >= 2 ? SPAK_ACCESS_FS_REFER : 0);
    uint64_t ioctl = version >= 5 ? SPAK_ACCESS_FS_IOCTL_DEV : 0;
    struct spak_ruleset_attr attributes = {
        .handled_access_fs = writes | ioctl,
        .handled_access_net = 0,
        .scoped = version >= 6 ? SPAK_SCOPE_SIGNAL : 0,
    };
    size_t size = version >= 6 ? sizeof attributes : sizeof attributes.handled_access_fs;
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attributes, size, 0U);
    if (ruleset < 0) return -1;
    for (int index = 0; index < count; index++) {
        if (add_rule(ruleset, roots[index], writes | ioctl) != 0) goto failed;
    }
    for (int index = 0; index < file_count; index++) {
        if (add_rule(ruleset, files[index], file_writes) != 0) goto failed;
    }
    for (int index = 0; index < device_count; index++) {
        if (add_rule(ruleset, devices[index], file_writes | ioctl) != 0) goto failed;
    }
    return ruleset;
failed:;
    int saved = errno;
    close(ruleset);
    errno = saved;
    return -1;
}

/// The process group of the command running now (0: none), for the interrupt handler.
static volatile sig_atomic_t running_group = 0;

static void interrupted(int sig) {
    pid_t group = (pid_t)running_group;
    if (group > 0) kill(-group, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

void spak_set_running_group(pid_t group) {
    static int installed = 0;
    if (!installed) {
        installed = 1;
        int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
        for (unsigned index = 0; index < sizeof signals / sizeof signals[0]; index++) {
            struct sigaction current;
            if (sigaction(signals[index], NULL, &current) == 0 && current.sa_handler == SIG_DFL) {
                signal(signals[index], interrupted);
            }
        }
    }
    running_group = group;
}

/// Set by the first SIGINT or SIGTERM while interrupts are watched: the signal's number.
static volatile sig_atomic_t interrupt_signal = 0;
/// Whether that signal killed a command's group (its result is not the command's own).
static volatile sig_atomic_t interrupt_killed_group = 0;
/// What a second signal prints before spak dies of it.
static char interrupt_message[1024];
static volatile sig_atomic_t interrupt_message_length = 0;

static void interrupt_requested(int sig) {
    pid_t group = (pid_t)running_group;
    if (interrupt_signal != 0) {
        int length = interrupt_message_length;
        if (length > 0) (void)!write(2, interrupt_message, (size_t)length);
        if (group > 0) kill(-group, SIGKILL);
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    interrupt_signal = sig;
    if (group > 0) {
        interrupt_killed_group = 1;
        kill(-group, SIGKILL);
    }
}

void spak_watch_interrupts(void) {
    int signals[] = {SIGINT, SIGTERM};
    for (unsigned index = 0; index < sizeof signals / sizeof signals[0]; index++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = interrupt_requested;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        sigaction(signals[index], &action, NULL);
    }
}

int spak_interrupt_signal(void) { return interrupt_signal; }

int spak_interrupt_killed_group(void) { return interrupt_killed_group; }

void spak_set_interrupt_message(const char *text) {
    interrupt_message_length = 0;
    size_t length = strlen(text);
    if (length > sizeof interrupt_message) length = sizeof interrupt_message;
    memcpy(interrupt_message, text, length);
    interrupt_message_length = (sig_atomic_t)length;
}

int spak_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0U); }

int spak_pipe(int ends[2]) { return pipe2(ends, O_CLOEXEC); }

int spak_has_exited(pid_t pid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return 0;
    return info.si_pid == pid;
}
