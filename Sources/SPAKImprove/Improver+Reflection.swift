import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKSyntax
import SPAKTrace

extension Improver {
    /// The most failing runs whose timelines the reflective improver is shown.
    static let failingTracesShown = 2
    /// The most characters of one timeline shown.
    static let traceCharacters = 4000

    /// Asks the reflective improver for a program. A proposal that does not check is shown
    /// its diagnostics once; one that changes what candidates are measured by (the task's
    /// name and parameters, its `evaluation`) is rejected without a run.
    func reflect(_ reflector: ReflectiveProposer, base: Int, draft: ProgramDraft, analysis: RunAnalysis,
                 round: Int) throws(ImproveError) -> Int? {
        progress("round \(round): asking the reflective improver\n")
        let traces = failingTraces(of: candidates[base].id)
        var proposal = reflector.propose(draft, analysis: analysis, traces: traces, objective: objective)
        count(proposal)
        var improverRuns = [relative(proposal.run)]
        guard var program = proposal.program else {
            progress("round \(round): no reflective proposal: \(proposal.problem ?? "")\n")
            return nil
        }
        var templates = draft.templates.merging(proposal.templates) { $1 }
        if let problems = diagnostics(of: program, templates: templates, attempt: "round\(round)-first") {
            progress("round \(round): the proposal does not check; showing the improver its diagnostics\n")
            proposal = reflector.propose(draft, analysis: analysis, traces: traces, objective: objective,
                                         diagnostics: problems, previous: program)
            count(proposal)
            improverRuns.append(relative(proposal.run))
            program = proposal.program ?? program
            templates = draft.templates.merging(proposal.templates) { $1 }
        }
        let problems = diagnostics(of: program, templates: templates, attempt: "round\(round)-last")
        let file = SourceFile(path: programName, text: program)
        let proposed = ProgramDraft(program: Frontend.parse(file).program, source: file, templates: templates)
        let changed = problems == nil ? Self.measuredPartsChanged(from: draft.program, to: proposed.program) : nil
        let changes = ["a program proposed by the reflective improver" + (improverRuns.count > 1 ? " (after one round of diagnostics)" : "")]
        let index = try add(proposed, parent: base, round: round, origin: .reflection, rules: [], changes: changes,
                            rawSource: program, rejected: problems ?? changed.map { "it changes \($0), which candidates are measured by" })
        if let index {
            candidates[index].improverRuns = improverRuns
            if problems == nil, let changed { candidates[index].rejection = "it changes \(changed), which candidates are measured by" }
        }
        return index
    }

    private func count(_ proposal: ReflectiveProposer.Proposal) {
        improverCost.llmCalls += proposal.llmCalls
        improverCost.tokens += proposal.tokens
    }

    /// What a proposal changed of the task's name, parameters and `evaluation`, or `nil`.
    static func measuredPartsChanged(from base: Program, to proposed: Program) -> String? {
        guard let old = base.task, let new = proposed.task else { return "the task" }
        if old.name.name != new.name.name { return "the task's name" }
        if measuredText(old, evaluation: false) != measuredText(new, evaluation: false) { return "the task's parameters" }
        if measuredText(old, evaluation: true) != measuredText(new, evaluation: true) { return "the `evaluation` block" }
        return nil
    }

    /// The task's header, or its `evaluation` blocks, printed without comments.
    private static func measuredText(_ task: TaskDecl, evaluation: Bool) -> String {
        let items = evaluation ? task.items.filter { if case .evaluation = $0 { true } else { false } } : []
        let shell = TaskDecl(name: task.name, parameters: evaluation ? [] : task.parameters, items: items,
                             open: task.open, close: task.close, range: task.range)
        let program = Program(task: shell)
        return ProgramPrinter(program: program, source: nil).print(program)
    }

    /// The timelines (`spak trace show`) of the base's first failing trials.
    private func failingTraces(of candidate: String) -> String {
        let failing = trials.filter { $0.candidate == candidate && $0.result.outcome != .completed }.compactMap(\.result.run)
        var text = ""
        for run in failing.prefix(Self.failingTracesShown) {
            guard let traced = try? TracedRun(directory + "/" + run, runsDirectory: directory + "/runs"),
                  let timeline = try? TraceTimeline(traced, full: false).text() else { continue }
            text += "```text\n" + String(timeline.prefix(Self.traceCharacters)) + (timeline.count > Self.traceCharacters ? "\n…" : "") + "\n```\n"
        }
        return text
    }

    /// The rendered diagnostics of a program text, or `nil` when it checks. The text is kept
    /// in `improver/proposals/ATTEMPT/` so that the diagnostics' positions can be looked up.
    private func diagnostics(of program: String, templates: [String: String], attempt: String) -> String? {
        let folder = directory + "/improver/proposals/" + attempt
        guard (try? write(program: program, templates: templates, into: folder)) != nil else { return "cannot write \(folder)" }
        guard let checked = try? Frontend.check(path: folder + "/" + programName) else { return "cannot read the program" }
        guard checked.hasErrors else { return nil }
        return DiagnosticRenderer().render(checked.bag)
    }
}
