import Foundation
import SPAKKernel

/// `spak analyze`: runs of one program summed up per step (how often each failed, which
/// invariants with what values, retries against their bounds, tokens and time, the prompts
/// before failures) and over all runs (statuses, failure reasons, budgets, totals).
///
/// Each run is read with its history (a fork with its parent's events before the fork point),
/// but only what the analysis has not counted already: a fork given with one of its ancestors
/// counts only the events after that ancestor's part of its history. See docs/analyze.md.
public struct RunAnalysis: Sendable {
    /// One budget over the runs that have it.
    public struct BudgetUse: Sendable, Equatable {
        /// `llm.calls`, `llm.tokens`, `tool.runs` or `wall_time`.
        public let name: String
        /// The program's limit (the largest, if program versions differ).
        public var limit: Double
        /// Runs whose program has the budget.
        public var runs: Int
        /// The most any run used (as `spak status` counts it, from `state.json`).
        public var maxUsed: Double
        /// The mean over those runs.
        public var meanUsed: Double
        /// Runs that ran out of it (a `budget.exceeded` event).
        public var exceeded: Int
    }

    /// One reason runs failed for (`run.failed`'s `reason`), and the runs.
    public struct FailureReason: Sendable, Equatable {
        /// The reason, whole.
        public let reason: String
        /// The runs that failed for it, in the order given.
        public var runs: [String]
    }

    /// What happened over all runs.
    public struct Summary: Sendable, Equatable {
        /// Runs by status (`completed`, `failed`, `suspended`, `ready`).
        public var statuses: [String: Int] = [:]
        /// `usage.total_tokens` of every `llm.query` answer counted.
        public var tokens = 0
        /// The part of `tokens` that was estimated.
        public var estimatedTokens = 0
        /// `llm.query` answers counted.
        public var llmCalls = 0
        /// `tool.run` answers counted.
        public var toolRuns = 0
        /// Seconds the kernel spent executing (from `state.json`, a fork's counted part only).
        public var activeSeconds = 0.0
    }

    /// At most this many examples per invariant.
    public static let maxExamples = 3
    /// Examples are cut at this many characters.
    public static let exampleWidth = 120
    /// At most this many prompts before failures per step.
    public static let maxPrompts = 3

    /// The task the runs ran.
    public let task: String
    /// The runs' ids, in the order given (a run given twice counts once).
    public let runs: [String]
    /// The distinct `program_hash`es of the runs, sorted.
    public let programHashes: [String]
    /// Per step, in the order the steps first began.
    public let steps: [StepStatistics]
    /// Over all runs.
    public let summary: Summary
    /// Per budget, by name.
    public let budgets: [BudgetUse]
    /// Why runs failed, the most frequent reason first.
    public let failures: [FailureReason]
    /// Things a reader should know: an ancestor missing, a run given twice.
    public let notes: [String]

    /// How many versions of the program the runs ran.
    public var programVersions: Int { programHashes.count }

    /// Opens runs by id (under `runsDirectory`) or folder and analyzes them.
    public init(_ references: [String], runsDirectory: String) throws(RecordError) {
        var runs: [TracedRun] = []
        for reference in references { runs.append(try TracedRun(reference, runsDirectory: runsDirectory)) }
        try self.init(runs)
    }

    /// Analyzes runs of one task. Throws `invalidRequest` for no runs or runs of different
    /// tasks, and the reading errors of a damaged record.
    public init(_ given: [TracedRun]) throws(RecordError) {
        guard !given.isEmpty else {
            throw RecordError("no runs to analyze: name one or more run ids or folders", kind: .invalidRequest)
        }
        var notes: [String] = []
        var runs: [TracedRun] = []
        var seen: Set<String> = []
        for run in given {
            if seen.insert(Self.canonical(run.view.folder.path)).inserted {
                runs.append(run)
            } else {
                notes.append("run \(run.id) was given more than once; it is counted once")
            }
        }
        let tasks = Dictionary(grouping: runs, by: \.task)
        guard tasks.count == 1, let task = tasks.keys.first else {
            let listed = tasks.sorted { $0.key < $1.key }
                .map { "`\($0.key)` (\(TextFolding.plural($0.value.count, "run")))" }.joined(separator: ", ")
            throw RecordError("the runs are of different programs, \(listed), whose steps do not compare: "
                              + "analyze one task's runs at a time", kind: .invalidRequest)
        }
        var tally = Tally()
        for run in runs {
            let from = Self.countFrom(run, among: seen)
            try tally.add(run, countingFrom: from)
            if let note = run.history.note { notes.append("run \(run.id): \(note)") }
        }
        self.task = task
        self.runs = runs.map(\.id)
        programHashes = Set(runs.compactMap { $0.view.info["program_hash"]?.textIfString }).sorted()
        steps = tally.order.compactMap { tally.steps[$0] }
        summary = tally.summary
        budgets = tally.budgetUses()
        let reasons = tally.failureOrder.map { FailureReason(reason: $0, runs: tally.failures[$0] ?? []) }
        failures = reasons.enumerated().sorted { a, b in
            a.element.runs.count != b.element.runs.count ? a.element.runs.count > b.element.runs.count : a.offset < b.offset
        }.map(\.element)
        self.notes = notes
    }

    /// The seq from which a run's events count: the end of the part of its history that the
    /// nearest ancestor among the runs analyzed counts itself (`nil`: all of them).
    private static func countFrom(_ run: TracedRun, among analyzed: Set<String>) -> Int? {
        let segments = run.history.segments
        for index in stride(from: segments.count - 2, through: 0, by: -1)
        where analyzed.contains(canonical(segments[index].folder.path)) {
            return segments[index].limit
        }
        return nil
    }

    /// A folder's path with `.`, `..` and links resolved, to tell runs apart.
    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}

/// The counts as the runs are read.
private struct Tally {
    var steps: [String: StepStatistics] = [:]
    var order: [String] = []
    var summary = RunAnalysis.Summary()
    var failures: [String: [String]] = [:]
    var failureOrder: [String] = []
    var budgetLimits: [String: Double] = [:]
    var budgetUsed: [String: [Double]] = [:]
    var budgetExceeded: [String: Set<String>] = [:]

    mutating func add(_ run: TracedRun, countingFrom from: Int?) throws(RecordError) {
        let id = run.id
        summary.statuses[run.status, default: 0] += 1
        let used = run.view.used
        for (name, limit) in run.view.budgets where RunView.spentBudgets.contains(name) {
            budgetLimits[name] = max(budgetLimits[name] ?? limit, limit)
            budgetUsed[name, default: []].append(used[name] ?? 0)
        }
        var active = run.view.state.counters.activeSeconds
        if let from, let start = Self.activeSeconds(before: from, in: run.history) { active -= start }
        summary.activeSeconds += max(0, active)

        var tracker = StepTracker()
        var lastPrompt: String?
        var pendingViolation: String?  // the step a `violated` ended, until its retry or the run's failure
        var lastRetry: [String: (attempt: Int, max: Int)] = [:]
        try run.history.forEach { event in
            let counted = from.map { (event.seq ?? Int.max) >= $0 } ?? true
            let occurrence = tracker.advance(event)
            switch event.type {
            case "step.started":
                lastPrompt = nil
                guard counted, let occurrence else { break }
                update(occurrence.step) { step in
                    step.occurrences += 1
                    if step.runs.last != id { step.runs.append(id) }
                }
            case "effect.requested":
                if event.string("effect") == "llm.query", occurrence != nil {
                    lastPrompt = TraceEvent(event["request"]?.fields ?? [:]).string("prompt")
                }
            case "effect.answered":
                guard counted else { break }
                answered(event, in: occurrence?.step)
            case "invariant.checked":
                guard counted, event["ok"] != .bool(true), let step = event.string("step") ?? occurrence?.step else { break }
                update(step) { $0.invariants[event.string("name") ?? "?", default: .init()].count += 1 }
            case "step.finished":
                guard let occurrence else { break }
                let violated = event.string("outcome") == "violated"
                if violated { pendingViolation = occurrence.step } else { lastRetry[occurrence.step] = nil }
                guard counted else { break }
                update(occurrence.step) { step in
                    if violated {
                        step.violated += 1
                        if !occurrence.checks.contains(where: { !$0.ok }) { step.otherViolations.count += 1 }
                        if let lastPrompt, step.failurePrompts.count < RunAnalysis.maxPrompts {
                            step.failurePrompts.append(.init(run: id, occurrence: occurrence.number, prompt: lastPrompt))
                        }
                    } else if event.string("outcome") == "completed" {
                        step.completed += 1
                    }
                    if let ms = event["duration_ms"]?.number {
                        step.timedOccurrences += 1
                        step.totalMS += ms
                    }
                }
            case "retry":
                let name = event.string("step") ?? "?"
                let attempt = event.int("attempt") ?? 0, bound = event.int("max") ?? 0
                lastRetry[name] = (attempt, bound)
                if counted {
                    update(name) { step in
                        step.retries.used += 1
                        step.retries.bound = max(step.retries.bound ?? bound, bound)
                        if attempt >= bound { step.retries.boundHits += 1 }
                    }
                    if let violated = pendingViolation { example(event["feedback"]?.text ?? "", step: violated) }
                }
                pendingViolation = nil
            case "run.failed":
                let reason = event["reason"]?.text ?? ""
                if counted {
                    if failures[reason] == nil { failureOrder.append(reason) }
                    failures[reason, default: []].append(id)
                    if let violated = pendingViolation {
                        example(reason, step: violated)
                        if let retry = lastRetry[violated], retry.attempt >= retry.max {
                            update(violated) { $0.retries.exhaustedRuns.append(id) }
                        }
                    }
                }
                pendingViolation = nil
            case "budget.exceeded":
                if counted { budgetExceeded[event.string("budget") ?? "?", default: []].insert(id) }
            default:
                break
            }
        }
    }

    /// Counts an effect's answer for the run and, inside a step, for the step.
    private mutating func answered(_ event: TraceEvent, in step: String?) {
        switch event.string("effect") {
        case "llm.query"?:
            let usage = TraceEvent(event["usage"]?.fields ?? [:])
            let tokens = usage.int("total_tokens") ?? 0
            let estimated = usage["estimated"] == .bool(true) ? tokens : 0
            summary.llmCalls += 1
            summary.tokens += tokens
            summary.estimatedTokens += estimated
            if let step {
                update(step) { stats in
                    stats.llmCalls += 1
                    stats.tokens += tokens
                    stats.estimatedTokens += estimated
                }
            }
        case "tool.run"?:
            summary.toolRuns += 1
            if let step { update(step) { $0.toolRuns += 1 } }
        default:
            break
        }
    }

    /// Takes an example from the message a violation ended with: `invariant `NAME` (…) does
    /// not hold after step `S`; score = 0[; step `S` was retried N times (max M)]`.
    private mutating func example(_ message: String, step: String) {
        let marker = " does not hold after step `\(step)`"
        guard message.hasPrefix("invariant `"), let end = message.range(of: marker) else {
            if !message.isEmpty { update(step) { $0.otherViolations.addExample(message) } }
            return
        }
        let name = String(message.dropFirst("invariant `".count).prefix { $0 != "`" })
        var detail = String(message[end.upperBound...])
        if let retried = detail.range(of: "; step `\(step)` was retried ", options: .backwards) {
            detail = String(detail[..<retried.lowerBound])
        }
        if detail.hasPrefix("; ") || detail.hasPrefix(": ") { detail.removeFirst(2) }
        update(step) { $0.invariants[name, default: .init()].addExample(detail.isEmpty ? message : detail) }
    }

    private mutating func update(_ name: String, _ change: (inout StepStatistics) -> Void) {
        if steps[name] == nil {
            steps[name] = StepStatistics(name: name)
            order.append(name)
        }
        change(&steps[name]!)
    }

    func budgetUses() -> [RunAnalysis.BudgetUse] {
        budgetLimits.keys.sorted().map { name in
            let used = budgetUsed[name] ?? []
            return RunAnalysis.BudgetUse(
                name: name, limit: budgetLimits[name] ?? 0, runs: used.count, maxUsed: used.max() ?? 0,
                meanUsed: used.isEmpty ? 0 : used.reduce(0, +) / Double(used.count), exceeded: budgetExceeded[name]?.count ?? 0)
        }
    }

    /// The kernel's active seconds when the history reached seq `from`: the first snapshot of
    /// the run whose part of the history starts there (a fork's first snapshot is the state
    /// it was forked in).
    private static func activeSeconds(before from: Int, in history: RunHistory) -> Double? {
        let segments = history.segments
        guard let index = segments.firstIndex(where: { $0.limit == from }), index + 1 < segments.count,
              let line = firstLine(of: segments[index + 1].folder.snapshotsFile),
              let state = try? JSON.parse(line) else { return nil }
        return state.fields["counters"]?.fields["active_seconds"]?.number
    }

    /// The first line of a file, read a piece at a time.
    private static func firstLine(of path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var bytes = Data()
        while let chunk = try? handle.read(upToCount: 1 << 16), !chunk.isEmpty {
            if let newline = chunk.firstIndex(of: UInt8(ascii: "\n")) {
                bytes.append(chunk[chunk.startIndex..<newline])
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.append(chunk)
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}
