import ArgumentParser
import Foundation
import SPAKBackends
import SPAKCheck
import SPAKDiagnostics
import SPAKKernel

/// `spak run PROGRAM`: check a program, start a run, and go until it ends or waits.
struct RunCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start a run of a program.",
        discussion: """
            Checks the program, creates .spak/runs/<id>/ and executes step by step. With --live, \
            tool.run commands that the program's allow lines admit are executed in the workspace \
            (argument vectors, no shell; scrubbed environment; timeout and output cap; writes \
            confined to the workspace where the kernel has Landlock). With --backend (or \
            SPAK_BACKEND, or .spak/backend.json), a model server answers each llm.query; the API \
            key comes from the environment only (OPENAI_API_KEY, OLLAMA_API_KEY or SPAK_API_KEY) \
            and is never recorded. Otherwise, at an llm.query, and at a tool.run without --live, \
            the run asks --responder or --answers; with neither, it suspends: the prompt is \
            written to pending/prompt.md, and `spak step --resume <id>` goes on once the answer \
            is in response.txt (a tool.run that waits is executed by `spak step --resume <id> \
            --live`). With --step, only the first step runs, then the run pauses. Ctrl-C (or \
            SIGTERM) stops the run cleanly between instructions, with its record up to date; a \
            command running then is killed and runs again on resume. Exit codes: 0 completed, 1 \
            program errors or run failed, 2 usage or I/O error, 3 suspended (waiting for an \
            answer), 6 suspended because the answer source failed (a server that gave up; resume \
            later), 130 stopped by Ctrl-C, 143 stopped by SIGTERM.
            """
    )

    @ArgumentParser.Argument(help: "The .spak program to run.")
    var program: String

    @Option(name: .customLong("param"), help: "A task parameter, NAME=VALUE (repeatable).")
    var parameters: [String] = []

    @Flag(help: "Execute only the first step, then pause (go on with `spak step RUN`).")
    var step = false

    @OptionGroup var live: LiveOptions
    @OptionGroup var answers: AnswerOptions
    @OptionGroup var cassette: CassetteOptions
    @OptionGroup(title: "Model backend") var backend: BackendOptions
    @OptionGroup var location: RunsLocation

    func execute(io: CommandIO) -> ExitStatus {
        // From the start: a stop request before the run opens is honoured at its first instruction.
        Interruption.watch()
        let checked: CheckedProgram
        do {
            checked = try Frontend.check(path: program)
        } catch {
            io.err("spak: error: \(error)\n")
            return .usageOrIO
        }
        guard !checked.hasErrors, let task = checked.parse.program.task else {
            io.err(DiagnosticRenderer().render(checked.bag))
            return .failure
        }
        let values: [String: Value]
        do {
            values = try Parameters.resolve(try parsedParameters(), for: task)
        } catch {
            io.err("spak: error: \(error)\n")
            return .usageOrIO
        }
        do {
            let model = try backend.backend(io: io, otherSources: answers.namesSources)
            var source = try answers.source(backend: model)
            let tape = try cassette.open(startsRun: true)
            let started = try RunStore.start(checked, parameters: values, runsDirectory: location.runsDir,
                                             workspace: answers.workspace, secretVariables: model?.secretVariables ?? [])
            try prepare(started.machine, backend: model, startsRun: true)
            try live.apply(to: started.machine)
            if let tape { try started.machine.attach(tape) }
            let stop = try started.machine.run(answers: &source, singleStep: step)
            return withExtendedLifetime(started.lock) { RunReport.report(stop, machine: started.machine, io: io) }
        } catch {
            return RunReport.failure(error, io: io)
        }
    }

    private func parsedParameters() throws(Parameters.Problem) -> [(String, String)] {
        try parameters.map { text throws(Parameters.Problem) in
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw Parameters.Problem(description: "--param takes NAME=VALUE, not `\(text)`")
            }
            return (String(text[..<equals]), String(text[text.index(after: equals)...]))
        }
    }
}
