import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKSyntax
import SPAKTrace

/// `checks-first`: a step with no effects (a check: `let`s that its invariants test) that
/// comes right after a step that asks a model or runs a command, and that runs found
/// violated, is moved before that step when neither reads what the other binds. A run that
/// fails the check then fails before paying for the expensive step.
public struct ChecksFirst: RewriteRule {
    public let name = "checks-first"
    public let summary = "moves a failing check with no effects before the expensive step it does not depend on"

    /// Creates the rule.
    public init() {}

    public func rewrites(_ context: RewriteContext) -> [Rewrite] {
        guard let task = context.draft.program.task else { return [] }
        let violated = Dictionary(context.analysis.steps.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var rewrites: [Rewrite] = []
        for (expensive, check) in Self.adjacentSteps(in: task.body) {
            guard let statistics = violated[check.name], statistics.violated > 0,
                  let cost = Self.expensiveEffect(of: expensive.body),
                  Self.isCheck(check.body), expensive.body.onFailPolicy == nil, check.body.onFailPolicy == nil,
                  !Self.retryTargets(in: task.body).contains(check.name),
                  Self.independent(expensive, check, invariants: task.systemModels, templates: context.draft.templates)
            else { continue }
            let change = "step `\(check.name)` (no effects; violated \(statistics.violated) of \(statistics.occurrences) times) "
                + "now runs before step `\(expensive.name)` (\(cost)), whose bindings it does not read"
            let (first, second) = (expensive.name, check.name)
            rewrites.append(Rewrite(rule: name, change: change) { draft in draft.swapSteps(first, second) })
        }
        return rewrites
    }

    /// A step as the rule sees it.
    struct StepInfo {
        let name: String
        let body: Block
        let start: Int
        let end: Int
    }

    /// Every pair of steps that follow each other directly, in the task's body and in loops.
    static func adjacentSteps(in statements: [Statement]) -> [(StepInfo, StepInfo)] {
        var pairs: [(StepInfo, StepInfo)] = []
        var previous: StepInfo?
        for statement in statements {
            if case .step(let name, let body, let range) = statement {
                let info = StepInfo(name: name.name, body: body, start: range.start, end: range.end)
                if let previous { pairs.append((previous, info)) }
                previous = info
            } else {
                previous = nil
                if case .repeat(let loop) = statement { pairs += adjacentSteps(in: loop.body.statements) }
            }
        }
        return pairs
    }

    /// The steps some `on_fail retry` goes back to (a retry to the check would now run the
    /// expensive step again after it).
    static func retryTargets(in statements: [Statement]) -> Set<String> {
        var targets: Set<String> = []
        for statement in statements {
            switch statement {
            case .onFail(.retry(let step, _), _): targets.insert(step.name)
            case .step(_, let body, _): targets.formUnion(retryTargets(in: body.statements))
            case .repeat(let loop): targets.formUnion(retryTargets(in: loop.body.statements))
            case .if(let conditional):
                targets.formUnion(retryTargets(in: conditional.then.statements))
                switch conditional.otherwise {
                case .block(let block): targets.formUnion(retryTargets(in: block.statements))
                case .elseIf(let nested): targets.formUnion(retryTargets(in: [.if(nested)]))
                case nil: break
                }
            case .let, .effect, .onFail: break
            }
        }
        return targets
    }

    /// `llm.query` or `tool.run`, when the step has one.
    static func expensiveEffect(of body: Block) -> String? {
        Bindings.effectCalls(in: body.statements).map(\.qualifiedName).first { $0 == "llm.query" || $0 == "tool.run" }
    }

    /// A step of `let`s (and `if`s of them) only.
    static func isCheck(_ body: Block) -> Bool {
        Bindings.effectCalls(in: body.statements).isEmpty && !body.statements.contains { if case .step = $0 { true } else { false } }
    }

    /// Neither step reads what the other binds, they bind different names, and no invariant
    /// that either step's bindings trigger reads the other's.
    static func independent(_ a: StepInfo, _ b: StepInfo, invariants models: [SystemModel], templates: [String: String]) -> Bool {
        let boundA = Bindings.names(boundBy: a.body.statements), boundB = Bindings.names(boundBy: b.body.statements)
        guard boundA.isDisjoint(with: boundB),
              names(readBy: a.body.statements, templates: templates).isDisjoint(with: boundB),
              names(readBy: b.body.statements, templates: templates).isDisjoint(with: boundA) else { return false }
        for model in models {
            for case .invariant(_, let condition, _) in model.items {
                let read = Bindings.names(readBy: condition)
                if !read.isDisjoint(with: boundA), !read.isDisjoint(with: boundB) { return false }
            }
        }
        return true
    }

    /// Names the statements read: in expressions, in templates written as string arguments,
    /// and in the template files they name.
    static func names(readBy statements: [Statement], templates: [String: String]) -> Set<String> {
        var names: Set<String> = []
        func scan(_ expr: Expr) {
            names.formUnion(Bindings.names(readBy: expr))
            if case .string(let text) = expr.kind { names.formUnion(TemplateScan(text).references.map(\.root)) }
        }
        for statement in statements {
            switch statement {
            case .let(_, let value, _): scan(value)
            case .effect(let call):
                for argument in call.arguments {
                    scan(argument.value)
                    if argument.label?.name == "template", case .string(let path) = argument.value.kind, let text = templates[path] {
                        names.formUnion(TemplateScan(text).references.map(\.root))
                    }
                }
            case .if(let conditional):
                scan(conditional.condition)
                names.formUnion(Self.names(readBy: conditional.then.statements, templates: templates))
                switch conditional.otherwise {
                case .block(let block): names.formUnion(Self.names(readBy: block.statements, templates: templates))
                case .elseIf(let nested): names.formUnion(Self.names(readBy: [.if(nested)], templates: templates))
                case nil: break
                }
            case .repeat(let loop):
                names.formUnion(Self.names(readBy: loop.body.statements, templates: templates))
                if let until = loop.until { scan(until) }
            case .step(_, let body, _): names.formUnion(Self.names(readBy: body.statements, templates: templates))
            case .onFail: break
            }
        }
        return names
    }
}

extension ProgramDraft {
    /// Swaps two steps that follow each other directly, `first` then `second`, each with the
    /// comment lines right above it: their lines are moved in the printed program, which is
    /// then parsed again (the printer places comments by their position in the source, so
    /// moving the tree's statements alone would leave comments behind).
    mutating func swapSteps(_ first: String, _ second: String) {
        let file = SourceFile(path: source.path, text: printed())
        guard let task = Frontend.parse(file).program.task,
              let (a, b) = ChecksFirst.adjacentSteps(in: task.body).first(where: { $0.0.name == first && $0.1.name == second })
        else { return }
        var lines = file.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func span(_ step: ChecksFirst.StepInfo) -> ClosedRange<Int> {
            var top = file.location(of: step.start).line - 1
            while top > 0, lines[top - 1].trimmingCharacters(in: .whitespaces).hasPrefix("//") { top -= 1 }
            return top...(file.location(of: max(step.start, step.end - 1)).line - 1)
        }
        let (spanA, spanB) = (span(a), span(b))
        guard spanA.upperBound < spanB.lowerBound else { return }
        let gap = Array(lines[(spanA.upperBound + 1)..<spanB.lowerBound])
        lines.replaceSubrange(spanA.lowerBound...spanB.upperBound, with: Array(lines[spanB]) + gap + Array(lines[spanA]))
        let moved = SourceFile(path: source.path, text: lines.joined(separator: "\n"))
        program = Frontend.parse(moved).program
        source = moved
    }
}
