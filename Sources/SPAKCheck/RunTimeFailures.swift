import SPAKSyntax

/// Whether a step's statements can fail at run time, which an `on_fail retry` takes like a
/// broken invariant (language.md §10). Only literals cannot: reading a variable can find it
/// unbound (the checker does not track which branch of an `if` ran), every operator and
/// function checks its operands' kinds, and `tool.read`/`tool.write` can find no file or
/// no room. An inline template cannot fail once checked; any other argument of an effect may
/// (`max_tokens: 0` and `timeout: 0s` are refused when the query is built).
enum RunTimeFailures {
    static func possible(in statements: [Statement]) -> Bool {
        statements.contains { statement in
            switch statement {
            case .let(_, let value, _): possible(in: value)
            case .effect(let call): possible(in: call)
            case .if(let branches): possible(in: branches)
            case .step(_, let body, _): possible(in: body.statements)
            case .repeat: true
            case .onFail: false
            }
        }
    }

    private static func possible(in statement: IfStatement) -> Bool {
        if possible(in: statement.condition) || possible(in: statement.then.statements) { return true }
        switch statement.otherwise {
        case .elseIf(let nested): return possible(in: nested)
        case .block(let block): return possible(in: block.statements)
        case nil: return false
        }
    }

    private static func possible(in call: EffectCall) -> Bool {
        if call.namespace.name == "tool", call.name.name == "read" || call.name.name == "write" { return true }
        return call.arguments.contains { argument in
            if case .string = argument.value.kind { return false }  // a template, or a plain string
            return true
        }
    }

    private static func possible(in expr: Expr) -> Bool {
        switch expr.kind {
        case .integer, .float, .duration, .string, .bool, .null: false
        case .list(let items): items.contains(where: possible(in:))
        case .map(let entries): entries.contains { possible(in: $0.value) }
        case .name, .field, .index, .call, .unary, .binary, .missing: true
        }
    }
}
