/// What `spak analyze` found about one step name over all the runs it read (see docs/analyze.md).
public struct StepStatistics: Sendable, Equatable {
    /// How often one invariant failed after the step, and a few of the values it failed with.
    public struct Violations: Sendable, Equatable {
        /// Failed checks (`invariant.checked` with `ok: false`), or violated occurrences for
        /// `otherViolations`.
        public var count = 0
        /// Up to `RunAnalysis.maxExamples` distinct examples (`score = 0`), each one line of at
        /// most `RunAnalysis.exampleWidth` characters.
        public var examples: [String] = []

        mutating func addExample(_ text: String) {
            let line = TextFolding.cut(text.replacingOccurrences(of: "\n", with: " "), RunAnalysis.exampleWidth)
            guard examples.count < RunAnalysis.maxExamples, !examples.contains(line) else { return }
            examples.append(line)
        }
    }

    /// How the step's `on_fail retry` policy was used.
    public struct Retries: Sendable, Equatable {
        /// `retry` events for the step: attempts used.
        public var used = 0
        /// The policy's bound (`max`), the largest seen; `nil` when the step was never retried.
        public var bound: Int?
        /// Retries that used the last attempt the bound allows (`attempt == max`).
        public var boundHits = 0
        /// Runs that failed because the step was violated again after its last allowed retry.
        public var exhaustedRuns: [String] = []
    }

    /// The prompt of the last `llm.query` in an occurrence of the step that ended `violated`.
    public struct FailurePrompt: Sendable, Equatable {
        /// The run's id.
        public let run: String
        /// Which execution of the step it was (`#N`, counted over the run's whole history).
        public let occurrence: Int
        /// The prompt as sent, whole.
        public let prompt: String
    }

    /// The step's name.
    public let name: String
    /// Runs in which the step began at least once.
    public var runs: [String] = []
    /// Times the step began (`step.started`).
    public var occurrences = 0
    /// Times it finished `completed`.
    public var completed = 0
    /// Times it finished `violated`.
    public var violated = 0
    /// Failed checks and examples, by invariant name.
    public var invariants: [String: Violations] = [:]
    /// Violated occurrences in which no invariant failed (an answer its `schema:` refused…),
    /// with the messages they ended with.
    public var otherViolations = Violations()
    /// The step's retries.
    public var retries = Retries()
    /// `usage.total_tokens` of the `llm.query` answers inside the step.
    public var tokens = 0
    /// The part of `tokens` that was estimated rather than counted by a server.
    public var estimatedTokens = 0
    /// `llm.query` answers inside the step.
    public var llmCalls = 0
    /// `tool.run` answers inside the step.
    public var toolRuns = 0
    /// Finished occurrences that had a `duration_ms`.
    public var timedOccurrences = 0
    /// The sum of `step.finished`'s `duration_ms`.
    public var totalMS = 0.0
    /// Prompts before failures: up to `RunAnalysis.maxPrompts`, in the order the runs were given.
    public var failurePrompts: [FailurePrompt] = []

    /// A step with nothing counted yet.
    public init(name: String) { self.name = name }

    /// Occurrences that have not finished (a run suspended or stopped in the step).
    public var unfinished: Int { max(0, occurrences - completed - violated) }

    /// `violated` over finished occurrences (0 when none finished).
    public var failureRate: Double {
        completed + violated == 0 ? 0 : Double(violated) / Double(completed + violated)
    }

    /// The mean of `duration_ms` over finished occurrences (`nil` when none finished).
    public var meanMS: Double? { timedOccurrences == 0 ? nil : totalMS / Double(timedOccurrences) }
}
