import SPAKKernel

/// One execution of a step: from its `step.started` to its `step.finished` (or to the end
/// of the log, for a step a run is still in), summed up for a table row.
public struct StepOccurrence: Sendable, Equatable {
    /// One invariant check after the step.
    public struct Check: Sendable, Equatable {
        /// The invariant's name.
        public let name: String
        /// Whether it held.
        public let ok: Bool
        /// Why it could not be evaluated, if it could not.
        public let error: String?
    }

    /// The step's name.
    public let step: String
    /// Which execution of the step this is, counting from 1 over the whole run.
    public let number: Int
    /// The seq of its `step.started` event.
    public let startSeq: Int?
    /// `completed` or `violated`; `nil` while the step has not finished.
    public var outcome: String?
    /// How long it took, from `step.finished`.
    public var durationMS: Double?
    /// The last `llm.query` answer in the step.
    public var answer: String?
    /// The exit code of the last `tool.run` in the step.
    public var exitCode: Int?
    /// The invariant checks, in order.
    public var checks: [Check] = []

    /// `ask #2`.
    public var label: String { "\(step) #\(number)" }

    /// Takes in an event that belongs to the step.
    mutating func absorb(_ event: TraceEvent) {
        switch event.type {
        case "step.finished":
            outcome = event.string("outcome")
            durationMS = event["duration_ms"]?.number
        case "effect.answered":
            switch event.string("effect") {
            case "llm.query"?: answer = event["result"]?.text
            case "tool.run"?: exitCode = TraceEvent(event["result"]?.fields ?? [:]).int("exit_code")
            default: break
            }
        case "invariant.checked":
            checks.append(Check(name: event.string("name") ?? "?", ok: event["ok"] == .bool(true), error: event.string("error")))
        default:
            break
        }
    }

    /// The row as JSON (for `spak trace diff --json`).
    public var json: Value {
        var fields: [String: Value] = [
            "step": .string(step), "occurrence": .int(number),
            "outcome": outcome.map(Value.string) ?? .null,
            "checks": .list(checks.map { check in
                var fields: [String: Value] = ["name": .string(check.name), "ok": .bool(check.ok)]
                if let error = check.error { fields["error"] = .string(error) }
                return .map(fields)
            }),
        ]
        if let durationMS { fields["duration_ms"] = .float(durationMS) }
        if let answer { fields["answer"] = .string(answer) }
        if let exitCode { fields["exit_code"] = .int(exitCode) }
        if let startSeq { fields["seq"] = .int(startSeq) }
        return .map(fields)
    }

    /// Whether two rows say the same thing, durations aside.
    func sameResults(as other: StepOccurrence) -> Bool {
        step == other.step && number == other.number && outcome == other.outcome && answer == other.answer
            && exitCode == other.exitCode && checks == other.checks
    }
}

/// Follows a run's events and knows which step occurrence each belongs to.
public struct StepTracker: Sendable {
    private var counts: [String: Int] = [:]
    /// The occurrence in progress: after its `step.started`, up to and including its `step.finished`.
    public private(set) var current: StepOccurrence?
    /// The last occurrence that finished, when no step is in progress.
    public private(set) var previous: StepOccurrence?
    private var closeBeforeNext = false

    /// Starts before a run's first event.
    public init() {}

    /// Takes the next event; returns the occurrence it belongs to (`nil` between steps).
    @discardableResult
    public mutating func advance(_ event: TraceEvent) -> StepOccurrence? {
        if closeBeforeNext {
            previous = current
            current = nil
            closeBeforeNext = false
        }
        switch event.type {
        case "step.started":
            let step = event.string("step") ?? "?"
            counts[step, default: 0] += 1
            if let current { previous = current }
            current = StepOccurrence(step: step, number: counts[step]!, startSeq: event.seq)
        case "step.finished":
            closeBeforeNext = true
        default:
            break
        }
        current?.absorb(event)
        return current
    }
}
