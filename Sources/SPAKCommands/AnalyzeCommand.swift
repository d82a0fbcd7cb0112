import ArgumentParser
import SPAKKernel
import SPAKTrace

/// `spak analyze RUN… [--json]`: runs of one program summed up per step and over all runs.
struct AnalyzeCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Sum up runs of one program: per step, failures, invariant violations and their values, retries, tokens, time and the prompts before failures; budgets and failure reasons over all runs.",
        discussion: """
            The runs must be of one task (their steps are compared by name); runs of different \
            program versions are allowed and counted. A forked run counts its parent's events \
            before the fork point only when the parent is not among the runs given. See \
            docs/analyze.md. Exit codes: 0 report printed, 2 usage (no runs, runs of different \
            tasks), 4 no such run or a damaged record.
            """
    )

    @ArgumentParser.Argument(help: ArgumentHelp("The runs: their ids (see `spak runs`) or folders.", valueName: "run"))
    var runs: [String] = []

    @Flag(help: "Print the analysis as one JSON object (format spak-analysis).")
    var json = false

    @OptionGroup var location: RunsLocation

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("name one or more runs to analyze (see `spak runs`)") }
    }

    func execute(io: CommandIO) -> ExitStatus {
        do {
            let analysis = try RunAnalysis(runs, runsDirectory: location.runsDir)
            io.out(json ? analysis.json : analysis.text)
            return .success
        } catch {
            io.err("spak: error: \(error)\n")
            return RunReport.status(for: error)
        }
    }
}
