import ArgumentParser
import Foundation
import SPAKKernel

/// `spak status RUN`: where a run stands.
struct StatusCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a run's state, pending request, variables and budgets.",
        discussion: "Reads the run's record without changing it. Exit code 4 if there is no such run or its record is damaged."
    )

    @ArgumentParser.Argument(help: "The run: its id (see `spak runs`) or its folder.")
    var run: String

    @Flag(help: "Print the snapshot as JSON.")
    var json = false

    @OptionGroup var location: RunsLocation

    func execute(io: CommandIO) -> ExitStatus {
        do {
            let view = try RunView(run, runsDirectory: location.runsDir)
            io.out(json ? view.json : view.text)
            return .success
        } catch {
            io.err("spak: error: \(error)\n")
            return RunReport.status(for: error)
        }
    }
}

/// `spak runs`: a table of runs.
struct RunsCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List the runs in the runs folder.")

    @OptionGroup var location: RunsLocation

    func execute(io: CommandIO) -> ExitStatus {
        let runs = RunStore.list(runsDirectory: location.runsDir)
        guard !runs.isEmpty else {
            io.out("no runs in \(location.runsDir)\n")
            return .success
        }
        let width = max(2, runs.map(\.id.count).max() ?? 0)
        var text = "ID".padding(toLength: width, withPad: " ", startingAt: 0) + "  STATUS     STEPS  CREATED\n"
        for run in runs {
            text += run.id.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                + run.status.padding(toLength: 9, withPad: " ", startingAt: 0) + "  "
                + String(run.steps).padding(toLength: 5, withPad: " ", startingAt: 0) + "  " + run.created + "\n"
        }
        io.out(text)
        return .success
    }
}
