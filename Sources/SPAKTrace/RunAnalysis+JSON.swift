import Foundation
import SPAKKernel

extension RunAnalysis {
    /// The analysis for programs: one JSON object on one line, keys sorted (format
    /// `spak-analysis`, version 1; every field is described in docs/analyze.md).
    public var json: String {
        var document: [String: Value] = [
            "format": .string("spak-analysis"), "version": .int(1),
            "task": .string(task), "runs": .list(runs.map(Value.string)),
            "program_versions": .int(programVersions), "program_hashes": .list(programHashes.map(Value.string)),
            "steps": .map(Dictionary(uniqueKeysWithValues: steps.map { ($0.name, $0.json) })),
            "step_order": .list(steps.map { .string($0.name) }),
            "runs_summary": summary.json,
            "budgets": .map(Dictionary(uniqueKeysWithValues: budgets.map { ($0.name, $0.json) })),
            "failures": .list(failures.map { failure in
                .map(["reason": .string(failure.reason), "count": .int(failure.runs.count),
                      "runs": .list(failure.runs.map(Value.string))])
            }),
        ]
        if !notes.isEmpty { document["notes"] = .list(notes.map(Value.string)) }
        return JSON.serialize(.map(document)) + "\n"
    }
}

extension RunAnalysis {
    /// `value` rounded to `places` decimals, so the JSON does not show float noise.
    static func rounded(_ value: Double, _ places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }
}

extension RunAnalysis.Summary {
    var json: Value {
        .map(["runs": .int(statuses.values.reduce(0, +)), "statuses": .map(statuses.mapValues(Value.int)),
              "tokens": .int(tokens), "estimated_tokens": .int(estimatedTokens), "llm_calls": .int(llmCalls),
              "tool_runs": .int(toolRuns), "active_seconds": .float(RunAnalysis.rounded(activeSeconds, 6))])
    }
}

extension RunAnalysis.BudgetUse {
    var json: Value {
        .map(["limit": .float(limit), "runs": .int(runs), "max_used": .float(maxUsed), "mean_used": .float(RunAnalysis.rounded(meanUsed, 3)),
              "exceeded": .int(exceeded)])
    }
}

extension StepStatistics {
    /// The step's statistics as JSON (one entry of `steps`).
    public var json: Value {
        func violations(_ entry: Violations) -> Value {
            .map(["count": .int(entry.count), "examples": .list(entry.examples.map(Value.string))])
        }
        return .map([
            "runs": .int(runs.count), "occurrences": .int(occurrences), "completed": .int(completed),
            "violated": .int(violated), "unfinished": .int(unfinished), "failure_rate": .float(RunAnalysis.rounded(failureRate, 4)),
            "invariants": .map(invariants.mapValues(violations)),
            "other_violations": violations(otherViolations),
            "retries": .map([
                "used": .int(retries.used), "bound": retries.bound.map(Value.int) ?? .null,
                "bound_hits": .int(retries.boundHits), "exhausted_runs": .list(retries.exhaustedRuns.map(Value.string)),
            ]),
            "tokens": .int(tokens), "estimated_tokens": .int(estimatedTokens), "llm_calls": .int(llmCalls),
            "tool_runs": .int(toolRuns),
            "duration_ms": .map(["total": .float(RunAnalysis.rounded(totalMS, 3)),
                                  "mean": meanMS.map { .float(RunAnalysis.rounded($0, 3)) } ?? .null]),
            "failure_prompts": .list(failurePrompts.map { prompt in
                .map(["run": .string(prompt.run), "occurrence": .int(prompt.occurrence), "prompt": .string(prompt.prompt)])
            }),
        ])
    }
}
