import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKKernel
import SPAKSyntax
import SPAKTrace

/// The outer loop: evaluate the program on the task set, propose changed programs from its
/// runs (rewrite rules, and the reflective improver when asked), evaluate each, and keep the
/// best by the program's objective when it beats the current one by more than the noise (or,
/// the objective tied, does the same for fewer llm calls or tokens); then go again from the
/// winner, until a round finds nothing better, the rounds run out, or the budget of trials is
/// spent.
public final class Improver {
    /// How far the search may go.
    public struct Limits: Sendable {
        /// Trials (runs of a candidate on a task) in all, the original's included.
        public var budget: Int
        /// Rounds of proposals at most.
        public var rounds: Int

        /// Creates limits.
        public init(budget: Int, rounds: Int) {
            self.budget = budget
            self.rounds = rounds
        }
    }

    /// One round: the candidate it started from and what it found.
    public struct Round: Sendable {
        /// The round's number, from 1.
        public let number: Int
        /// The candidate it started from.
        public let base: String
        /// The candidate that beat `base`, if one did.
        public var winner: String?
        /// What the round found, in a sentence.
        public var note: String
    }

    /// Where the improvement is written: `candidates/`, `runs/`, `improver/`.
    public let directory: String
    let taskSet: TaskSet
    let limits: Limits
    let runner: any TrialRunner
    let reflector: ReflectiveProposer?
    let progress: (String) -> Void
    let objective: RankingObjective
    let originalDraft: ProgramDraft
    let programName: String

    var candidates: [Candidate] = []
    var trials: [Trial] = []
    var rounds: [Round] = []
    /// The improver's own runs' llm calls and tokens.
    var improverCost = (llmCalls: 0, tokens: 0)
    /// Canonical text (and templates) of every program tried, to skip repeats.
    private var tried: [(text: String, templates: [String: String])] = []
    /// Candidates skipped this round as repeats of earlier ones.
    private var duplicates = 0

    /// Reads and checks the program (errors are the caller's to report first).
    public init(program checked: CheckedProgram, taskSet: TaskSet, directory: String, limits: Limits, runner: any TrialRunner,
                reflector: ReflectiveProposer?, progress: @escaping (String) -> Void) throws(ImproveError) {
        guard !checked.hasErrors, checked.parse.program.task != nil else { throw ImproveError("the program has errors") }
        self.programName = (checked.parse.file.path as NSString).lastPathComponent
        self.taskSet = taskSet
        self.directory = directory
        self.limits = limits
        self.runner = runner
        self.reflector = reflector
        self.progress = progress
        objective = RankingObjective(declaredBy: checked.parse.program)
        originalDraft = ProgramDraft(program: checked.parse.program, source: checked.parse.file,
                                     templates: try Self.readTemplates(of: checked))
        let perCandidate = taskSet.cases.count * taskSet.repeats
        guard limits.budget >= 2 * perCandidate else {
            throw ImproveError("a budget of \(limits.budget) trials is too small: the original and one candidate take "
                + "\(2 * perCandidate) (\(taskSet.cases.count) tasks × \(taskSet.repeats) repeats each)")
        }
    }

    /// Trials one candidate takes.
    var trialsPerCandidate: Int { taskSet.cases.count * taskSet.repeats }

    /// Whether the budget can pay for one more candidate.
    var canEvaluateAnother: Bool { trials.count + trialsPerCandidate <= limits.budget }

    /// Runs the search and writes nothing but candidates and runs; see `ImprovementResult`.
    public func run() throws(ImproveError) -> ImprovementResult {
        let started = Date()
        try add(originalDraft, parent: nil, round: 0, origin: .original, rules: [], changes: [])
        var base = 0
        candidates[base].verdict = "the starting point"
        let unrun = trials.filter { $0.result.run == nil }
        if unrun.count == trials.count {
            let reasons = unrun.map { "task `\($0.task)`: \($0.result.reason ?? "no reason given")" }
            throw ImproveError("the original program could not be run on any task:\n  "
                + reasons.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.joined(separator: "\n  "))
        }
        for number in 1...max(1, limits.rounds) {
            guard canEvaluateAnother else {
                rounds.append(Round(number: number, base: candidates[base].id, winner: nil, note: "not begun: the budget is spent"))
                break
            }
            let baseID = candidates[base].id
            progress("round \(number): proposing changes to \(baseID)\n")
            duplicates = 0
            let made = try proposals(from: base, round: number)
            rescore()
            let front = Set(Selection.paretoFront(candidates.compactMap(\.score)).map(\.candidate))
            for index in candidates.indices { candidates[index].onFront = front.contains(candidates[index].id) }
            let contenders = made.compactMap { candidates[$0].score }.filter { front.contains($0.candidate) }
            let winner = Selection.winner(among: contenders, over: candidates[base].score!)
            for index in made { candidates[index].verdict = verdict(for: index, base: base, winner: winner?.candidate) }
            if let winner, let index = candidates.firstIndex(where: { $0.id == winner.candidate }) {
                rounds.append(Round(number: number, base: baseID, winner: winner.candidate, note: "\(winner.candidate) beat \(baseID)"))
                base = index
            } else {
                rounds.append(Round(number: number, base: baseID, winner: nil, note: noWinnerNote(made: made, baseID: baseID)))
                break
            }
        }
        return ImprovementResult(
            objective: objective, candidates: candidates, trials: trials, rounds: rounds, best: candidates[base].id,
            budget: limits.budget, repeats: taskSet.repeats, tasks: taskSet.cases.map(\.name),
            programName: programName, original: candidates[0], improved: candidates[base],
            originalIsCanonical: originalDraft.source.text == originalDraft.printed(),
            improverLLMCalls: improverCost.llmCalls, improverTokens: improverCost.tokens,
            seconds: Date().timeIntervalSince(started))
    }

    private func noWinnerNote(made: [Int], baseID: String) -> String {
        var notes: [String] = []
        let unevaluated = made.filter { candidates[$0].status == .notEvaluated }.count
        if made.isEmpty {
            notes.append("no rule applied and no proposal came")
        } else {
            notes.append("no candidate beat \(baseID) by more than the noise")
        }
        if unevaluated > 0 { notes.append("\(unevaluated) not evaluated: the budget was spent") }
        if duplicates > 0 { notes.append("\(duplicates) repeat\(duplicates == 1 ? "" : "s") of earlier candidates skipped") }
        return notes.joined(separator: "; ")
    }

    // MARK: - Proposals

    /// Makes, checks and evaluates this round's candidates; returns their indices.
    private func proposals(from base: Int, round: Int) throws(ImproveError) -> [Int] {
        let baseDraft = draft(of: candidates[base])
        let runs = trials.filter { $0.candidate == candidates[base].id }.compactMap(\.result.run).map { directory + "/" + $0 }
        let analysis: RunAnalysis
        do { analysis = try RunAnalysis(runs, runsDirectory: directory + "/runs") } catch {
            throw ImproveError("cannot analyze the runs of \(candidates[base].id): \(error)")
        }
        var made: [Int] = []
        for rewrites in Self.rewriteSets(RewriteRules.all.flatMap { $0.rewrites(RewriteContext(draft: baseDraft, analysis: analysis)) }) {
            var edited = baseDraft
            for rewrite in rewrites { rewrite.apply(to: &edited) }
            let rules = Array(Set(rewrites.map(\.rule))).sorted()
            if let index = try add(edited, parent: base, round: round, origin: .rules, rules: rules, changes: rewrites.map(\.change)) {
                made.append(index)
            }
        }
        if let reflector, canEvaluateAnother,
           let index = try reflect(reflector, base: base, draft: baseDraft, analysis: analysis, round: round) {
            made.append(index)
        }
        return made
    }

    /// The candidates' rewrites: each on its own, and all together when there are several.
    /// `tighten-budget` makes no measured run better or cheaper, so it is tried only when no
    /// other rule applies, and never combined (a combination's longer prompts could break the
    /// very limit it narrows).
    static func rewriteSets(_ rewrites: [Rewrite]) -> [[Rewrite]] {
        let improving = rewrites.filter { $0.rule != TightenBudget().name }
        let chosen = improving.isEmpty ? rewrites : improving
        var sets = chosen.map { [$0] }
        if !improving.isEmpty, improving.count > 1 { sets.append(improving) }
        return sets
    }

    // MARK: - Candidates

    /// Records a candidate (unless the same program was tried before), writes it, checks it
    /// and, budget allowing, evaluates it. Returns its index, or `nil` for a repeat.
    @discardableResult
    func add(_ draft: ProgramDraft, parent: Int?, round: Int, origin: Candidate.Origin, rules: [String], changes: [String],
             rawSource: String? = nil, rejected: String? = nil) throws(ImproveError) -> Int? {
        let source = rawSource ?? (origin == .original ? draft.source.text : draft.printed())
        let canonical = rejected == nil ? draft.printed() : source
        if tried.contains(where: { $0.text == canonical && $0.templates == draft.templates }) {
            duplicates += 1
            return nil
        }
        tried.append((canonical, draft.templates))
        let id = "c\(candidates.count)"
        let folder = "candidates/\(id)"
        do { try write(program: source, templates: draft.templates, into: directory + "/" + folder) } catch {
            throw ImproveError("cannot write candidate \(id) into \(directory)/\(folder): \(error.localizedDescription)")
        }
        var candidate = Candidate(id: id, parent: parent.map { candidates[$0].id }, round: round, origin: origin, rules: rules,
                                  changes: changes, programPath: folder + "/" + programName, source: source,
                                  templates: draft.templates, status: .notEvaluated)
        let checked: CheckedProgram
        do { checked = try Frontend.check(path: directory + "/" + candidate.programPath) } catch {
            throw ImproveError("cannot read candidate \(id): \(error)")
        }
        if let rejected {
            candidate.status = .rejected(diagnostics: rejected)
        } else if checked.hasErrors {
            candidate.status = .rejected(diagnostics: DiagnosticRenderer().render(checked.bag))
        } else if canEvaluateAnother {
            progress("\(id): \(changes.first ?? "the original program")\(changes.count > 1 ? " (+\(changes.count - 1) more)" : "")\n")
            evaluate(checked, id: id)
            candidate.status = .evaluated
            candidate.score = score(id)
        }
        candidates.append(candidate)
        return candidates.count - 1
    }

    /// Runs a candidate on every task, `repeats` times.
    private func evaluate(_ checked: CheckedProgram, id: String) {
        for task in taskSet.cases {
            for repetition in 1...taskSet.repeats {
                var result = runner.run(checked, on: task, runsDirectory: directory + "/runs")
                if let run = result.run {
                    result = TrialResult(outcome: result.outcome, run: relative(run), reason: result.reason, metrics: result.metrics,
                                         llmCalls: result.llmCalls, tokens: result.tokens, seconds: result.seconds,
                                         answerSeconds: result.answerSeconds)
                }
                trials.append(Trial(candidate: id, task: task.name, repetition: repetition, result: result))
            }
        }
    }

    /// Scores every evaluated candidate again, with the values seen so far.
    private func rescore() {
        for index in candidates.indices where candidates[index].status == .evaluated {
            candidates[index].score = score(candidates[index].id)
        }
    }

    /// A candidate's score; a trial without an objective value counts as worse than any seen.
    private func score(_ id: String) -> CandidateScore {
        let worst = objective.missingValue(seen: trials.compactMap { objective.value(of: $0.result) })
        return CandidateScore(candidate: id, trials: trials.filter { $0.candidate == id }, objective: objective, worst: worst)
    }

    private func verdict(for index: Int, base: Int, winner: String?) -> String {
        let candidate = candidates[index]
        let baseID = candidates[base].id
        switch candidate.status {
        case .rejected: return "rejected: \(candidate.rejection ?? "it does not check")"
        case .notEvaluated: return "not evaluated: the budget of \(limits.budget) trials was spent"
        case .evaluated: break
        }
        guard let score = candidate.score, let baseScore = candidates[base].score else { return "" }
        let mine = score.objective, theirs = baseScore.objective
        let comparison = "\(objective.label) \(Self.format(mine.mean)) vs \(Self.format(theirs.mean)) for \(baseID) "
            + "(noise \(Self.format(max(mine.noise, theirs.noise))))"
        let calls = "llm calls \(Self.format(score.measures[1].mean)) vs \(Self.format(baseScore.measures[1].mean)), "
            + "tokens \(Self.format(score.measures[2].mean)) vs \(Self.format(baseScore.measures[2].mean))"
        if candidate.id == winner {
            return Selection.beats(score, baseScore)
                ? "won round \(candidate.round): \(comparison), on the Pareto front"
                : "won round \(candidate.round): \(comparison), tied, and cheaper: \(calls)"
        }
        if !candidate.onFront {
            let dominator = candidates.compactMap(\.score).first { Selection.dominates($0, score) }?.candidate ?? "another"
            return "lost: \(comparison); dominated by \(dominator)"
        }
        if Selection.beats(score, baseScore) || Selection.cheaper(score, than: baseScore) {
            return "lost: \(comparison), but \(winner ?? "another") did better"
        }
        return "lost: \(comparison): not better by more than the noise, and not cheaper (\(calls))"
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.3f", value)
    }
}
