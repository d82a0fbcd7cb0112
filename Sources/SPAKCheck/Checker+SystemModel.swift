import SPAKDiagnostics
import SPAKSyntax

/// `system_model` (invariants, allow lines, budgets) and `evaluation` (metrics, the objective).
extension Checker {
    /// The budgets a program may set, and the type of each limit.
    static let budgets: [String: ValueType] = [
        "llm.calls": .int, "llm.tokens": .int, "tool.runs": .int, "wall_time": .duration,
        "tool.timeout": .duration, "tool.output": .int, "tool.cpu": .duration, "tool.memory": .int,
    ]

    mutating func checkSystemModels() {
        let models = task.systemModels
        for model in models.dropFirst() {
            report(.duplicateDefinition("block", "system_model"), at: keywordRange(model.range, "system_model"),
                   notes: [DiagnosticNote("first defined here", at: keywordRange(models[0].range, "system_model"))])
        }
        var invariants: [String: SourceRange] = [:]
        var budgets: [String: SourceRange] = [:]
        var secrets: [String: SourceRange] = [:]
        for item in models.flatMap(\.items) {
            switch item {
            case .invariant(let name, let condition, _):
                if let first = invariants[name.name] { duplicate("invariant", name, first: first) }
                invariants[name.name] = invariants[name.name] ?? name.range
                invariantRoots.formUnion(Bindings.names(readBy: condition))
            case .allow(let effect, let prefix, _):
                checkAllow(effect, prefix)
            case .secret(let name, _):
                if let first = secrets[name.name] { duplicate("secret", name, first: first) }
                secrets[name.name] = secrets[name.name] ?? name.range
            case .budget(let target, let limit, _):
                if let first = budgets[target.spelling] {
                    report(.duplicateDefinition("budget", target.spelling), at: target.range,
                           notes: [DiagnosticNote("first defined here", at: first)])
                }
                budgets[target.spelling] = budgets[target.spelling] ?? target.range
                checkBudget(target, limit)
            }
        }
    }

    private mutating func checkAllow(_ effect: Identifier, _ prefix: StringLiteral) {
        guard effect.name == "run" else {
            report(.allowNeverMatches("only `tool.run` takes allow lines (`tool.read` and `tool.write` always stay inside the workspace)"),
                   at: effect.range, fixIts: [FixIt(replace: effect.range, with: "run")])
            return
        }
        if prefix.value.containsTemplateTag {
            report(.allowNeverMatches("an allow prefix is matched literally, so `{{...}}` in it never matches"), at: prefix.range)
            return
        }
        let words: [String]
        do {
            words = try CommandWords.split(prefix.value)
        } catch {
            report(.allowNeverMatches("this prefix has an unterminated quote, so it cannot be split into words"), at: prefix.range)
            return
        }
        guard !words.isEmpty else {
            report(.allowNeverMatches("an empty prefix admits nothing; name the program, as in `allow tool.run \"python3\"`"),
                   at: prefix.range)
            return
        }
        if let first = allowLines.first(where: { $0.words == words }) {
            report(.duplicateDefinition("allow line", prefix.value), at: prefix.range,
                   notes: [DiagnosticNote("first defined here", at: first.prefix.range)])
            return
        }
        allowLines.append(AllowLine(words: words, prefix: prefix))
    }

    private mutating func checkBudget(_ target: BudgetTarget, _ limit: Expr) {
        guard let expected = Self.budgets[target.spelling] else {
            let known = Self.budgets.keys.sorted()
            let fix = Suggestions.closest(to: target.spelling, among: known).map { [FixIt(replace: target.range, with: $0)] } ?? []
            report(.invalidBudget("unknown budget `\(target.spelling)`; budgets are \(known.map { "`\($0)`" }.joined(separator: ", "))"),
                   at: target.range, fixIts: fix)
            return
        }
        let found = infer(limit, lookup: .constantsOnly)
        if found != expected {
            let wanted = expected == .int ? "a whole number" : "a duration such as `30m`"
            report(.invalidBudget("budget `\(target.spelling)` takes \(wanted), but this is \(found)"), at: limit.range)
        }
    }

    mutating func checkInvariants() {
        for item in task.systemModels.flatMap(\.items) {
            guard case .invariant(let name, let condition, _) = item else { continue }
            let owner = "invariant `\(name.name)`"
            requireBool(condition, infer(condition, lookup: .boundAnywhere(owner)), what: owner)
        }
    }

    mutating func checkEvaluations() {
        let evaluations = task.evaluations
        for evaluation in evaluations.dropFirst() {
            report(.duplicateDefinition("block", "evaluation"), at: keywordRange(evaluation.range, "evaluation"),
                   notes: [DiagnosticNote("first defined here", at: keywordRange(evaluations[0].range, "evaluation"))])
        }
        var metrics: [String: SourceRange] = [:]
        var types: [Int: ValueType] = [:]
        for metric in evaluations.flatMap(\.metrics) {
            if let first = metrics[metric.name.name] { duplicate("metric", metric.name, first: first) }
            metrics[metric.name.name] = metrics[metric.name.name] ?? metric.name.range
            let type = infer(metric.value, lookup: .boundAnywhere("metric `\(metric.name.name)`"))
            types[metric.range.start] = type
        }
        checkObjectives(evaluations, metricTypes: types)
    }

    /// At most one objective in the task; each names a metric of its own block whose value
    /// can be ranked (a number or a bool, or a type not known before the run).
    /// `metricTypes` holds each metric's inferred type by where the metric starts.
    private mutating func checkObjectives(_ evaluations: [Evaluation], metricTypes: [Int: ValueType]) {
        let objectives = evaluations.flatMap(\.objectives)
        for objective in objectives.dropFirst() {
            report(.multipleObjectives, at: keywordRange(objective.range, "objective"),
                   notes: [DiagnosticNote("the first `objective` is here", at: keywordRange(objectives[0].range, "objective"))])
        }
        for evaluation in evaluations {
            for objective in evaluation.objectives {
                let name = objective.metric
                guard let metric = evaluation.metrics.first(where: { $0.name.name == name.name }) else {
                    report(.unknownMetric(name.name), at: name.range,
                           fixIts: suggestion(for: name, among: evaluation.metrics.map(\.name.name)))
                    continue
                }
                let type = metricTypes[metric.range.start] ?? .any
                if Self.isUnranked(type) {
                    report(.typeMismatch("the objective's metric `\(name.name)`", expected: "a number or a bool", found: type.description),
                           at: name.range, notes: [DiagnosticNote("`\(name.name)` is defined here", at: metric.value.range)])
                }
            }
        }
    }

    /// Whether values of this type can never be ranked by an objective.
    private static func isUnranked(_ type: ValueType) -> Bool {
        switch type {
        case .string, .list, .map, .record: true
        case .any, .null, .bool, .int, .float, .duration: false
        }
    }

    mutating func reportUnusedAllowLines() {
        guard !hasDynamicCommand else { return }
        for line in allowLines where !line.used {
            report(.allowUnused(line.prefix.value), at: line.prefix.range)
        }
    }

    private func keywordRange(_ range: SourceRange, _ keyword: String) -> SourceRange {
        SourceRange(start: range.start, end: range.start + keyword.utf8.count)
    }
}
