import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKKernel
import SPAKSyntax
import SPAKTrace

/// The outer loop: evaluate the program on the task set, propose changed programs from its
/// runs (rewrite rules, and the reflective improver when asked), evaluate each, and keep the
/// best by the program's objective when it beats the current one by more than the noise;
/// then go again from the winner, until a round finds nothing better, the rounds run out,
/// or the budget of trials is spent.
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

    /// Where the improvement is written: `candidates/`, `runs/`, `improver/`.
    public let directory: String
    private let programPath: String
    private let taskSet: TaskSet
    private let limits: Limits
    private let runner: any TrialRunner
    private let reflector: ReflectiveProposer?
    private let progress: (String) -> Void
    private let objective: RankingObjective
    private let originalDraft: ProgramDraft
    private let programName: String

    private(set) var candidates: [Candidate] = []
    private(set) var trials: [Trial] = []
    private var rounds: [Round] = []

    /// One round: the candidate it started from and what it found.
    public struct Round: Sendable {
        public let number: Int
        public let base: String
        public var winner: String?
        public var note: String
    }

    /// Reads and checks the program (errors are the caller's to report first).
    public init(program checked: CheckedProgram, taskSet: TaskSet, directory: String, limits: Limits, runner: any TrialRunner,
                reflector: ReflectiveProposer?, progress: @escaping (String) -> Void) throws(ImproveError) {
        guard !checked.hasErrors, checked.parse.program.task != nil else { throw ImproveError("the program has errors") }
        self.programPath = checked.parse.file.path
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
    private var trialsPerCandidate: Int { taskSet.cases.count * taskSet.repeats }

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
            guard trials.count + trialsPerCandidate <= limits.budget else {
                rounds.append(Round(number: number, base: candidates[base].id, winner: nil, note: "not begun: the budget is spent"))
                break
            }
            let baseID = candidates[base].id
            progress("round \(number): proposing changes to \(baseID)\n")
            let made = try proposals(from: base, round: number)
            rescore()
            let scores = candidates.compactMap(\.score)
            let front = Set(Selection.paretoFront(scores).map(\.candidate))
            let contenders = made.filter { candidates[$0].score != nil && front.contains(candidates[$0].id) }
            let baseScore = candidates[base].score!
            let winner = Selection.winner(among: contenders.compactMap { candidates[$0].score }, over: baseScore)
            for index in made { candidates[index].verdict = verdict(for: index, base: base, winner: winner?.candidate, front: front) }
            if let winner, let index = candidates.firstIndex(where: { $0.id == winner.candidate }) {
                rounds.append(Round(number: number, base: baseID, winner: winner.candidate,
                                    note: "\(winner.candidate) beat \(baseID)"))
                base = index
            } else {
                rounds.append(Round(number: number, base: baseID, winner: nil,
                                    note: made.isEmpty ? "no rule applied and no proposal came" : "no candidate beat \(baseID) by more than the noise"))
                break
            }
        }
        return ImprovementResult(
            objective: objective, candidates: candidates, trials: trials, rounds: rounds, best: candidates[base].id,
            budget: limits.budget, repeats: taskSet.repeats, tasks: taskSet.cases.map(\.name),
            programName: programName, original: candidates[0], improved: candidates[base],
            seconds: Date().timeIntervalSince(started))
    }

    // MARK: - Proposals

    /// Makes, checks and evaluates this round's candidates; returns their indices.
    private func proposals(from base: Int, round: Int) throws(ImproveError) -> [Int] {
        let baseDraft = try draft(of: candidates[base])
        let runs = trials.filter { $0.candidate == candidates[base].id }.compactMap(\.result.run).map { directory + "/" + $0 }
        let analysis: RunAnalysis
        do { analysis = try RunAnalysis(runs, runsDirectory: directory + "/runs") } catch {
            throw ImproveError("cannot analyze the runs of \(candidates[base].id): \(error)")
        }
        let context = RewriteContext(draft: baseDraft, analysis: analysis)
        var rewriteSets: [[Rewrite]] = RewriteRules.all.flatMap { $0.rewrites(context) }.map { [$0] }
        if rewriteSets.count > 1 { rewriteSets.append(rewriteSets.flatMap { $0 }) }
        var made: [Int] = []
        for rewrites in rewriteSets {
            var edited = baseDraft
            for rewrite in rewrites { rewrite.apply(to: &edited) }
            let rules = Array(Set(rewrites.map(\.rule))).sorted()
            if let index = try add(edited, parent: base, round: round, origin: .rules, rules: rules, changes: rewrites.map(\.change)) {
                made.append(index)
            }
        }
        if let reflector, let index = try reflect(reflector, base: base, draft: baseDraft, analysis: analysis, round: round) {
            made.append(index)
        }
        return made
    }

    /// Asks the reflective improver for a program; a proposal that does not check is shown
    /// its diagnostics once.
    private func reflect(_ reflector: ReflectiveProposer, base: Int, draft: ProgramDraft, analysis: RunAnalysis,
                         round: Int) throws(ImproveError) -> Int? {
        progress("round \(round): asking the reflective improver\n")
        var proposal = reflector.propose(draft, analysis: analysis, objective: objective)
        var improverRuns = [relative(proposal.run)]
        guard var program = proposal.program else {
            progress("round \(round): no reflective proposal: \(proposal.problem ?? "")\n")
            return nil
        }
        var problems = diagnostics(of: program, templates: draft.templates.merging(proposal.templates) { $1 })
        if let problems {
            progress("round \(round): the proposal does not check; showing the improver its diagnostics\n")
            proposal = reflector.propose(draft, analysis: analysis, objective: objective, diagnostics: problems, previous: program)
            improverRuns.append(relative(proposal.run))
            program = proposal.program ?? program
        }
        let templates = draft.templates.merging(proposal.templates) { $1 }
        problems = diagnostics(of: program, templates: templates)
        let changes = ["a program proposed by the reflective improver" + (improverRuns.count > 1 ? " (after one round of diagnostics)" : "")]
        let file = SourceFile(path: programName, text: program)
        let parsed = Frontend.parse(file)
        let index = try add(ProgramDraft(program: parsed.program, source: file, templates: templates), parent: base, round: round,
                            origin: .reflection, rules: [], changes: changes, rawSource: program, rejected: problems)
        if let index { candidates[index].improverRuns = improverRuns }
        return index
    }

    /// The rendered diagnostics of a program text, or `nil` when it checks.
    private func diagnostics(of program: String, templates: [String: String]) -> String? {
        let folder = directory + "/scratch"
        try? FileManager.default.removeItem(atPath: folder)
        guard (try? write(program: program, templates: templates, into: folder)) != nil else { return "cannot write \(folder)" }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        guard let checked = try? Frontend.check(path: folder + "/" + programName) else { return "cannot read the program" }
        guard checked.hasErrors else { return nil }
        return DiagnosticRenderer().render(checked.bag)
    }

    // MARK: - Candidates

    /// Records a candidate (unless the same program was seen before), writes it, checks it
    /// and, budget allowing, evaluates it. Returns its index, or `nil` for a duplicate.
    @discardableResult
    private func add(_ draft: ProgramDraft, parent: Int?, round: Int, origin: Candidate.Origin, rules: [String], changes: [String],
                     rawSource: String? = nil, rejected: String? = nil) throws(ImproveError) -> Int? {
        let source = rawSource ?? (origin == .original ? draft.source.text : draft.printed())
        if candidates.contains(where: { $0.source == source && $0.templates == draft.templates }) { return nil }
        let id = "c\(candidates.count)"
        let folder = "candidates/\(id)"
        do { try write(program: source, templates: draft.templates, into: directory + "/" + folder) } catch {
            throw ImproveError("cannot write candidate \(id) into \(directory)/\(folder): \(error)")
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
        } else if trials.count + trialsPerCandidate <= limits.budget {
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

    /// Scores every evaluated candidate again, with the worst objective value seen so far.
    private func rescore() {
        for index in candidates.indices where candidates[index].status == .evaluated {
            candidates[index].score = score(candidates[index].id)
        }
    }

    /// A candidate's score, a missing objective counted as the worst value any trial had.
    private func score(_ id: String) -> CandidateScore {
        let values = trials.compactMap { objective.value(of: $0.result) }
        let worst = (objective.maximize ? values.min() : values.max()) ?? 0
        return CandidateScore(candidate: id, trials: trials.filter { $0.candidate == id }, objective: objective, worst: worst)
    }

    private func verdict(for index: Int, base: Int, winner: String?, front: Set<String>) -> String {
        let candidate = candidates[index]
        let baseID = candidates[base].id
        switch candidate.status {
        case .rejected: return "rejected: it does not check"
        case .notEvaluated: return "not evaluated: the budget of \(limits.budget) trials was spent"
        case .evaluated: break
        }
        guard let score = candidate.score, let baseScore = candidates[base].score else { return "" }
        let mine = score.objective, theirs = baseScore.objective
        let noise = max(mine.noise, theirs.noise)
        let comparison = "\(objective.label) \(Self.format(mine.mean)) vs \(Self.format(theirs.mean)) for \(baseID) (noise \(Self.format(noise)))"
        if candidate.id == winner { return "won round \(candidate.round): \(comparison), on the Pareto front" }
        if !Selection.beats(score, baseScore) { return "lost: \(comparison): not better by more than the noise" }
        if !front.contains(candidate.id) {
            let dominator = candidates.compactMap(\.score).first { Selection.dominates($0, score) }?.candidate ?? "another"
            return "lost: \(comparison), but dominated by \(dominator)"
        }
        return "lost: \(comparison), but \(winner ?? "another") did better on \(objective.label)"
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.3f", value)
    }

    // MARK: - Files

    private func draft(of candidate: Candidate) throws(ImproveError) -> ProgramDraft {
        let file = SourceFile(path: directory + "/" + candidate.programPath, text: candidate.source)
        return ProgramDraft(program: Frontend.parse(file).program, source: file, templates: candidate.templates)
    }

    private func write(program: String, templates: [String: String], into folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try program.write(toFile: folder + "/" + programName, atomically: true, encoding: .utf8)
        for (path, text) in templates {
            let target = folder + "/" + path
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: target, atomically: true, encoding: .utf8)
        }
    }

    private func relative(_ path: String) -> String {
        path.hasPrefix(directory + "/") ? String(path.dropFirst(directory.count + 1)) : path
    }

    /// The text of every template file the program names, read relative to the program.
    private static func readTemplates(of checked: CheckedProgram) throws(ImproveError) -> [String: String] {
        let folder = (checked.parse.file.path as NSString).deletingLastPathComponent
        var templates: [String: String] = [:]
        guard let task = checked.parse.program.task else { return [:] }
        for call in Bindings.effectCalls(in: task.body) where call.qualifiedName == "llm.query" {
            for argument in call.arguments where argument.label?.name == "template" {
                guard case .string(let path) = argument.value.kind else { continue }
                guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                    throw ImproveError("the template \(path) is outside the program's folder: spak improve writes each candidate's "
                        + "templates beside it, so a template path must be relative and without `..`")
                }
                let full = path.hasPrefix("/") ? path : (folder.isEmpty ? path : folder + "/" + path)
                guard let data = FileManager.default.contents(atPath: full) else { throw ImproveError("cannot read the template \(full)") }
                templates[path] = String(decoding: data, as: UTF8.self)
            }
        }
        return templates
    }
}
