import SPAKDiagnostics
import SPAKSyntax

/// The walk over steps and statements in source order: what is bound where, loops, ifs,
/// steps and their `on_fail` policies.
extension Checker {
    mutating func checkStatements(_ statements: [Statement]) {
        for statement in statements { checkStatement(statement) }
    }

    private mutating func checkStatement(_ statement: Statement) {
        switch statement {
        case .step(let name, let body, _):
            stepScopes[stepScopes.count - 1].append(name.name)
            checkStep(name, body)
        case .let(let name, let value, _):
            bind(name, infer(value, lookup: .boundSoFar), origin: .binding)
        case .if(let statement):
            checkIf(statement)
        case .repeat(let loop):
            checkRepeat(loop)
        case .effect(let effect):
            checkEffect(effect)
        case .onFail(_, let range):
            report(.misplacedStatement("`on_fail`", where: "inside `if`; write it directly in the step's body"), at: range)
        }
    }

    /// Binds a name: an error for a builtin, a warning where it hides a task parameter, and a
    /// warning where a loop variable reuses a name bound earlier. Rebinding otherwise is normal
    /// (loops rebind on every pass); the name's type becomes the common type of its bindings.
    mutating func bind(_ name: Identifier, _ type: ValueType, origin: Variable.Origin) {
        if let existing = scope[name.name] {
            switch existing.origin {
            case .builtin:
                report(.builtinRebound(name.name), at: name.range)
                return
            case .parameter:
                report(.shadowing(name.name, shadows: "the task parameter of the same name"), at: name.range,
                       notes: existing.site.map { [DiagnosticNote("the parameter is declared here", at: $0)] } ?? [])
            case .binding, .loop:
                if origin == .loop, existing.site != name.range {
                    report(.shadowing(name.name, shadows: "a variable bound earlier"), at: name.range,
                           notes: existing.site.map { [DiagnosticNote("bound earlier here", at: $0)] } ?? [])
                }
            }
            scope[name.name] = Variable(type: existing.type.merged(with: type), site: existing.site, origin: origin)
        } else {
            scope[name.name] = Variable(type: type, site: name.range, origin: origin)
        }
    }

    private mutating func checkStep(_ name: Identifier, _ body: Block) {
        var policy: SourceRange?
        var doesSomething = false
        for statement in body.statements {
            guard case .onFail(let onFail, let range) = statement else {
                doesSomething = true
                checkStatement(statement)
                continue
            }
            if let first = policy {
                report(.duplicatePolicy, at: range, notes: [DiagnosticNote("the first `on_fail` is here", at: first)])
                continue
            }
            policy = range
            checkOnFail(onFail, at: range, in: name, body: body)
        }
        if !doesSomething { report(.emptyStep(name.name), at: name.range) }
    }

    private mutating func checkOnFail(_ policy: OnFailPolicy, at range: SourceRange, in step: Identifier, body: Block) {
        // A reply bound `as json` or asked for with `schema:` is checked on receipt, and a
        // bad one triggers the policy like a broken invariant.
        let checksReplies = Bindings.effectCalls(in: body.statements).contains { call in
            call.binding?.format?.name == "json" || call.arguments.contains { $0.label?.name == "schema" }
        }
        // A run-time error is a failure a retry takes too (`on_fail fail` changes nothing there:
        // the run fails either way).
        var retries = false
        if case .retry = policy { retries = true }
        let errorsRetried = retries && RunTimeFailures.possible(in: body.statements)
        if !checksReplies, !errorsRetried, Bindings.names(boundBy: body.statements).isDisjoint(with: invariantRoots) {
            report(.policyNeverTriggers(step: step.name, retry: retries), at: range)
        }
        guard case .retry(let target, let bound) = policy else { return }
        if let site = stepSites[target.name] {
            if !stepScopes.contains(where: { $0.contains(target.name) }) {
                report(.retryForward(target.name), at: target.range,
                       notes: [DiagnosticNote("step `\(target.name)` is defined here", at: site)])
            }
        } else {
            report(.unknownStep(target.name), at: target.range, fixIts: suggestion(for: target, among: stepSites.keys))
        }
        if case .integer(let spelling) = bound.kind {
            if let value = Int(spelling) {
                if value < 1 { report(.invalidRetryBound, at: bound.range) }
            } else {
                report(.integerOverflow(spelling), at: bound.range)
            }
        }
    }

    private mutating func checkIf(_ statement: IfStatement) {
        requireBool(statement.condition, infer(statement.condition, lookup: .boundSoFar), what: "the condition of `if`")
        checkBlock(statement.then)
        switch statement.otherwise {
        case .elseIf(let nested): checkIf(nested)
        case .block(let block): checkBlock(block)
        case nil: break
        }
    }

    private mutating func checkBlock(_ block: Block) {
        stepScopes.append([])
        checkStatements(block.statements)
        stepScopes.removeLast()
    }

    private mutating func checkRepeat(_ loop: RepeatLoop) {
        var variableType = ValueType.any
        switch loop.iteration {
        case .range(let from, let to):
            for bound in [from, to] {
                let type = infer(bound, lookup: .boundSoFar)
                if !type.fits(.int) {
                    report(.loopBound("the ends of a `FROM...TO` range must be whole numbers, but this is \(type)"), at: bound.range)
                }
            }
            variableType = .int
        case .each(let list):
            switch infer(list, lookup: .boundSoFar) {
            case .list(let element): variableType = element
            case .any: variableType = .any
            case let other:
                report(.loopBound("a loop runs over a list or a `FROM...TO` range, but this is \(other)"), at: list.range)
            }
        }
        bind(loop.variable, variableType, origin: .loop)
        // A later pass sees what an earlier pass bound: names the body rebinds may hold any
        // of their values when the body starts again.
        let rebound = Bindings.names(boundBy: loop.body.statements)
        for name in rebound where scope[name] != nil && scope[name]!.origin != .builtin {
            scope[name]!.type = .any
        }
        if rebound.contains(loop.variable.name) {
            report(.shadowing(loop.variable.name, shadows: "the loop variable of the same name"), at: loop.variable.range)
        }
        stepScopes.append([])
        checkStatements(loop.body.statements)
        if let until = loop.until {
            requireBool(until, infer(until, lookup: .boundSoFar), what: "the `until` condition")
        }
        stepScopes.removeLast()
    }
}
