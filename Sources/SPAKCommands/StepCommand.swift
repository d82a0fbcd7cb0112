import ArgumentParser
import Foundation
import SPAKBackends
import SPAKCheck
import SPAKKernel

/// `spak step RUN` (one step, then pause) and `spak step --resume RUN` (answer the pending
/// request and go on).
struct StepCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Execute one step of a run, or resume a waiting run with its answer.",
        discussion: """
            Without --resume: executes the next step and pauses. With --resume: takes the answer \
            to the pending request from --response FILE (- for standard input), else the run's \
            response.txt, else --backend, --responder or --answers; a pending tool.run (the run \
            was started without --live) is executed instead when --live is given. Then it goes on \
            until the run ends or waits again, asking them for later requests. Ctrl-C stops the \
            run cleanly between instructions (exit 130; 143 for SIGTERM): it goes on with \
            `spak step --resume RUN`. A run interrupted by a crash is recovered when it is \
            opened: answers already recorded are reused, and events after the last snapshot \
            are recomputed. Exit codes: 0 completed or paused, 1 run failed, 2 usage or I/O \
            error, 3 suspended, 4 no such run or a damaged or edited record, 5 run in use, 6 \
            suspended because the answer source failed (resume later).
            """
    )

    @ArgumentParser.Argument(help: "The run: its id (see `spak runs`) or its folder.")
    var run: String

    @Flag(help: "Answer the pending request and go on until the run ends or waits again.")
    var resume = false

    @Option(help: "The file holding the answer (- for standard input); default: the run's response.txt.")
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
            let model = try backend.backend(io: io, otherSources: answers.namesSources, remembered: try rememberedBackend(of: run))
            var source = try answers.source(backend: model)
            let tape = try cassette.open(startsRun: false)
            let opened = try RunStore.open(run, runsDirectory: location.runsDir, workspace: answers.workspace,
                                           secretVariables: model?.secretVariables ?? [])
            let machine = opened.machine
            try live.apply(to: machine)
            try prepare(machine, backend: model, startsRun: false)
            if let tape { try machine.attach(tape) }
            if let recovery = opened.recovery { io.err("spak: note: \(recovery)\n") }
            guard case .suspended(let pending) = machine.state.status else {
                if resume, response != nil {
                    throw RecordError("run \(run) is not waiting for an answer (it is \(machine.state.status.name))", kind: .wrongState)
                }
                if machine.state.status.isFinal {
                    if try machine.exportIfBehind() {
                        io.err("spak: note: the run had ended before a crash cut its export short; trace.json and metrics.json were written again\n")
                        return .success
                    }
                    throw RecordError("run \(run) has already \(machine.state.status.name)", kind: .wrongState)
                }
                let stop = try machine.run(answers: &source, singleStep: !resume)
                return RunReport.report(stop, machine: machine, io: io)
            }
            guard resume else { throw waiting(pending, machine: machine) }
            if pending.effect == "tool.run", live.live, !machine.hasRecoveredAnswerForPending {
                try refuseAnswerBesideLive(machine)
                return RunReport.report(try machine.runPendingCommand(answers: &source), machine: machine, io: io)
            }
            guard let answer = try answer(for: pending, machine: machine, source: &source, io: io) else {
                return .usageOrIO
            }
            return RunReport.report(try machine.resume(with: answer, answers: &source), machine: machine, io: io)
        } catch {
            return RunReport.failure(error, io: io)
        }
    }

    /// The answer to the pending request: --response, else response.txt, else the sources.
    ///
    /// response.txt is consumed by renaming it to pending/answer-INDEX.txt before the answer
    /// is recorded: a resume that a crash interrupts finds it there again, and it can never
    /// answer a later request.
    private func answer(for pending: PendingRequest, machine: Machine, source: inout AnswerChain, io: CommandIO)
        throws -> Answer?
    {
        if let recovered = machine.recoveredAnswerForPending() { return recovered }
        let responseFile = machine.runFolder.responseFile
        let consumed = machine.runFolder.pendingDirectory + "/answer-\(pending.index).txt"
        if let response { return ResponseText.answer(fromFile: response, io: io) }
        if let recorded = try machine.cassetteAnswerForPending() { return recorded }
        if let data = FileManager.default.contents(atPath: consumed) {
            return ResponseText.answer(data, from: "response-file", io: io)
        }
        if let data = FileManager.default.contents(atPath: responseFile) {
            guard let answer = ResponseText.answer(data, from: "response-file", io: io) else { return nil }
            guard rename(responseFile, consumed) == 0 else {
                throw RecordError("cannot take the answer from \(responseFile): \(String(cString: strerror(errno)))")
            }
            return answer
        }
        if let automatic = try machine.askPending(&source) { return automatic }
        if pending.effect == "tool.run" {
            io.err("""
                spak: error: no answer for tool.run in step `\(pending.step)`: run the command with \
                `\(machine.liveResumeCommand)` (its allow lines admit it), or write its result to \(responseFile) \
                and run `\(machine.manualResumeCommand)`

                """)
        } else {
            io.err("""
                spak: error: no answer for \(pending.effect) in step `\(pending.step)`: write it to \(responseFile) \
                (the prompt is in \(machine.runFolder.promptFile)) and run `\(machine.resumeCommand)`, or pass --response FILE

                """)
        }
        return nil
    }

    /// Why `spak step RUN` (without --resume) cannot go on: the run waits, and the command
    /// that answers it.
    private func waiting(_ pending: PendingRequest, machine: Machine) -> RecordError {
        let id = machine.runFolder.id
        guard pending.effect == "tool.run" else {
            return RecordError("run \(id) is waiting for an answer to \(pending.effect) in step `\(pending.step)`: write it to "
                               + "\(machine.runFolder.responseFile), then run `\(machine.resumeCommand)`", kind: .wrongState)
        }
        return RecordError("run \(id) is waiting at tool.run in step `\(pending.step)`: run it with `\(machine.liveResumeCommand)`, "
                           + "or write its result to \(machine.runFolder.responseFile) and run `\(machine.manualResumeCommand)`",
                           kind: .wrongState)
    }

    /// With --live, the pending command is executed: an answer given beside it would be
    /// ignored, so it is refused instead of guessed between.
    private func refuseAnswerBesideLive(_ machine: Machine) throws(RecordError) {
        let written = FileManager.default.fileExists(atPath: machine.runFolder.responseFile)
        guard response != nil || written else { return }
        let given = response != nil ? "--response" : machine.runFolder.responseFile
        throw RecordError("the pending tool.run would be executed (--live) and also answered by \(given); "
                          + "drop --live to take that answer, or remove it to run the command", kind: .invalidRequest)
    }
}
