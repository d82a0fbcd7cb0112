import Foundation
import SPAKBackends
import SPAKCheck
import SPAKImprove
import SPAKKernel

/// Runs one trial of `spak improve` in this process, as `spak run` would run it: the task's
/// parameters, its answer source (responder, cassette or the model backend), its workspace
/// copied afresh, and `--live` when the task asks for it.
struct ImproveTrialRunner: TrialRunner {
    /// The backend for tasks with `"backend": true`.
    let backend: ModelBackend?
    /// The folder responders run in and workspaces are copied from (the task set's).
    let taskDirectory: String
    /// Seconds a responder may take for one answer.
    let responderTimeout: Double
    /// Where workspace copies go.
    let workspacesDirectory: String

    func run(_ program: CheckedProgram, on task: TaskSet.Case, runsDirectory: String) -> TrialResult {
        let clock = Date()
        var source = TimedAnswers(chain: AnswerChain(sources: []))
        func ended(_ outcome: Trial.Outcome, run: String?, reason: String?, machine: Machine? = nil) -> TrialResult {
            let counters = machine?.state.counters
            // A run that did not complete scores what it reached: its metrics over the variables it ended with.
            let metrics = outcome == .completed ? machine?.finalMetrics : machine?.evaluateMetrics().values
            return TrialResult(outcome: outcome, run: run, reason: reason, metrics: metrics ?? [:],
                               llmCalls: counters?.llmCalls ?? 0, tokens: counters?.tokens ?? 0,
                               seconds: Date().timeIntervalSince(clock), answerSeconds: source.seconds)
        }
        guard let declaration = program.parse.program.task else { return ended(.error, run: nil, reason: "the program has no task") }
        let parameters: [String: Value]
        do { parameters = try Parameters.resolve(task.parameters, for: declaration) } catch {
            return ended(.error, run: nil, reason: "the task's parameters: \(error)")
        }
        var tape: Cassette?
        do {
            switch task.answers {
            case .responder(let command):
                source.chain.sources.append(ResponderSource(command: command, timeout: responderTimeout, directory: taskDirectory))
            case .cassette(let path):
                tape = try Cassette(path: path, mode: .play, startsRun: true)
            case .backend:
                guard let backend else { return ended(.error, run: nil, reason: "the task asks for the model backend, and none was given (--backend)") }
                source.chain.sources.append(BackendAnswers(backend: backend))
            }
            let workspace = try task.workspace.map(copyWorkspace)
            let model = task.answers == .backend ? backend : nil
            let started = try RunStore.start(program, parameters: parameters, runsDirectory: runsDirectory, workspace: workspace,
                                             secretVariables: model?.secretVariables ?? [])
            let machine = started.machine
            if let model { try RememberedBackend(model.settings).write(to: machine.runFolder) }
            return withExtendedLifetime(started.lock) {
                do {
                    if task.live { try machine.enableLiveTools(environment: ProcessInfo.processInfo.environment) }
                    if let tape { try machine.attach(tape) }
                    switch try machine.run(answers: &source) {
                    case .completed: return ended(.completed, run: machine.folderPath, reason: nil, machine: machine)
                    case .failed(let reason): return ended(.failed, run: machine.folderPath, reason: reason, machine: machine)
                    case .suspended(let pending):
                        return ended(.unanswered, run: machine.folderPath,
                                     reason: "no answer to \(pending.effect) in step `\(pending.step)` from the task's source", machine: machine)
                    case .paused: return ended(.error, run: machine.folderPath, reason: "the run paused", machine: machine)
                    case .interrupted: return ended(.error, run: machine.folderPath, reason: "the run was interrupted", machine: machine)
                    }
                } catch {
                    let kind = (error as? RecordError)?.kind
                    let outcome: Trial.Outcome = kind == .unanswered || kind == .notInCassette ? .unanswered : .error
                    return ended(outcome, run: machine.folderPath, reason: "\(error)", machine: machine)
                }
            }
        } catch {
            return ended(.error, run: nil, reason: "\(error)")
        }
    }

    /// Answers from a chain of sources, with the seconds spent waiting for them.
    private struct TimedAnswers: AnswerSource {
        var chain: AnswerChain
        var seconds = 0.0

        mutating func answer(_ request: PendingRequest, answersUsed: inout Int) throws(AnswerFailure) -> Answer? {
            let start = Date()
            defer { seconds += Date().timeIntervalSince(start) }
            return try chain.answer(request, answersUsed: &answersUsed)
        }
    }

    /// A fresh copy of a task's workspace folder.
    private func copyWorkspace(_ folder: String) throws(RecordError) -> String {
        let target = workspacesDirectory + "/" + UUID().uuidString.prefix(8).lowercased()
        do {
            try FileManager.default.createDirectory(atPath: workspacesDirectory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: folder, toPath: target)
        } catch {
            throw RecordError("cannot copy the workspace \(folder): \(error.localizedDescription)")
        }
        return target
    }
}
