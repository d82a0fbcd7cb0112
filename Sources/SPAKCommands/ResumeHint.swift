import Foundation
import SPAKKernel

/// The commands that go on with a run, printed so that they work when pasted into a shell in
/// the folder spak ran in: `--runs-dir` when the runs are not in the default folder, and each
/// word quoted where the shell would split or expand it.
enum ResumeHint {
    /// `spak step --resume RUN` (`resume: false`: `spak step RUN`), with `--live` when asked.
    static func command(run: String, runsDirectory: String, resume: Bool = true, live: Bool = false) -> String {
        var words = ["spak", "step"]
        if resume { words.append("--resume") }
        words.append(run)
        if runsDirectory != RunsLocation.defaultDirectory { words += ["--runs-dir", runsDirectory] }
        if live { words.append("--live") }
        return words.map(ShellWords.quoted).joined(separator: " ")
    }

    /// Gets a machine ready for the command line: its messages print commands that work when
    /// pasted, and Ctrl-C or SIGTERM stop it cleanly (see `Interruption`).
    static func prepare(_ machine: Machine, runsDirectory: String) {
        machine.resumeCommandOverride = command(run: machine.runFolder.id, runsDirectory: runsDirectory)
        Interruption.watch()
    }
}
