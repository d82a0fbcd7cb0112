import Foundation
import SPAKKernel

/// Prints where a run stopped and picks the exit status.
enum RunReport {
    static func report(_ stop: Machine.Stop, machine: Machine, io: CommandIO) -> ExitStatus {
        let folder = machine.folderPath
        let id = (folder as NSString).lastPathComponent
        let counters = machine.state.counters
        let summary = "\(counters.steps) step\(counters.steps == 1 ? "" : "s"), \(counters.llmCalls) llm call\(counters.llmCalls == 1 ? "" : "s"), \(counters.toolRuns) tool run\(counters.toolRuns == 1 ? "" : "s")"
        let files = "  trace:   \(folder)/trace.json\n  metrics: \(folder)/metrics.json\n"
        switch stop {
        case .completed:
            var text = "run \(id) completed (\(summary))\n"
            for (name, value) in machine.finalMetrics.sorted(by: { $0.key < $1.key }) {
                text += "  metric \(name) = \(value.text)\n"
            }
            io.out(text + files)
            return .success
        case .failed(let reason):
            io.out("run \(id) failed: \(reason)\n" + files + copyNote(machine))
            return .failure
        case .suspended(let pending):
            let place = "in step `\(pending.step)` (\(machine.programName):\(pending.location))"
            if pending.effect == "tool.run" {
                let command = ShellWords.line(pending.request.fields["argv"])
                io.out("""
                    run \(id) is waiting at tool.run \(place), not executed without --live: \(command)
                      run it:    \(machine.liveResumeCommand)
                      or answer: write its result to \(folder)/response.txt, then run: \(machine.manualResumeCommand)

                    """ + copyNote(machine))
            } else {
                io.out("""
                    run \(id) is waiting for an answer to \(pending.effect) \(place)
                      prompt: \(folder)/pending/prompt.md
                      answer: write it to \(folder)/response.txt, then run: \(machine.resumeCommand)

                    """ + copyNote(machine))
            }
            return .suspended
        case .paused:
            let next = machine.resumeCommand.replacingOccurrences(of: "spak step --resume ", with: "spak step ")
            io.out("run \(id) paused after \(summary); next: \(next)\n")
            return .success
        case .interrupted(let signal):
            let place = machine.state.currentStep.map { "in step `\($0)`" } ?? "between steps"
            io.out("run \(id) stopped by \(Interruption.name(of: signal)) \(place) after \(summary); go on with: \(machine.resumeCommand)\n")
            return signal == SIGTERM ? .terminated : .interrupted
        }
    }

    /// A line saying that locations are the run's copy's, when the program file the run was
    /// started with has changed since (or is not where it was given); otherwise nothing.
    private static func copyNote(_ machine: Machine) -> String {
        let why: String
        switch machine.programFileMatchesRun {
        case true?: return ""
        case false?: why = "\(machine.programName) has changed since the run started"
        case nil: why = "\(machine.programName) is not found from this folder"
        }
        return "  note: line numbers are those of the run's copy, \(machine.folderPath)/program.spak (\(why))\n"
    }

    /// Reports an error that ended a run command and picks its exit status.
    static func failure(_ error: any Error, io: CommandIO) -> ExitStatus {
        io.err("spak: error: \(error)\n")
        return (error as? RecordError).map(status(for:)) ?? .usageOrIO
    }

    static func status(for error: RecordError) -> ExitStatus {
        switch error.kind {
        case .io, .invalidRequest: .usageOrIO
        case .busy: .runBusy
        case .unanswered: .unanswered
        case .notInCassette: .diverged
        case .interrupted: Interruption.requested == SIGTERM ? .terminated : .interrupted
        case .unknownRun, .corrupt, .programChanged, .wrongState: .runUnusable
        }
    }
}
