import ArgumentParser
import Foundation
import SPAKBackends
import SPAKKernel

/// `spak fork RUN --at STEP[#N]`: a new run from the state before a step of an old one.
struct ForkCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "fork",
        abstract: "Start a new run from the state a run was in just before one of its steps.",
        discussion: """
            The new run begins at STEP (the Nth time it began, counting loops and retries) with \
            the variables, counters and budgets the old run had there, taken from the nearest \
            snapshot: a fork costs the same early and late in a long run. It records its parent \
            and the fork point (see `spak runs --tree`). It then goes on like `spak run`: \
            --response FILE answers the first request it makes (to try another answer there), \
            and later requests are asked of --backend, --responder or --answers, or wait; with \
            none of these nor --response, of the backend the parent remembers (which the new \
            run remembers in turn). A parent with the default workspace gives the fork a copy of \
            its files as they are now. Exit codes: as `spak run`; 2 also when STEP#N names no \
            step the run began, 4 no such run or a damaged record.
            """
    )

    @ArgumentParser.Argument(help: "The run to fork: its id (see `spak runs`) or its folder.")
    var run: String

    @Option(help: ArgumentHelp("The step to fork before, and which time it began (from 1; needed when it began more than once).",
                               valueName: "STEP[#N]"))
    var at: String

    @Option(help: "The answer to the first request the new run makes (- for standard input).")
    var response: String?

    @OptionGroup var live: LiveOptions
    @OptionGroup var answers: AnswerOptions
    @OptionGroup var cassette: CassetteOptions
    @OptionGroup(title: "Model backend") var backend: BackendOptions
    @OptionGroup var location: RunsLocation

    func execute(io: CommandIO) -> ExitStatus {
        // From the start: a stop request before the run opens is honoured at its first instruction.
        Interruption.watch()
        do {
            let point = try Fork.Point(at)
            var first: Answer?
            if let response {
                guard let answer = ResponseText.answer(fromFile: response, io: io) else { return .usageOrIO }
                first = answer
            }
            let model = try backend.backend(io: io, otherSources: answers.namesSources || response != nil,
                                            remembered: try rememberedBackend(of: run))
            var source = try answers.source(backend: model)
            if let first { source.sources.insert(FirstAnswer(answer: first), at: 0) }
            let tape = try cassette.open(startsRun: true)
            let started = try Fork.start(run, at: point, runsDirectory: location.runsDir, workspace: answers.workspace,
                                         secretVariables: model?.secretVariables ?? [])
            io.out("forked run \(started.machine.runFolder.id) from \(run) at \(started.point) (its event \(started.seq))\n")
            try prepare(started.machine, backend: model, startsRun: true)
            try live.apply(to: started.machine)
            if let tape { try started.machine.attach(tape) }
            let stop = try started.machine.run(answers: &source)
            return withExtendedLifetime(started.lock) { RunReport.report(stop, machine: started.machine, io: io) }
        } catch {
            return RunReport.failure(error, io: io)
        }
    }
}

/// `--response FILE`: answers the first request, and only that one.
private struct FirstAnswer: AnswerSource {
    var answer: Answer?

    mutating func answer(_ request: PendingRequest, answersUsed: inout Int) throws(AnswerFailure) -> Answer? {
        defer { answer = nil }
        return answer
    }
}
