import SPAKDiagnostics
import SPAKSyntax
import SPAKTrace

/// `raise-retry-bound`: a step whose runs used every retry its `on_fail retry … max N`
/// allows, and then failed, gets twice the retries (at least one more).
public struct RaiseRetryBound: RewriteRule {
    public let name = "raise-retry-bound"
    public let summary = "doubles `max` of an `on_fail retry` that runs used up before failing"

    /// Creates the rule.
    public init() {}

    public func rewrites(_ context: RewriteContext) -> [Rewrite] {
        context.analysis.steps.compactMap { statistics -> Rewrite? in
            let retries = statistics.retries
            guard !retries.exhaustedRuns.isEmpty,
                  let body = context.draft.step(named: statistics.name),
                  case .retry(let target, let bound)? = body.onFailPolicy,
                  case .integer(let spelling) = bound.kind, let limit = Int(spelling) else { return nil }
            let raised = max(limit + 1, limit * 2)
            let runs = context.analysis.runs.count
            let change = "step `\(statistics.name)`: `on_fail retry \(target.name) max \(limit)` → `max \(raised)` "
                + "(\(retries.exhaustedRuns.count) of \(runs) run\(runs == 1 ? "" : "s") failed after the last retry)"
            let step = statistics.name
            return Rewrite(rule: name, change: change) { draft in
                draft.editStep(named: step) { block in
                    for index in block.statements.indices {
                        guard case .onFail(.retry(let target, let bound), let range) = block.statements[index] else { continue }
                        let raisedBound = Expr(.integer(String(raised)), range: bound.range)
                        block.statements[index] = .onFail(.retry(step: target, max: raisedBound), range: range)
                    }
                }
            }
        }
    }
}
