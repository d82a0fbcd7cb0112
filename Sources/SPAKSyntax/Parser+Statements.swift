import SPAKDiagnostics

extension Parser {
    /// Parses one statement, reporting statements that the context does not allow (a step
    /// inside a step, an effect between steps) but reading them anyway to stay in step.
    mutating func parseStatement(in context: BlockContext) throws(Recover) -> Statement {
        let keyword = current
        switch keyword.kind {
        case .keyword(.step):
            if context == .step { report(.misplacedStatement("a step", where: "inside another step"), at: keyword.range) }
            return try parseStep()
        case .keyword(.let):
            return try parseLet()
        case .keyword(.if):
            return .if(try parseIf(in: context))
        case .keyword(.repeat):
            if context == .step {
                report(.misplacedStatement("`repeat`", where: "inside a step; put the loop around steps"), at: keyword.range)
            }
            return .repeat(try parseRepeat(in: context))
        case .keyword(.tool), .keyword(.llm):
            if context != .step {
                report(.misplacedStatement("an effect", where: "outside a step; wrap it in `step NAME { ... }`"),
                       at: keyword.range)
            }
            return .effect(try parseEffect())
        case .keyword(.onFail):
            if context != .step { report(.misplacedStatement("`on_fail`", where: "outside a step"), at: keyword.range) }
            return try parseOnFail()
        case .keyword(.systemModel), .keyword(.evaluation):
            report(.misplacedStatement("`\(text(keyword))`", where: "here; it belongs directly in the task's body"),
                   at: keyword.range)
            throw Recover()
        case .keyword(.invariant), .keyword(.allow), .keyword(.budget), .keyword(.secret):
            report(.misplacedStatement("`\(text(keyword))`", where: "outside `system_model { ... }`"), at: keyword.range)
            throw Recover()
        case .keyword(.metric), .keyword(.objective):
            report(.misplacedStatement("`\(text(keyword))`", where: "outside `evaluation { ... }`"), at: keyword.range)
            throw Recover()
        case .name where peek().kind == .assign:
            let name = text(keyword)
            report(.assignmentWithoutLet(name), at: keyword.range,
                   fixIts: [FixIt(replace: .at(keyword.range.start), with: "let ")])
            throw Recover()
        case .name where Self.misspeltKeyword(text(keyword)) != nil:
            let intended = Self.misspeltKeyword(text(keyword))!
            reportUnexpected(expected: expectedStatement(context),
                             notes: [DiagnosticNote("did you mean `\(intended)`?")])
            if let last = diagnostics.indices.last { diagnostics[last].fixIts = [FixIt(replace: keyword.range, with: intended)] }
            throw Recover()
        case .name where ["while", "for", "loop"].contains(text(keyword)):
            reportUnexpected(expected: expectedStatement(context),
                             notes: [DiagnosticNote("loops are written `repeat NAME in 1...N until CONDITION { ... }`")])
            throw Recover()
        default:
            reportUnexpected(expected: expectedStatement(context))
            throw Recover()
        }
    }

    /// A statement keyword that a name at the start of a statement is a likely typo of.
    static func misspeltKeyword(_ name: String) -> String? {
        let keywords = ["step", "let", "if", "repeat", "on_fail", "system_model", "evaluation", "invariant", "allow",
                        "budget", "secret", "metric", "objective"]
        if name == "elif" || name == "elsif" { return nil }
        return Suggestions.closest(to: name, among: keywords)
    }

    private func expectedStatement(_ context: BlockContext) -> String {
        switch context {
        case .task: "a step, `let`, `if`, `repeat`, `system_model`, `evaluation` or `}`"
        case .flow: "a step, `let`, `if`, `repeat` or `}`"
        case .step: "an effect (tool.read, tool.write, tool.run, llm.query), `let`, `if`, `on_fail` or `}`"
        }
    }

    private mutating func parseBlock(_ context: BlockContext, after header: String, closing what: String) throws(Recover) -> Block {
        try requireOpenBrace(after: header)
        let body = try abortable { p throws(Abort) in try p.braced(what) { p throws(Recover) in try p.parseStatement(in: context) } }
        return Block(statements: body.items, open: body.open, close: body.close)
    }

    private mutating func parseStep() throws(Recover) -> Statement {
        let start = advance().range.start
        let name = try expectName("the step's name")
        let body = try parseBlock(.step, after: "the step's name", closing: "step `\(name.name)`")
        return .step(name: name, body: body, range: SourceRange(start: start, end: body.close + 1))
    }

    private mutating func parseLet() throws(Recover) -> Statement {
        let start = advance().range.start
        let name = try expectName("a name after `let`")
        try expect(.assign, "`=` after `let \(name.name)`")
        let value = try parseExpression()
        return .let(name: name, value: value, range: SourceRange(start: start, end: value.range.end))
    }

    private mutating func parseIf(in context: BlockContext) throws(Recover) -> IfStatement {
        let start = advance().range.start
        let condition = try parseExpression()
        let inner: BlockContext = context == .step ? .step : .flow
        if current.kind == .assign {
            report(.unexpectedToken(expected: "`{` after the condition of `if`", found: "`=`"), at: current.range,
                   notes: [DiagnosticNote("`=` binds only in `let`; to compare, write `==`")],
                   fixIts: [FixIt(replace: current.range, with: "==")])
            throw Recover()
        }
        let then = try parseBlock(inner, after: "the condition of `if`", closing: "the `if` block")
        var otherwise: ElseBranch?
        var end = then.close + 1
        if current.kind == .keyword(.else) {
            advance()
            if current.kind == .keyword(.if) {
                let nested = try parseIf(in: context)
                otherwise = .elseIf(nested)
                end = nested.range.end
            } else {
                let block = try parseBlock(inner, after: "`else`", closing: "the `else` block")
                otherwise = .block(block)
                end = block.close + 1
            }
        }
        return IfStatement(condition: condition, then: then, otherwise: otherwise, range: SourceRange(start: start, end: end))
    }

    /// `repeat NAME in ITERATION [until COND] { … }`. A loop written without `NAME in …` is
    /// reported as unbounded and its body is still read, so later errors are found too.
    private mutating func parseRepeat(in context: BlockContext) throws(Recover) -> RepeatLoop {
        let keyword = advance()
        var variable = Identifier("", range: .at(current.range.start))
        var iteration = Iteration.each(Expr(.missing, range: .at(current.range.start)))
        if current.kind == .name, peek().kind == .keyword(.in) {
            variable = try expectName("the loop variable")
            advance()
            let first = try parseExpression()
            if current.kind == .ellipsis {
                advance()
                iteration = .range(from: first, to: try parseExpression())
            } else {
                iteration = .each(first)
            }
        } else {
            report(.unboundedLoop, at: keyword.range)
            if current.kind == .name { advance() }
            guard current.kind == .keyword(.until) || current.kind == .leftBrace else { throw Recover() }
        }
        var until: Expr?
        if current.kind == .keyword(.until) {
            advance()
            until = try parseExpression()
        }
        let body = try parseBlock(context == .step ? .step : .flow, after: "the loop's header", closing: "the `repeat` block")
        return RepeatLoop(variable: variable, iteration: iteration, until: until, body: body,
                          range: SourceRange(start: keyword.range.start, end: body.close + 1))
    }

    private mutating func parseEffect() throws(Recover) -> EffectCall {
        let namespaceToken = advance()
        let namespace = Identifier(text(namespaceToken), range: namespaceToken.range)
        try expect(.dot, "`.` after `\(namespace.name)`")
        let name = try expectName("an effect name after `\(namespace.name).`")
        try expect(.leftParen, "`(` after `\(namespace.name).\(name.name)`")
        let arguments = try parseArguments()
        var end = arguments.end
        var binding: Binding?
        if current.kind == .arrow {
            advance()
            let bound = try expectName("a name to bind the result to after `->`")
            end = bound.range.end
            var format: Identifier?
            if current.kind == .keyword(.as) {
                advance()
                let formatName = try expectName("a format after `as` (`json`)")
                format = formatName
                end = formatName.range.end
            }
            binding = Binding(name: bound, format: format)
        }
        return EffectCall(namespace: namespace, name: name, arguments: arguments.arguments, binding: binding,
                          range: SourceRange(start: namespaceToken.range.start, end: end))
    }

    private mutating func parseOnFail() throws(Recover) -> Statement {
        let start = advance().range.start
        if current.kind == .keyword(.fail) {
            let end = advance().range.end
            return .onFail(.fail, range: SourceRange(start: start, end: end))
        }
        guard current.kind == .keyword(.retry) else {
            reportUnexpected(expected: "`retry STEP max N` or `fail` after `on_fail`")
            throw Recover()
        }
        advance()
        let step = try expectName("the step to retry")
        try expect(.keyword(.max), "`max N` after `retry \(step.name)`")
        guard current.kind == .integer else {
            reportUnexpected(expected: "a whole number after `max`")
            throw Recover()
        }
        let bound = advance()
        return .onFail(.retry(step: step, max: Expr(.integer(text(bound)), range: bound.range)),
                       range: SourceRange(start: start, end: bound.range.end))
    }
}
