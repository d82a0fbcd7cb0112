import CSPAKSpawn
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One child process, run to its end: spawned in its own session and process group, its
/// output read while it runs (each stream kept up to a cap, the rest counted and dropped),
/// stopped at a deadline (SIGTERM to the group, then SIGKILL after a grace period), and,
/// once it exits, anything it left running in its group killed.
public enum ChildProcess {
    /// What to run and under which limits.
    public struct Spec: Sendable {
        /// The executable's path (see `ExecutableSearch`).
        public var executable: String
        /// The argument vector, the program name first.
        public var arguments: [String]
        /// The whole environment, as `NAME=VALUE` entries.
        public var environment: [String]
        /// The working directory.
        public var directory: String
        /// Seconds before the child is stopped.
        public var timeout: Double
        /// Seconds between SIGTERM and SIGKILL when stopping.
        public var grace: Double = 2
        /// Bytes kept of each of standard output and standard error.
        public var outputLimit: Int
        /// RLIMIT_CPU, in seconds.
        public var cpuSeconds: Int?
        /// RLIMIT_AS, in bytes.
        public var memoryBytes: Int?
        /// The Landlock ruleset the child runs under, or `nil` for none.
        public var confinement: Confinement?
        /// Bytes written to the child's standard input (it sees end of file after them);
        /// `nil` connects standard input to /dev/null.
        public var input: [UInt8]?

        /// Creates a spec.
        public init(executable: String, arguments: [String], environment: [String], directory: String,
                    timeout: Double, outputLimit: Int) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
            self.directory = directory
            self.timeout = timeout
            self.outputLimit = outputLimit
        }
    }

    /// What one stream produced: its first bytes, up to the cap, and how many there were.
    public struct Capture: Sendable, Equatable {
        /// The bytes kept.
        public var bytes: [UInt8] = []
        /// Every byte the child wrote to the stream, kept or not.
        public var seen = 0
        /// Whether bytes were dropped at the cap.
        public var truncated: Bool { seen > bytes.count }
    }

    /// How the child ended.
    public struct Outcome: Sendable {
        /// The exit status, or `nil` when a signal ended it.
        public var exitStatus: Int32?
        /// The signal that ended it, if one did.
        public var signal: Int32?
        /// Whether it was stopped at its deadline.
        public var timedOut: Bool
        /// Seconds from spawn to exit.
        public var duration: Double
        public var stdout: Capture
        public var stderr: Capture
        /// The Landlock ABI that confined it (0: none).
        public var confinement: Int
    }

    /// A child that could not be started.
    public struct SpawnFailure: Error, Sendable, CustomStringConvertible {
        /// The errno of the failing call.
        public let code: Int32
        /// What failed.
        public let stage: String
        public var description: String { "\(stage): \(String(cString: strerror(code)))" }
    }

    /// Runs a child to its end.
    public static func run(_ spec: Spec) throws(SpawnFailure) -> Outcome {
        let ruleset = spec.confinement?.ruleset ?? -1
        let stdoutPipe = try pipe()
        let stderrPipe = try pipe()
        var inputPipe: (read: Int32, write: Int32)?
        let childInput: Int32
        if spec.input != nil {
            let made = try pipe()
            inputPipe = made
            childInput = made.read
        } else {
            childInput = open("/dev/null", O_RDONLY | O_CLOEXEC)
        }
        let start = monotonicNow()
        var pid: pid_t = 0
        var failedErrno: Int32 = 0
        var failedStage: Int32 = 0
        let spawned = withCStrings(spec.arguments) { argv in
            withCStrings(spec.environment) { envp in
                var request = spak_spawn_spec()
                return spec.executable.withCString { path in
                    spec.directory.withCString { directory in
                        request.path = path
                        request.cwd = directory
                        request.stdin_fd = childInput
                        request.stdout_fd = stdoutPipe.write
                        request.stderr_fd = stderrPipe.write
                        request.cpu_seconds = Int64(spec.cpuSeconds ?? 0)
                        request.memory_bytes = Int64(spec.memoryBytes ?? 0)
                        request.landlock_ruleset = ruleset
                        return argv.withUnsafeBufferPointer { argvBuffer in
                            envp.withUnsafeBufferPointer { envpBuffer in
                                request.argv = UnsafePointer(argvBuffer.baseAddress)
                                request.envp = UnsafePointer(envpBuffer.baseAddress)
                                return spak_spawn(&request, &pid, &failedErrno, &failedStage)
                            }
                        }
                    }
                }
            }
        }
        close(childInput)
        close(stdoutPipe.write)
        close(stderrPipe.write)
        guard spawned == 0 else {
            close(stdoutPipe.read)
            close(stderrPipe.read)
            if let inputPipe { close(inputPipe.write) }
            throw SpawnFailure(code: failedErrno, stage: stageName(failedStage))
        }
        spak_set_running_group(pid)
        defer { spak_set_running_group(0) }
        var watch = Watch(pid: pid, spec: spec, start: start, stdout: stdoutPipe.read, stderr: stderrPipe.read,
                          input: inputPipe?.write)
        watch.run()
        return Outcome(exitStatus: watch.exitStatus, signal: watch.signal, timedOut: watch.timedOut,
                       duration: watch.exitedAt - start, stdout: watch.captures[0], stderr: watch.captures[1],
                       confinement: spec.confinement?.abi ?? 0)
    }

    /// Seconds on the monotonic clock.
    static func monotonicNow() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    private static func pipe() throws(SpawnFailure) -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        guard spak_pipe(&ends) == 0 else { throw SpawnFailure(code: errno, stage: "cannot make a pipe") }
        return (ends[0], ends[1])
    }

    private static func stageName(_ stage: Int32) -> String {
        switch Int(stage) {
        case Int(SPAK_SPAWN_STAGE_FORK): "cannot fork"
        case Int(SPAK_SPAWN_STAGE_SESSION): "cannot start a session"
        case Int(SPAK_SPAWN_STAGE_CHDIR): "cannot enter the working directory"
        case Int(SPAK_SPAWN_STAGE_DESCRIPTORS): "cannot connect the standard streams"
        case Int(SPAK_SPAWN_STAGE_LIMITS): "cannot set the resource limits"
        case Int(SPAK_SPAWN_STAGE_CONFINE): "cannot confine the process"
        default: "cannot execute"
        }
    }

    /// NUL-terminated C strings for `body`, followed by a NULL pointer.
    static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }
}

/// A Landlock ruleset for a run's commands, built once when the run opens: the rules hold
/// the folders themselves, so a command that later swaps one for a symbolic link changes
/// nothing. Commands may write beneath the writable roots, write (not create) the ordinary
/// character devices, and write and ioctl GPU devices (`/dev/nvidia*`); reading stays free.
public final class Confinement: @unchecked Sendable {
    /// The ruleset's descriptor.
    let ruleset: Int32
    /// The kernel's Landlock ABI version.
    public let abi: Int
    /// Devices any command may write.
    static let devices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]

    /// The ruleset for `writableRoots`, or `nil` when the kernel has no Landlock.
    /// Throws when the kernel has Landlock but the ruleset cannot be built (a root that
    /// cannot be opened): commands never run unconfined where they could be confined.
    public static func make(writableRoots: [String]) throws(ChildProcess.SpawnFailure) -> Confinement? {
        let files = devices.filter { FileManager.default.fileExists(atPath: $0) }
        let gpus = ((try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? [])
            .filter { $0.hasPrefix("nvidia") }.sorted().map { "/dev/" + $0 }
        var abi: Int32 = 0
        let ruleset = ChildProcess.withCStrings(writableRoots) { roots in
            ChildProcess.withCStrings(files) { files in
                ChildProcess.withCStrings(gpus) { gpuPointers in
                    spak_landlock_ruleset(roots, Int32(roots.count - 1), files, Int32(files.count - 1), gpuPointers,
                                          Int32(gpuPointers.count - 1), &abi)
                }
            }
        }
        guard abi > 0 else { return nil }
        guard ruleset >= 0 else { throw ChildProcess.SpawnFailure(code: errno, stage: "cannot build the Landlock ruleset") }
        return Confinement(ruleset: ruleset, abi: Int(abi))
    }

    private init(ruleset: Int32, abi: Int) {
        self.ruleset = ruleset
        self.abi = abi
    }

    deinit { close(ruleset) }
}

/// The parent's side of a running child: reads its streams, feeds its input, and stops it
/// at its deadline.
private struct Watch {
    let pid: pid_t
    let spec: ChildProcess.Spec
    let start: Double
    /// stdout, stderr, then the pidfd and the input pipe where there are.
    var descriptors: [Int32]
    var captures = [ChildProcess.Capture(), ChildProcess.Capture()]
    var exitStatus: Int32?
    var signal: Int32?
    var timedOut = false
    var exitedAt = 0.0
    private var inputOffset = 0
    private let pidDescriptor: Int32
    private var input: Int32

    init(pid: pid_t, spec: ChildProcess.Spec, start: Double, stdout: Int32, stderr: Int32, input: Int32?) {
        self.pid = pid
        self.spec = spec
        self.start = start
        pidDescriptor = spak_pidfd_open(pid)
        self.input = input ?? -1
        descriptors = [stdout, stderr]
        for descriptor in [stdout, stderr, self.input] where descriptor >= 0 {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
    }

    mutating func run() {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var open = [true, true]
        var exited = false
        let deadline = start + spec.timeout
        var killAt = Double.infinity
        var drainUntil = Double.infinity
        while open.contains(true) || !exited {
            let now = ChildProcess.monotonicNow()
            if !exited, now >= deadline, !timedOut {
                timedOut = true
                kill(-pid, SIGTERM)
                killAt = now + spec.grace
            }
            if !exited, now >= killAt {
                kill(-pid, SIGKILL)
                killAt = .infinity
            }
            if exited, now >= drainUntil { break }  // output still held open by an escaped process
            var polled: [pollfd] = []
            for (index, descriptor) in descriptors.enumerated() where open[index] {
                polled.append(pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0))
            }
            if !exited, pidDescriptor >= 0 { polled.append(pollfd(fd: pidDescriptor, events: Int16(POLLIN), revents: 0)) }
            if input >= 0 { polled.append(pollfd(fd: input, events: Int16(POLLOUT), revents: 0)) }
            var wake = exited ? drainUntil : (timedOut ? killAt : deadline)
            if !exited, pidDescriptor < 0 { wake = min(wake, now + 0.05) }
            let waitMilliseconds = Int32(max(0, min((wake - now) * 1000, 3_600_000)).rounded(.up))
            _ = poll(&polled, nfds_t(polled.count), waitMilliseconds)
            for (index, descriptor) in descriptors.enumerated() where open[index] {
                open[index] = drain(descriptor, into: index, buffer: &buffer)
            }
            if input >= 0 { feedInput() }
            if !exited, let status = reapIfExited() {
                exited = true
                exitedAt = ChildProcess.monotonicNow()
                record(status)
                // Nothing outlives its call; its output is read until every writer is gone,
                // for at most the grace period.
                drainUntil = exitedAt + spec.grace
            }
        }
        for descriptor in descriptors { close(descriptor) }
        if pidDescriptor >= 0 { close(pidDescriptor) }
        if input >= 0 { close(input) }
    }

    /// Reads what a stream has; returns whether it is still open.
    private mutating func drain(_ descriptor: Int32, into index: Int, buffer: inout [UInt8]) -> Bool {
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                let room = spec.outputLimit - captures[index].bytes.count
                if room > 0 { captures[index].bytes += buffer[0..<min(room, count)] }
                captures[index].seen += count
                continue
            }
            if count == 0 { return false }
            return errno == EAGAIN || errno == EINTR
        }
    }

    private mutating func feedInput() {
        guard let data = spec.input else { return }
        while inputOffset < data.count {
            let written = data[inputOffset...].withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
            if written > 0 { inputOffset += written; continue }
            if written < 0, errno == EAGAIN || errno == EINTR { return }
            break  // the child closed its input: the rest is not wanted
        }
        close(input)
        input = -1
    }

    /// The wait status once the child has exited; its group is killed before it is reaped,
    /// while its pid still names the group.
    private func reapIfExited() -> Int32? {
        guard spak_has_exited(pid) != 0 else { return nil }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return status
    }

    private mutating func record(_ status: Int32) {
        if status & 0x7f == 0 {
            exitStatus = (status >> 8) & 0xff
        } else {
            signal = status & 0x7f
        }
    }
}
