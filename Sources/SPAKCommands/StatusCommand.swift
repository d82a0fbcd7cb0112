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
