import Foundation
import SPAKDiagnostics
import SPAKSyntax

/// The named parts of a program and their source text: what a divergence report compares
/// between the program a run recorded and the program replayed against it.
struct ProgramOutline {
    let source: SourceFile
    /// `let NAME = …` statements, by name (a name may be bound in several places).
    private(set) var lets: [String: [SourceRange]] = [:]
    /// Effect calls with a binding (`-> NAME`), by the name bound.
    private(set) var bindings: [String: [SourceRange]] = [:]
    /// Every effect call, in source order.
    private(set) var effects: [SourceRange] = []
    private(set) var steps: [String: SourceRange] = [:]
    private(set) var invariants: [String: SourceRange] = [:]
    private(set) var metrics: [String: SourceRange] = [:]

    init(_ source: SourceFile) {
        self.source = source
        guard let task = SPAKParser.parse(source).program.task else { return }
        collect(task.body)
        for item in task.systemModels.flatMap(\.items) {
            if case .invariant(let name, _, let range) = item { invariants[name.name] = range }
        }
        for metric in task.evaluations.flatMap(\.metrics) { metrics[metric.name.name] = metric.range }
    }

    private mutating func collect(_ statements: [Statement]) {
        for statement in statements {
            switch statement {
            case .step(let name, let body, let range):
                steps[name.name] = steps[name.name] ?? range
                collect(body.statements)
            case .let(let name, _, let range):
                lets[name.name, default: []].append(range)
            case .effect(let call):
                effects.append(call.range)
                if let binding = call.binding { bindings[binding.name.name, default: []].append(call.range) }
            case .if(let statement):
                collectIf(statement)
            case .repeat(let loop):
                collect(loop.body.statements)
            case .onFail:
                break
            }
        }
    }

    private mutating func collectIf(_ statement: IfStatement) {
        collect(statement.then.statements)
        switch statement.otherwise {
        case .elseIf(let nested)?: collectIf(nested)
        case .block(let block)?: collect(block.statements)
        case nil: break
        }
    }

    /// The source text of a range, on one line and cut to `limit` characters.
    func text(_ range: SourceRange, limit: Int = 80) -> String {
        let flat = source.text(in: range).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " ")
        return flat.count > limit ? String(flat.prefix(limit - 1)) + "…" : flat
    }

    /// `LINE` of a range's start.
    func line(_ range: SourceRange) -> Int { source.location(of: range.start).line }

    /// The effect call that starts at `LINE:COLUMN`, if any.
    func effect(at location: String) -> SourceRange? {
        effects.first { source.location(of: $0.start).description == location }
    }
}
