import SPAKCheck
import SPAKKernel

/// One run of one candidate on one task of the set.
public struct Trial: Sendable {
    /// How the run ended.
    public enum Outcome: String, Sendable {
        /// It completed; its metrics were computed.
        case completed
        /// An invariant, a budget or a run-time error ended it.
        case failed
        /// It waited for an answer its task's source did not give.
        case unanswered
        /// It could not be run (a folder not writable, a parameter refused).
        case error
    }

    /// The candidate's id (`c0` is the original).
    public let candidate: String
    /// The task's name.
    public let task: String
    /// Which repetition of the task, from 1.
    public let repetition: Int
    /// What the run did.
    public let result: TrialResult
}

/// What a run of a program on a task came to.
public struct TrialResult: Sendable {
    /// How it ended.
    public let outcome: Trial.Outcome
    /// The run's folder, relative to the improvement's folder, when a run was created.
    public let run: String?
    /// Why it did not complete.
    public let reason: String?
    /// The `evaluation` metrics of a completed run.
    public let metrics: [String: Value]
    /// `llm.query` answers used.
    public let llmCalls: Int
    /// Tokens of those answers.
    public let tokens: Int
    /// Seconds from start to end, answers included.
    public let seconds: Double
    /// Of those, the seconds spent waiting for answers (responder processes, model servers).
    public let answerSeconds: Double

    /// Creates a result.
    public init(outcome: Trial.Outcome, run: String?, reason: String?, metrics: [String: Value], llmCalls: Int, tokens: Int,
                seconds: Double, answerSeconds: Double = 0) {
        self.outcome = outcome
        self.run = run
        self.reason = reason
        self.metrics = metrics
        self.llmCalls = llmCalls
        self.tokens = tokens
        self.seconds = seconds
        self.answerSeconds = answerSeconds
    }
}

/// Runs a checked program once on a task, to its end: the part of `spak improve` that knows
/// where answers come from (responders, cassettes, backends), given by the command.
public protocol TrialRunner {
    /// Runs `program` on `task` with its run folder under `runsDirectory`.
    func run(_ program: CheckedProgram, on task: TaskSet.Case, runsDirectory: String) -> TrialResult
}
