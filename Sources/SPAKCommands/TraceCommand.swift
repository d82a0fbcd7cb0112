import ArgumentParser
import SPAKKernel
import SPAKTrace

/// `spak trace`: reading recorded runs.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Read recorded runs: a run's timeline, or where two runs part.",
        discussion: "See docs/trace-tools.md.",
        subcommands: [TraceShowCommand.self, TraceDiffCommand.self]
    )
}

/// `spak trace show RUN [--full]`: a run as a readable timeline.
struct TraceShowCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a run's timeline: steps, prompts and answers, tool results, invariants, budgets and metrics.",
        discussion: """
            Prompts, answers and feedback are folded to their first 3 lines; --full unfolds them \
            and adds variable bindings, captured tool output and model attempts. A forked run is \
            shown with its parent's events before the fork point. Exit code 4 if there is no such \
            run or its record is damaged.
            """
    )

    @ArgumentParser.Argument(help: "The run: its id (see `spak runs`) or its folder.")
    var run: String

    @Flag(help: "Unfold prompts, answers and tool output; show variable bindings.")
    var full = false

    @OptionGroup var location: RunsLocation

    func execute(io: CommandIO) -> ExitStatus {
        do {
            let traced = try TracedRun(run, runsDirectory: location.runsDir)
            try TraceTimeline(traced, full: full).render(io.out)
            return .success
        } catch {
            io.err("spak: error: \(error)\n")
            return RunReport.status(for: error)
        }
    }
}

/// `spak trace diff A B [--json]`: where two runs part.
struct TraceDiffCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show where two runs part: the first differing event, the steps from there side by side, metric deltas.",
        discussion: """
            Times, durations and who answered are not compared. A forked run is compared with \
            its parent's events before the fork point. Exit codes: 0 the runs do not differ, \
            1 they differ, 2 usage, 4 no such run or a damaged record.
            """
    )

    @ArgumentParser.Argument(help: "The first run: its id or its folder.")
    var a: String

    @ArgumentParser.Argument(help: "The second run: its id or its folder.")
    var b: String

    @Flag(help: "Print the comparison as one JSON object (format spak-trace-diff).")
    var json = false

    @OptionGroup var location: RunsLocation

    func execute(io: CommandIO) -> ExitStatus {
        do {
            let diff = try TraceDiff(TracedRun(a, runsDirectory: location.runsDir), TracedRun(b, runsDirectory: location.runsDir))
            io.out(json ? diff.json : diff.text)
            return diff.identical ? .success : .failure
        } catch {
            io.err("spak: error: \(error)\n")
            return RunReport.status(for: error)
        }
    }
}
