import ArgumentParser
import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKKernel

/// `spak replay RUN [--program FILE]`: re-execute a run from its record and report the
/// first divergence.
struct ReplayCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-execute a run from its record, exactly, and report where a program departs from it.",
        discussion: """
            Every effect is answered from the run's record and none is performed: no model is \
            asked, no command runs, no file is read or written. Each event the program logs is \
            checked against the record (times, durations and who answered aside). With \
            --program, an edited program is checked against the old run: the first divergence \
            names the step and the source line, shows the recorded request beside the new one, \
            and says what probably changed (a template line, a `let`, an invariant). Exit codes: \
            0 the program matches the record, 7 it diverges, 1 errors in --program, 2 usage or \
            I/O error, 4 no such run or a damaged record.
            """
    )

    @ArgumentParser.Argument(help: "The run: its id (see `spak runs`) or its folder.")
    var run: String

    @Option(help: "Replay this program instead of the run's own copy (its templates are read beside it).")
    var program: String?

    @OptionGroup var location: RunsLocation

    func execute(io: CommandIO) -> ExitStatus {
        var edited: CheckedProgram?
        if let program {
            do {
                edited = try Frontend.check(path: program)
            } catch {
                io.err("spak: error: \(error)\n")
                return .usageOrIO
            }
            if let edited, edited.hasErrors || edited.parse.program.task == nil {
                io.err(DiagnosticRenderer().render(edited.bag))
                return .failure
            }
        }
        do {
            let folder = try RunStore.resolve(run, runsDirectory: location.runsDir)
            let report = try Replay.run(folder, edited: edited)
            let against = program.map { " against \($0)" } ?? ""
            switch report.outcome {
            case .matched(let status):
                let extent = status == "completed" || status == "failed"
                    ? "the run \(status)" : "the run is \(status), so the replay stops where its record does"
                io.out("replay of run \(report.run)\(against) matches its record: \(report.matchedEvents) events compared (\(extent))\n")
                return .success
            case .diverged(let divergence):
                io.out("replay of run \(report.run)\(against) diverges after \(report.matchedEvents) matching events:\n\(divergence)\n")
                return .diverged
            }
        } catch {
            return RunReport.failure(error, io: io)
        }
    }
}
