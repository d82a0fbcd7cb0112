import ArgumentParser
import Foundation
import SPAKBackends
import SPAKCheck
import SPAKDiagnostics
import SPAKImprove
import SPAKKernel

/// `spak improve PROGRAM --tasks FILE`: the outer loop, from the program's runs on a task
/// set to `improved.spak`, a diff and a report.
struct ImproveCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "improve",
        abstract: "Rewrite a program from its runs on a task set, and keep a rewrite only if it does better.",
        discussion: """
            Runs the program on every task of the set (--tasks; each task answered by a \
            responder, a cassette or the model backend), REPEATS times each; reads the runs; \
            proposes changed programs (rewrite rules, and with --reflect a program from SPAK's \
            own improver, itself a recorded run); checks each; runs each on the task set; keeps \
            the Pareto front over the program's objective, llm calls, tokens and wall time; and \
            takes the best by the objective only if it beats the current program by more than \
            the spread seen between repeats. Then again from the winner, up to --rounds. \
            --budget bounds the trials (runs of a candidate on a task) of the whole search. \
            Writes improved.spak, improved.diff, report.md and report.json into --out, with \
            every candidate and run. See docs/improve.md. Exit codes: 0 improved, 8 nothing \
            beat the original, 1 program errors, 2 usage or I/O error (a bad task set).
            """
    )

    @ArgumentParser.Argument(help: "The .spak program to improve.")
    var program: String

    @Option(help: ArgumentHelp("The task set: a JSON file of parameter sets and their answer sources.", valueName: "FILE"))
    var tasks: String

    @Option(help: ArgumentHelp("Trials (runs of a candidate on a task) the whole search may use, the original's included.", valueName: "N"))
    var budget = 60

    @Option(help: ArgumentHelp("Rounds of proposals at most; each starts from the last round's winner.", valueName: "N"))
    var rounds = 3

    @Option(help: ArgumentHelp("The folder for the results (default: .spak/improve/TASK-TIME); it must not exist yet.", valueName: "DIR"))
    var out: String?

    @Flag(help: "Also ask SPAK's reflective improver program for a changed program each round.")
    var reflect = false

    @Option(help: ArgumentHelp(
        "With --reflect: answer the improver's query with CMD (request JSON on standard input, answer on standard output) instead of the model backend.",
        valueName: "CMD"))
    var improverResponder: String?

    @Option(help: ArgumentHelp("Seconds a responder may take for one answer.", valueName: "SECONDS"))
    var responderTimeout: Double = 300

    @OptionGroup(title: "Model backend") var backend: BackendOptions

    func validate() throws {
        if budget < 1 { throw ValidationError("--budget must be at least 1") }
        if rounds < 1 { throw ValidationError("--rounds must be at least 1") }
        if improverResponder != nil, !reflect { throw ValidationError("--improver-responder needs --reflect") }
        if responderTimeout <= 0 { throw ValidationError("--responder-timeout must be positive") }
    }

    func execute(io: CommandIO) -> ExitStatus {
        let checked: CheckedProgram
        do { checked = try Frontend.check(path: program) } catch {
            io.err("spak: error: \(error)\n")
            return .usageOrIO
        }
        guard !checked.hasErrors, let task = checked.parse.program.task else {
            io.err(DiagnosticRenderer().render(checked.bag))
            return .failure
        }
        let taskSet: TaskSet
        let directory: String
        do {
            taskSet = try TaskSet(path: tasks)
            directory = try outputFolder(task: task.name.name)
            if let inside = taskSet.cases.first(where: { $0.workspace.map { directory.hasPrefix($0 + "/") } ?? false }) {
                throw ImproveError("task `\(inside.name)`: its workspace \(inside.workspace!) holds the output folder \(directory), "
                    + "which each trial would copy into itself; give --out a folder outside it")
            }
        } catch {
            io.err("spak: error: \(error)\n")
            return .usageOrIO
        }
        let improver: Improver
        do {
            let model = try backend.backend(io: io, otherSources: !taskSet.usesBackend && !(reflect && improverResponder == nil))
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let runner = ImproveTrialRunner(backend: model, taskDirectory: taskSet.directory, responderTimeout: responderTimeout,
                                            workspacesDirectory: directory + "/workspaces")
            let reflector = reflect ? try ReflectiveProposer(directory: directory + "/improver") { improverSource(model) } : nil
            improver = try Improver(program: checked, taskSet: taskSet, directory: directory,
                                    limits: .init(budget: budget, rounds: rounds), runner: runner, reflector: reflector,
                                    progress: { io.err($0) })
        } catch {
            // Nothing was run: leave no folder behind, so that the same --out can be given again.
            try? FileManager.default.removeItem(atPath: directory)
            io.err("spak: error: \(error)\n")
            return .usageOrIO
        }
        do {
            let result = try improver.run()
            try result.write(to: directory, originalText: checked.parse.file.text)
            io.out(summary(result, directory: directory))
            return result.isImproved ? .success : .notImproved
        } catch {
            io.err("spak: error: \(error)\n  what was done so far is in \(directory)\n")
            return .usageOrIO
        }
    }

    /// The improver's answer source: its responder, else the model backend, else none (its run suspends).
    private func improverSource(_ model: ModelBackend?) -> any AnswerSource {
        if let improverResponder { return ResponderSource(command: improverResponder, timeout: responderTimeout) }
        if let model { return BackendAnswers(backend: model) }
        return SuspendForPerson()
    }

    /// The absolute path of the output folder, which must not exist yet.
    private func outputFolder(task: String) throws(ImproveError) -> String {
        let path: String
        if let out {
            path = out
        } else {
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyyMMdd-HHmmss"
            formatter.timeZone = TimeZone(identifier: "UTC")
            path = ".spak/improve/\(task)-\(formatter.string(from: Date()))"
        }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw ImproveError("\(path) already exists: give --out a new folder, so that an earlier improvement is not mixed in")
        }
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }

    private func summary(_ result: ImprovementResult, directory: String) -> String {
        let here = FileManager.default.currentDirectoryPath + "/"
        let relative = directory.hasPrefix(here) ? String(directory.dropFirst(here.count)) : directory
        var text = "\(result.outcomeLine)\n"
        text += "  \(result.candidates.count) candidates, \(result.trials.count) of \(result.budget) trials, "
        text += String(format: "%.2f s (%.2f s in trials)\n", result.seconds, result.trialSeconds)
        text += "  improved: \(relative)/improved.spak\n  diff:     \(relative)/improved.diff\n  report:   \(relative)/report.md\n"
        return text
    }
}
