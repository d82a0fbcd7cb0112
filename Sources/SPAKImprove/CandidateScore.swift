import SPAKKernel
import SPAKSyntax

/// What `spak improve` ranks candidates by: the program's declared objective, or, when it
/// declares none, the share of trials that completed.
public struct RankingObjective: Sendable, Equatable {
    /// The metric's name, or `nil` for the share of completed trials.
    public let metric: String?
    /// Whether higher is better.
    public let maximize: Bool

    /// The objective a program declares (`objective maximize NAME`), else the completion rate.
    public init(declaredBy program: Program) {
        if let objective = program.task?.evaluations.first?.objective {
            metric = objective.metric.name
            maximize = objective.direction == .maximize
        } else {
            metric = nil
            maximize = true
        }
    }

    /// Creates an objective.
    public init(metric: String?, maximize: Bool) {
        self.metric = metric
        self.maximize = maximize
    }

    /// How the objective is named in reports.
    public var label: String { metric ?? "completed" }

    /// What a trial without a value counts as: worse than every value seen, by the spread of
    /// the values seen (at least 1); 0 when none was seen. A `bool` objective seen only `true`
    /// thus counts a missing value as 0.
    public func missingValue(seen values: [Double]) -> Double {
        guard let low = values.min(), let high = values.max() else { return 0 }
        let step = max(1, high - low)
        return maximize ? low - step : high + step
    }

    /// The trial's value: the metric as a number (`true` 1, `false` 0), `nil` when the run
    /// has no such value; without a metric, 1 for a completed trial and 0 otherwise.
    public func value(of result: TrialResult) -> Double? {
        guard let metric else { return result.outcome == .completed ? 1 : 0 }
        switch result.metrics[metric] {
        case .bool(let flag)?: return flag ? 1 : 0
        case let value?: return value.number
        case nil: return nil
        }
    }
}

/// One measure of a candidate over its trials: the mean, and the noise (the largest spread
/// between repetitions of one task).
public struct Measure: Sendable, Equatable {
    /// `objective`'s label, or `llm_calls`, `tokens`, `wall_s`.
    public let name: String
    /// Whether higher is better.
    public let higherIsBetter: Bool
    /// The mean over all trials.
    public let mean: Double
    /// The largest max − min of one task's repetitions.
    public let noise: Double
    /// Whether a difference in it can decide dominance: not wall time measured once per task,
    /// whose noise is unknown.
    public let decisive: Bool

    /// Creates a measure.
    public init(name: String, higherIsBetter: Bool, mean: Double, noise: Double, decisive: Bool = true) {
        self.name = name
        self.higherIsBetter = higherIsBetter
        self.mean = mean
        self.noise = noise
        self.decisive = decisive
    }
}

/// A candidate's trials summed up.
public struct CandidateScore: Sendable {
    /// The candidate's id.
    public let candidate: String
    /// Trials run.
    public let trials: Int
    /// Trials that completed.
    public let completed: Int
    /// Trials whose run had no value for the objective (scored as the worst value seen).
    public let missingObjective: Int
    /// The objective first, then the costs: llm calls, tokens, wall seconds.
    public let measures: [Measure]
    /// The mean of every numeric metric over the trials that have it, for the report.
    public let metricMeans: [String: Double]

    /// The objective's measure.
    public var objective: Measure { measures[0] }

    /// Creates a score from its parts.
    public init(candidate: String, trials: Int, completed: Int, missingObjective: Int, measures: [Measure],
                metricMeans: [String: Double]) {
        self.candidate = candidate
        self.trials = trials
        self.completed = completed
        self.missingObjective = missingObjective
        self.measures = measures
        self.metricMeans = metricMeans
    }

    /// Sums up `trials`; a trial without an objective value counts as `worst`.
    public init(candidate: String, trials: [Trial], objective: RankingObjective, worst: Double) {
        self.candidate = candidate
        self.trials = trials.count
        completed = trials.filter { $0.result.outcome == .completed }.count
        missingObjective = trials.filter { objective.value(of: $0.result) == nil }.count
        let repeated = Set(trials.map(\.task)).count < trials.count
        func measure(_ name: String, higherIsBetter: Bool, decisive: Bool = true, _ value: (TrialResult) -> Double) -> Measure {
            let values = trials.map { value($0.result) }
            let mean = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
            var noise = 0.0
            for task in Set(trials.map(\.task)) {
                let repeated = trials.filter { $0.task == task }.map { value($0.result) }
                if let low = repeated.min(), let high = repeated.max() { noise = max(noise, high - low) }
            }
            return Measure(name: name, higherIsBetter: higherIsBetter, mean: mean, noise: noise, decisive: decisive)
        }
        measures = [
            measure(objective.label, higherIsBetter: objective.maximize) { objective.value(of: $0) ?? worst },
            measure("llm_calls", higherIsBetter: false) { Double($0.llmCalls) },
            measure("tokens", higherIsBetter: false) { Double($0.tokens) },
            measure("wall_s", higherIsBetter: false, decisive: repeated) { $0.seconds },
        ]
        var sums: [String: (total: Double, count: Int)] = [:]
        for trial in trials {
            for (name, value) in trial.result.metrics {
                let number: Double? = if case .bool(let flag) = value { flag ? 1 : 0 } else { value.number }
                guard let number else { continue }
                sums[name, default: (0, 0)].total += number
                sums[name, default: (0, 0)].count += 1
            }
        }
        metricMeans = sums.mapValues { $0.total / Double($0.count) }
    }
}
