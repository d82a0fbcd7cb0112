import Foundation
import SPAKKernel

/// Prints where a run stopped and picks the exit status.
enum RunReport {
    static func report(_ stop: Machine.Stop, machine: Machine, io: CommandIO) -> ExitStatus {
        let folder = machine.folderPath
        let id = (folder as NSString).lastPathComponent
        let counters = machine.state.counters
        let summary = "\(counters.steps) step\(counters.steps == 1 ? "" : "s"), \(counters.llmCalls) llm call\(counters.llmCalls == 1 ? "" : "s"), \(counters.toolRuns) tool run\(counters.toolRuns == 1 ? "" : "s")"
        switch stop {
        case .completed:
            var text = "run \(id) completed (\(summary))\n"
            for (name, value) in machine.finalMetrics.sorted(by: { $0.key < $1.key }) {
                text += "  metric \(name) = \(value.text)\n"
            }
            text += "  trace:   \(folder)/trace.json\n  metrics: \(folder)/metrics.json\n"
            io.out(text)
            return .success
        case .failed(let reason):
            io.out("run \(id) failed: \(reason)\n  trace:   \(folder)/trace.json\n  metrics: \(folder)/metrics.json\n")
            return .failure
        case .suspended(let pending):
            io.out("""
                run \(id) is waiting for an answer to \(pending.effect) in step `\(pending.step)` (program.spak:\(pending.location))
                  prompt: \(folder)/pending/prompt.md
                  answer: write it to \(folder)/response.txt, then run: \(machine.resumeCommand ?? "spak step --resume \(id)")

                """)
            return .suspended
        case .paused:
            io.out("run \(id) paused after \(summary); next: spak step \(id)\n")
            return .success
        }
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
        case .unknownRun, .corrupt, .programChanged, .wrongState: .runUnusable
        }
    }
}
