import Foundation

extension RunAnalysis {
    /// The analysis for a person: a header, the per-step table, a section for each step that
    /// was violated, then budgets, failure reasons and totals (described in docs/analyze.md).
    public var text: String {
        var out = header + "\n" + stepTable
        for step in steps where step.violated > 0 { out += "\n" + Self.detail(step) }
        if !budgets.isEmpty { out += "\n" + budgetTable }
        if !failures.isEmpty { out += "\n" + failureList }
        let counts = summary
        out += "\ntotals:    \(TextFolding.plural(counts.tokens, "token"))"
            + (counts.estimatedTokens > 0 ? " (\(counts.estimatedTokens) estimated)" : "")
            + ", \(TextFolding.plural(counts.llmCalls, "llm call")), \(TextFolding.plural(counts.toolRuns, "tool run")), "
            + "\(TextFolding.number(counts.activeSeconds)) s active\n"
        return out
    }

    private var header: String {
        let order = ["completed", "failed", "suspended", "ready"]
        let statuses = summary.statuses.sorted { (order.firstIndex(of: $0.key) ?? 9, $0.key) < (order.firstIndex(of: $1.key) ?? 9, $1.key) }
            .map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        var out = "task:      \(task)\nruns:      \(runs.count) (\(statuses))\n"
        out += "programs:  \(TextFolding.plural(programVersions, "version"))"
            + (programVersions > 1 ? " (the runs ran different versions of the program)" : "") + "\n"
        for note in notes { out += "note:      \(note)\n" }
        return out
    }

    private var stepTable: String {
        var rows = [["step", "runs", "times", "violated", "fail %", "retries", "at max", "tokens", "mean ms"]]
        for step in steps {
            rows.append([step.name, String(step.runs.count), String(step.occurrences), String(step.violated),
                         String(format: "%.1f%%", step.failureRate * 100), String(step.retries.used),
                         String(step.retries.boundHits), String(step.tokens), step.meanMS.map { String(format: "%.1f", $0) } ?? "—"])
        }
        return Self.table(rows)
    }

    private static func detail(_ step: StepStatistics) -> String {
        let finished = step.completed + step.violated
        var out = "step `\(step.name)`: violated \(step.violated) of \(finished) time\(finished == 1 ? "" : "s")"
            + " (\(String(format: "%.1f%%", step.failureRate * 100)))\n"
        for (name, violations) in step.invariants.sorted(by: { $0.key < $1.key }) {
            out += "  invariant `\(name)`: failed \(TextFolding.plural(violations.count, "time"))\n"
            for example in violations.examples { out += "    \(example)\n" }
        }
        if step.otherViolations.count > 0 {
            out += "  without a failed invariant: \(TextFolding.plural(step.otherViolations.count, "time"))\n"
            for example in step.otherViolations.examples { out += "    \(example)\n" }
        }
        let retries = step.retries
        if retries.used > 0 || !retries.exhaustedRuns.isEmpty {
            out += "  retries: \(retries.used) used" + (retries.bound.map { " (max \($0))" } ?? "")
                + ", the bound reached \(TextFolding.plural(retries.boundHits, "time"))"
            if !retries.exhaustedRuns.isEmpty {
                out += "; failed after the last retry: " + retries.exhaustedRuns.joined(separator: ", ")
            }
            out += "\n"
        }
        if !step.failurePrompts.isEmpty {
            out += "  prompts before failures:\n"
            for prompt in step.failurePrompts {
                out += "    run \(prompt.run), \(step.name) #\(prompt.occurrence):\n"
                out += TextFolding.block(prompt.prompt, indent: "      | ", full: false)
            }
        }
        return out
    }

    private var budgetTable: String {
        var rows = [["budget", "limit", "max used", "mean used", "exceeded"]]
        for budget in budgets {
            rows.append([budget.name, TextFolding.number(budget.limit), TextFolding.number(budget.maxUsed),
                         TextFolding.number(budget.meanUsed), "\(budget.exceeded) of \(budget.runs)"])
        }
        return Self.table(rows)
    }

    private var failureList: String {
        var out = "failures:\n"
        for failure in failures {
            let shown = failure.runs.prefix(3).joined(separator: ", ") + (failure.runs.count > 3 ? ", …" : "")
            out += "  \(TextFolding.plural(failure.runs.count, "run")): "
                + TextFolding.firstLine(failure.reason, width: Self.exampleWidth) + "\n"
            out += "    (\(shown))\n"
        }
        return out
    }

    /// Rows as aligned columns: the first left-aligned, the others right-aligned.
    private static func table(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}
