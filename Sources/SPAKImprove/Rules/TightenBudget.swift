import Foundation
import SPAKSyntax
import SPAKTrace

/// `tighten-budget`: a budget that no run came near (every run completed, and the most any
/// used is at most half the limit) is lowered to twice that most, so that a run that goes
/// astray is stopped sooner. It makes no run better on its own; it wins only where the
/// runs' metrics tie and nothing else is lost.
public struct TightenBudget: RewriteRule {
    public let name = "tighten-budget"
    public let summary = "lowers a budget that every run stayed under by half or more to twice the most used"

    /// Creates the rule.
    public init() {}

    public func rewrites(_ context: RewriteContext) -> [Rewrite] {
        let analysis = context.analysis
        let runs = analysis.runs.count
        guard runs > 0, analysis.summary.statuses["completed"] == runs else { return [] }
        return analysis.budgets.compactMap { budget -> Rewrite? in
            guard budget.runs == runs, budget.exceeded == 0, budget.maxUsed > 0, budget.maxUsed * 2 <= budget.limit,
                  let written = Self.limitLiteral(named: budget.name, in: context.draft) else { return nil }
            let isTime = budget.name == "wall_time"
            let tightened = (budget.maxUsed * 2).rounded(.up)
            guard tightened < budget.limit else { return nil }
            let spelling = isTime ? "\(Int(tightened))s" : String(Int(tightened))
            let used = isTime ? "\(Self.format(budget.maxUsed)) s" : Self.format(budget.maxUsed)
            let change = "budget `\(budget.name) <= \(written)` → `<= \(spelling)` (the most any of \(runs) runs used: \(used))"
            let target = budget.name
            return Rewrite(rule: name, change: change) { draft in
                draft.editSystemModels { model in
                    for index in model.items.indices {
                        guard case .budget(let budgetTarget, let limit, let range) = model.items[index],
                              budgetTarget.spelling == target else { continue }
                        let kind: ExprKind = isTime ? .duration(spelling) : .integer(spelling)
                        model.items[index] = .budget(target: budgetTarget, limit: Expr(kind, range: limit.range), range: range)
                    }
                }
            }
        }
    }

    /// The limit as written, when it is a literal the rule can replace.
    private static func limitLiteral(named name: String, in draft: ProgramDraft) -> String? {
        for model in draft.program.task?.systemModels ?? [] {
            for item in model.items {
                guard case .budget(let target, let limit, _) = item, target.spelling == name else { continue }
                switch limit.kind {
                case .integer(let spelling), .duration(let spelling): return spelling
                default: return nil
                }
            }
        }
        return nil
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}
