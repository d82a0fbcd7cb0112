import Foundation
import SPAKKernel

extension ImprovementResult {
    /// The report a person reads: the outcome, a candidates × measures table, each
    /// candidate's changes and verdict, the rounds, and what the search cost.
    public var markdown: String {
        var out = "# spak improve: \(programName)\n\n"
        let direction = objective.maximize ? "maximize" : "minimize"
        out += objective.metric == nil
            ? "- objective: maximize the share of completed trials (the program declares no `objective`)\n"
            : "- objective: \(direction) `\(objective.label)` (the program's declared objective)\n"
        out += "- tasks: \(tasks.count) (\(tasks.joined(separator: ", "))) × \(repeats) repeat\(repeats == 1 ? "" : "s")"
        out += repeats == 1 ? " (one repeat: the noise is not measured)\n" : "\n"
        out += "- budget: \(budget) trials, \(trials.count) spent\n"
        out += "- result: \(outcomeSentence)\n\n"
        let metricNames = candidates.compactMap(\.score).flatMap { $0.metricMeans.keys }.reduce(into: [String]()) {
            if !$0.contains($1), $1 != objective.metric { $0.append($1) }
        }.sorted()
        out += "| candidate | from | origin | \(objective.label) | noise | llm calls | tokens | wall s | completed | front |"
        out += metricNames.map { " \($0) |" }.joined() + " verdict |\n"
        out += "|---|---|---|---|---|---|---|---|---|---|" + metricNames.map { _ in "---|" }.joined() + "---|\n"
        for candidate in candidates {
            let origin = candidate.origin == .rules ? candidate.rules.joined(separator: " + ") : candidate.origin.rawValue
            out += "| \(candidate.id) | \(candidate.parent ?? "") | \(origin) |"
            if let score = candidate.score {
                let m = score.measures
                out += " \(Self.number(m[0].mean)) | \(Self.number(m[0].noise)) | \(Self.number(m[1].mean)) | \(Self.number(m[2].mean))"
                out += " | \(String(format: "%.3f", m[3].mean)) | \(score.completed)/\(score.trials) | \(candidate.onFront ? "yes" : "") |"
                out += metricNames.map { " \(score.metricMeans[$0].map(Self.number) ?? "") |" }.joined()
            } else {
                out += String(repeating: " |", count: 7 + metricNames.count)
            }
            out += " \(cell(candidate)) |\n"
        }
        out += "\nMeans per trial; noise is the largest spread of \(objective.label) between repeats of one task; "
        out += "a candidate wins by beating its round's starting point on \(objective.label) by more than the noise of both, "
        out += "or, \(objective.label) tied, by dominating it with fewer llm calls or tokens. "
        out += "The metrics of a trial that did not complete are evaluated over the variables its run ended with; "
        out += "a trial without a value for \(objective.label) counts as worse than every value seen. "
        out += "front: on the Pareto front (objective, llm calls, tokens, wall time) when its round ended.\n"
        if !originalIsCanonical {
            out += "\nThe original is not in `spak fmt`'s layout; candidates are printed in it, so improved.diff also shows layout changes.\n"
        }
        out += "\n## Candidates\n"
        for candidate in candidates {
            out += "\n### \(candidate.id)"
            if let parent = candidate.parent { out += " (round \(candidate.round), from \(parent))" }
            out += "\n\n"
            out += "- program: `\(candidate.programPath)`\n"
            for change in candidate.changes { out += "- change: \(change)\n" }
            for run in candidate.improverRuns { out += "- improver run: `\(run)`\n" }
            if !candidate.verdict.isEmpty { out += "- verdict: \(candidate.verdict)\n" }
            if let score = candidate.score {
                let metrics = score.metricMeans.keys.sorted().map { "\($0) \(Self.number(score.metricMeans[$0]!))" }
                if !metrics.isEmpty { out += "- metric means: \(metrics.joined(separator: ", "))\n" }
                if score.missingObjective > 0 {
                    out += "- \(score.missingObjective) trial\(score.missingObjective == 1 ? "" : "s") had no \(objective.label) (counted as the worst value seen)\n"
                }
            }
            let failures = trials.filter { $0.candidate == candidate.id && $0.result.outcome != .completed }
            for reason in Set(failures.compactMap(\.result.reason)).sorted() {
                let count = failures.filter { $0.result.reason == reason }.count
                out += "- \(count) trial\(count == 1 ? "" : "s") did not complete: \(reason)\n"
            }
            if case .rejected(let diagnostics) = candidate.status {
                out += "\n```text\n\(diagnostics.trimmingCharacters(in: .newlines))\n```\n"
            }
        }
        out += "\n## Rounds\n\n"
        for round in rounds { out += "\(round.number). from \(round.base): \(round.note)\n" }
        out += "\n## Cost of the search\n\n"
        let llmCalls = trials.reduce(0) { $0 + $1.result.llmCalls }
        let tokens = trials.reduce(0) { $0 + $1.result.tokens }
        out += "- trials: \(trials.count) of a budget of \(budget); \(llmCalls) llm calls, \(tokens) tokens in them\n"
        out += "- improver runs (reflection): \(improverRuns.count); \(improverLLMCalls) llm calls, \(improverTokens) tokens in them\n"
        out += "- time: \(String(format: "%.2f", seconds)) s in all, \(String(format: "%.2f", trialSeconds)) s of it in trials; "
        out += "the improver's own work (analysis, rewriting, checking, selection, reflection runs): \(String(format: "%.2f", seconds - trialSeconds)) s\n"
        out += "- of the trials' time, \(String(format: "%.2f", answerSeconds)) s went to waiting for answers (responders, model servers)\n"
        return out
    }

    /// The outcome, as `spak improve` prints it.
    public var outcomeLine: String { isImproved ? "improved: \(outcomeSentence)" : "not improved: \(outcomeSentence)" }

    /// One sentence on the outcome.
    var outcomeSentence: String {
        guard isImproved, let mine = improved.score, let theirs = original.score else {
            return "no candidate beat the original by more than the noise; improved.spak is the original"
        }
        return "\(improved.id) beat the original: \(objective.label) \(Self.number(mine.objective.mean)) vs \(Self.number(theirs.objective.mean))"
            + " (noise \(Self.number(max(mine.objective.noise, theirs.objective.noise))))"
    }

    private func cell(_ candidate: Candidate) -> String {
        switch candidate.status {
        case .rejected: return candidate.rejection == nil ? "rejected: does not check" : "rejected: changes what is measured"
        case .notEvaluated: return "not evaluated: budget spent"
        case .evaluated:
            if candidate.id == original.id { return best == original.id ? "the original, kept" : "the original" }
            return candidate.id == best ? "**best**" : (candidate.verdict.hasPrefix("won") ? "won its round" : "lost")
        }
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.3f", value)
    }

    /// The report for tools: the same facts as `markdown`, with every trial.
    public var json: Value {
        let candidateValues: [Value] = candidates.map { candidate in
            var fields: [String: Value] = [
                "id": .string(candidate.id), "parent": candidate.parent.map(Value.string) ?? .null,
                "round": .int(candidate.round), "origin": .string(candidate.origin.rawValue),
                "rules": .list(candidate.rules.map(Value.string)), "changes": .list(candidate.changes.map(Value.string)),
                "program": .string(candidate.programPath), "verdict": .string(candidate.verdict), "on_front": .bool(candidate.onFront),
                "improver_runs": .list(candidate.improverRuns.map(Value.string)),
            ]
            switch candidate.status {
            case .evaluated: fields["status"] = .string("evaluated")
            case .notEvaluated: fields["status"] = .string("not_evaluated")
            case .rejected(let diagnostics):
                fields["status"] = .string("rejected")
                fields["diagnostics"] = .string(diagnostics)
            }
            if let score = candidate.score {
                fields["trials"] = .int(score.trials)
                fields["completed"] = .int(score.completed)
                fields["missing_objective"] = .int(score.missingObjective)
                fields["measures"] = .map(Dictionary(uniqueKeysWithValues: score.measures.map {
                    ($0.name, Value.map(["mean": .float($0.mean), "noise": .float($0.noise),
                                         "higher_is_better": .bool($0.higherIsBetter)]))
                }))
                fields["metric_means"] = .map(score.metricMeans.mapValues(Value.float))
            }
            return .map(fields)
        }
        let trialValues: [Value] = trials.map { trial in
            .map([
                "candidate": .string(trial.candidate), "task": .string(trial.task), "repetition": .int(trial.repetition),
                "outcome": .string(trial.result.outcome.rawValue), "run": trial.result.run.map(Value.string) ?? .null,
                "reason": trial.result.reason.map(Value.string) ?? .null, "metrics": .map(trial.result.metrics),
                "llm_calls": .int(trial.result.llmCalls), "tokens": .int(trial.result.tokens), "seconds": .float(trial.result.seconds),
                "answer_seconds": .float(trial.result.answerSeconds),
            ])
        }
        return .map([
            "format": .string("spak-improve"), "version": .int(1), "program": .string(programName),
            "objective": .map(["metric": objective.metric.map(Value.string) ?? .null,
                               "direction": .string(objective.maximize ? "maximize" : "minimize")]),
            "tasks": .list(tasks.map(Value.string)), "repeats": .int(repeats),
            "budget": .map(["trials": .int(budget), "spent": .int(trials.count)]),
            "best": .string(best), "improved": .bool(isImproved), "result": .string(outcomeSentence),
            "candidates": .list(candidateValues), "trials": .list(trialValues),
            "rounds": .list(rounds.map { round in
                .map(["number": .int(round.number), "base": .string(round.base),
                      "winner": round.winner.map(Value.string) ?? .null, "note": .string(round.note)])
            }),
            "cost": .map([
                "seconds": .float(seconds), "trial_seconds": .float(trialSeconds),
                "improver_seconds": .float(seconds - trialSeconds), "answer_seconds": .float(answerSeconds), "improver_runs": .int(improverRuns.count),
                "improver_llm_calls": .int(improverLLMCalls), "improver_tokens": .int(improverTokens),
                "llm_calls": .int(trials.reduce(0) { $0 + $1.result.llmCalls }),
                "tokens": .int(trials.reduce(0) { $0 + $1.result.tokens }),
            ]),
        ])
    }
}
