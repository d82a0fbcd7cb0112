import Foundation

/// Where a command writes. The real CLI writes to the process's streams; tests capture.
public struct CommandIO: Sendable {
    /// Writes to standard output.
    public let out: @Sendable (String) -> Void
    /// Writes to standard error.
    public let err: @Sendable (String) -> Void

    /// Creates an I/O pair from two writers.
    public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void) {
        self.out = out
        self.err = err
    }

    /// The process's standard output and standard error. A reader that went away (`spak … |
    /// head -1`) loses the rest of the text; the command still finishes its work.
    public static let standard = CommandIO(
        out: { text in try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8)) },
        err: { text in try? FileHandle.standardError.write(contentsOf: Data(text.utf8)) })
}

/// The exit codes every `spak` command uses (documented in docs/cli.md).
public enum ExitStatus: Int32, Sendable {
    /// Success: no errors (warnings allowed).
    case success = 0
    /// The input has errors (diagnostics were printed), `fmt --check` found changes, or the
    /// run failed (an invariant, a budget, a run-time error).
    case failure = 1
    /// Bad usage, or a file that cannot be read or written.
    case usageOrIO = 2
    /// The run is suspended, waiting for an answer.
    case suspended = 3
    /// The run cannot go on as asked: no such run, a damaged record, a program edited since
    /// the run started, or nothing to resume.
    case runUnusable = 4
    /// Another process is working on the run.
    case runBusy = 5
    /// The run is suspended because the source of its answer failed (a model server that
    /// gave up, a responder that crashed); nothing recorded is lost, and it can be resumed.
    case unanswered = 6
    /// A replay found that the program does not do what the run's record says it did (or a
    /// cassette holds no answer for a request).
    case diverged = 7
    /// `spak improve` found no candidate that beat the original by more than the noise.
    case notImproved = 8
    /// Ctrl-C (SIGINT) stopped the run cleanly; it goes on with `spak step --resume`.
    case interrupted = 130
    /// SIGTERM stopped the run cleanly; it goes on with `spak step --resume`.
    case terminated = 143
}
