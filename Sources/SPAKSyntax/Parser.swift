import SPAKDiagnostics

/// The result of parsing one file: the tree (possibly partial) and every syntax error found.
public struct ParseResult: Sendable {
    /// The program; parts that could not be read are missing or `.missing` expressions.
    public let program: Program
    /// Lexical and syntax diagnostics, in the order found.
    public let diagnostics: [Diagnostic]
    /// The file that was parsed.
    public let file: SourceFile
    /// Errors found past `SPAKParser.storedDiagnosticsLimit`: counted, not kept.
    public let droppedErrors: Int

    /// Creates a result (the parser makes these; so does the front end for unreadable text).
    public init(program: Program, diagnostics: [Diagnostic], file: SourceFile, droppedErrors: Int = 0) {
        self.program = program
        self.diagnostics = diagnostics
        self.file = file
        self.droppedErrors = droppedErrors
    }

    /// Whether any error was found.
    public var hasErrors: Bool { droppedErrors > 0 || diagnostics.contains { $0.severity == .error } }

    /// The diagnostics in a bag that keeps the per-file display limit and counts every error,
    /// those only counted here included.
    public var bag: DiagnosticBag {
        var bag = DiagnosticBag()
        bag.add(contentsOf: diagnostics)
        bag.countSuppressed(droppedErrors)
        return bag
    }
}

/// Parses SPAK source. It never stops at the first error: it reports each one, skips to the
/// next statement, and goes on, so one run shows every syntax error in the file.
public enum SPAKParser {
    /// Blocks, brackets and operator chains may nest this deep; deeper input gets one
    /// diagnostic instead of exhausting the stack.
    public static let nestingLimit = 200

    /// At most this many diagnostics are kept per file; later ones are only counted, so a
    /// file of garbage costs time and memory in proportion to its size, not to its errors.
    public static let storedDiagnosticsLimit = 1_000

    /// Parses a file.
    public static func parse(_ file: SourceFile) -> ParseResult {
        var lexer = Lexer(file: file)
        lexer.run()
        var parser = Parser(file: file, tokens: lexer.tokens, strings: lexer.stringValues)
        parser.diagnostics = lexer.diagnostics
        let task = parser.parseProgram()
        return ParseResult(
            program: Program(task: task, comments: lexer.comments), diagnostics: parser.diagnostics, file: file,
            droppedErrors: lexer.droppedErrors + parser.droppedErrors)
    }
}

/// Where a block sits decides which statements it may hold.
enum BlockContext {
    /// Directly in the task: everything, including `system_model` and `evaluation`.
    case task
    /// Inside `if` or `repeat` between steps: steps, lets, ifs and repeats.
    case flow
    /// Inside a step: lets, effects, ifs and `on_fail`.
    case step
}

/// Thrown after an error has been reported, to unwind to the enclosing statement list.
struct Recover: Error {}
/// Thrown once the nesting limit is hit: the rest of the file is not parsed.
struct Abort: Error {}

struct Parser {
    let file: SourceFile
    let tokens: [Token]
    let strings: [Int: String]
    var index = 0
    var depth = 0
    var diagnostics: [Diagnostic] = []
    var droppedErrors = 0
    /// The closers of brackets `( [ {` an expression has opened and not yet closed: after an
    /// error inside one, recovery first skips to its close rather than stopping within it.
    var unclosed: [TokenKind] = []

    init(file: SourceFile, tokens: [Token], strings: [Int: String]) {
        self.file = file
        self.tokens = tokens
        self.strings = strings
    }

    // MARK: - Program and task

    mutating func parseProgram() -> TaskDecl? {
        if current.kind == .endOfFile {
            if diagnostics.isEmpty { report(.emptyProgram, at: .at(0)) }
            return nil
        }
        do {
            while current.kind != .keyword(.task), current.kind != .endOfFile {
                reportUnexpected(expected: "`task`")
                skip(until: { $0 == .keyword(.task) })
            }
            guard current.kind == .keyword(.task) else { return nil }
            let task = try parseTask()
            if current.kind == .keyword(.task) {
                report(.multipleTasks, at: current.range)
            } else if current.kind != .endOfFile {
                reportUnexpected(expected: "the end of the file after the task's closing `}`")
            }
            return task
        } catch {
            return nil
        }
    }

    private mutating func parseTask() throws(Abort) -> TaskDecl {
        let start = advance().range.start
        var name = Identifier("", range: .at(current.range.start))
        var parameters: [Parameter] = []
        do {
            name = try expectName("the task's name")
            try expect(.leftParen, "`(` after the task's name")
            parameters = try commaSeparated(until: .rightParen) { p throws(Recover) in try p.parseParameter() }
            try expect(.rightParen, "`)` after the parameters")
        } catch {
            skip(until: { $0 == .leftBrace })
        }
        guard current.kind == .leftBrace else {
            reportUnexpected(expected: "`{` to open the task's body")
            return TaskDecl(name: name, parameters: parameters, items: [], open: current.range.start,
                            close: current.range.start, range: SourceRange(start: start, end: current.range.start))
        }
        let body = try braced("task `\(name.name)`") { p throws(Recover) in try p.parseTaskItem() }
        return TaskDecl(name: name, parameters: parameters, items: body.items, open: body.open, close: body.close,
                        range: SourceRange(start: start, end: body.end))
    }

    private mutating func parseParameter() throws(Recover) -> Parameter {
        let name = try expectName("a parameter name")
        try expect(.colon, "`:` and a type after parameter `\(name.name)`")
        let type = try expectName("a type (int, float, string, bool, duration, list, map or any)")
        var defaultValue: Expr?
        if current.kind == .assign {
            advance()
            defaultValue = try parseExpression()
        }
        return Parameter(name: name, type: type, defaultValue: defaultValue,
                         range: name.range.union(defaultValue?.range ?? type.range))
    }

    private mutating func parseTaskItem() throws(Recover) -> TaskItem {
        switch current.kind {
        case .keyword(.systemModel): return .systemModel(try parseSystemModel())
        case .keyword(.evaluation): return .evaluation(try parseEvaluation())
        default: return .statement(try parseStatement(in: .task))
        }
    }

    // MARK: - Braced lists

    /// Parses `{ ITEM* }`, recovering inside: an item that fails is skipped up to the next
    /// statement keyword or the closing brace. A missing `}` is reported with a note at `{`.
    mutating func braced<Item>(
        _ what: String, item: (inout Parser) throws(Recover) -> Item
    ) throws(Abort) -> (items: [Item], open: Int, close: Int, end: Int) {
        let open = advance().range.start
        try enterNesting()
        defer { depth -= 1 }
        var items: [Item] = []
        while true {
            if current.kind == .rightBrace {
                let close = advance().range
                return (items, open, close.start, close.end)
            }
            if current.kind == .endOfFile {
                report(.unclosedDelimiter("}", closing: what), at: current.range,
                       notes: [DiagnosticNote("to match this `{`", at: SourceRange(start: open, end: open + 1))])
                return (items, open, current.range.start, current.range.start)
            }
            let before = index
            do {
                items.append(try item(&self))
            } catch {
                if pendingAbort { throw Abort() }
                synchronize(insideBrackets: unclosed)
                unclosed = []
                if index == before { advance() }
            }
        }
    }

    /// Parses `ITEM (, ITEM)* ,?` up to (not including) `closer`.
    mutating func commaSeparated<Item>(
        until closer: TokenKind, item: (inout Parser) throws(Recover) -> Item
    ) throws(Recover) -> [Item] {
        var items: [Item] = []
        while current.kind != closer {
            items.append(try item(&self))
            guard current.kind == .comma else { break }
            advance()
        }
        return items
    }

    // MARK: - system_model and evaluation

    private mutating func parseSystemModel() throws(Recover) -> SystemModel {
        let start = advance().range.start
        try requireOpenBrace(after: "`system_model`")
        let body = try abortable { p throws(Abort) in try p.braced("`system_model`") { p throws(Recover) in try p.parseModelItem() } }
        return SystemModel(items: body.items, open: body.open, close: body.close,
                           range: SourceRange(start: start, end: body.end))
    }

    private mutating func parseModelItem() throws(Recover) -> ModelItem {
        let start = current.range.start
        switch current.kind {
        case .keyword(.invariant):
            advance()
            let name = try expectName("the invariant's name")
            try expect(.colon, "`:` after the invariant's name")
            let condition = try parseExpression()
            return .invariant(name: name, condition: condition, range: SourceRange(start: start, end: condition.range.end))
        case .keyword(.allow):
            advance()
            try expect(.keyword(.tool), "`tool` after `allow` (as in `allow tool.run \"python3\"`)")
            try expect(.dot, "`.` after `tool`")
            let effect = try expectName("an effect name such as `run`")
            let prefix = try expectString("the command prefix as a string")
            return .allow(effect: effect, prefix: prefix, range: SourceRange(start: start, end: prefix.range.end))
        case .keyword(.budget):
            advance()
            let target = try parseBudgetTarget()
            try expect(.lessEqual, "`<=` after the budget's name")
            let limit = try parseBudgetLimit()
            return .budget(target: target, limit: limit, range: SourceRange(start: start, end: limit.range.end))
        case .keyword(.secret):
            advance()
            let name = try expectName("the name of an environment variable after `secret`")
            return .secret(name: name, range: SourceRange(start: start, end: name.range.end))
        default:
            reportUnexpected(expected: "`invariant`, `allow`, `budget` or `secret` inside `system_model`")
            throw Recover()
        }
    }

    private mutating func parseBudgetTarget() throws(Recover) -> BudgetTarget {
        let start = current.range.start
        if current.kind == .keyword(.llm) || current.kind == .keyword(.tool) {
            let namespace = text(advance())
            try expect(.dot, "`.` after `\(namespace)`")
            let name = try expectName("what the budget counts, such as `calls`")
            return BudgetTarget(namespace: namespace, name: name, range: SourceRange(start: start, end: name.range.end))
        }
        let name = try expectName("what the budget limits (`llm.calls`, `llm.tokens`, `tool.runs` or `wall_time`)")
        return BudgetTarget(namespace: nil, name: name, range: name.range)
    }

    private mutating func parseBudgetLimit() throws(Recover) -> Expr {
        let token = current
        switch token.kind {
        case .integer: advance(); return Expr(.integer(text(token)), range: token.range)
        case .float: advance(); return Expr(.float(text(token)), range: token.range)
        case .duration: advance(); return Expr(.duration(text(token)), range: token.range)
        default:
            reportUnexpected(expected: "a number or a duration (a budget's limit is a literal)")
            throw Recover()
        }
    }

    /// A line of an `evaluation` block.
    private enum EvaluationItem {
        case metric(Metric)
        case objective(Objective)
    }

    private mutating func parseEvaluation() throws(Recover) -> Evaluation {
        let start = advance().range.start
        try requireOpenBrace(after: "`evaluation`")
        let body = try abortable { p throws(Abort) in
            try p.braced("`evaluation`") { p throws(Recover) -> EvaluationItem in
                switch p.current.kind {
                case .keyword(.metric): return .metric(try p.parseMetric())
                case .keyword(.objective): return .objective(try p.parseObjective())
                default:
                    p.reportUnexpected(expected: "`metric NAME = EXPRESSION` or `objective maximize NAME` inside `evaluation`")
                    throw Recover()
                }
            }
        }
        var metrics: [Metric] = []
        var objectives: [Objective] = []
        for item in body.items {
            switch item {
            case .metric(let metric): metrics.append(metric)
            case .objective(let objective): objectives.append(objective)
            }
        }
        return Evaluation(metrics: metrics, objectives: objectives, open: body.open, close: body.close,
                          range: SourceRange(start: start, end: body.end))
    }

    private mutating func parseMetric() throws(Recover) -> Metric {
        let start = advance().range.start
        let name = try expectName("the metric's name")
        try expect(.assign, "`=` after the metric's name")
        let value = try parseExpression()
        return Metric(name: name, value: value, range: SourceRange(start: start, end: value.range.end))
    }

    /// `objective maximize NAME` or `objective minimize NAME`. The two words are names, not
    /// keywords, so they stay free everywhere else; any other word here is a syntax error.
    private mutating func parseObjective() throws(Recover) -> Objective {
        let start = advance().range.start
        let word = current
        guard word.kind == .name, let direction = Objective.Direction(rawValue: text(word)) else {
            let expected = "`maximize` or `minimize` after `objective`"
            if word.kind == .name, let closest = Suggestions.closest(to: text(word), among: ["maximize", "minimize"]) {
                report(.unexpectedToken(expected: expected, found: describe(word)), at: word.range,
                       fixIts: [FixIt(replace: word.range, with: closest)])
            } else {
                reportUnexpected(expected: expected)
            }
            throw Recover()
        }
        advance()
        let metric = try expectName("the name of a metric after `\(direction.rawValue)`")
        return Objective(direction: direction, metric: metric, range: SourceRange(start: start, end: metric.range.end))
    }

    // MARK: - Token helpers

    var current: Token { tokens[index] }

    func peek(_ offset: Int = 1) -> Token { tokens[min(index + offset, tokens.count - 1)] }

    @discardableResult
    mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    func text(_ token: Token) -> String { file.text(in: token.range) }

    mutating func expect(_ kind: TokenKind, _ expected: String) throws(Recover) {
        guard current.kind == kind else {
            reportUnexpected(expected: expected)
            throw Recover()
        }
        advance()
    }

    mutating func expectName(_ expected: String) throws(Recover) -> Identifier {
        guard current.kind == .name else {
            reportUnexpected(expected: expected)
            throw Recover()
        }
        let token = advance()
        return Identifier(text(token), range: token.range)
    }

    mutating func expectString(_ expected: String) throws(Recover) -> StringLiteral {
        guard current.kind == .string else {
            reportUnexpected(expected: expected)
            throw Recover()
        }
        let token = advance()
        return StringLiteral(value: strings[token.range.start] ?? "", range: token.range)
    }

    mutating func requireOpenBrace(after what: String) throws(Recover) {
        guard current.kind == .leftBrace else {
            reportUnexpected(expected: "`{` after \(what)")
            throw Recover()
        }
    }

    // MARK: - Nesting limit

    /// Set once the limit is hit, so every level unwinds without parsing further.
    var pendingAbort = false

    mutating func enterNesting(extra: Int = 0) throws(Abort) {
        depth += 1
        guard depth + extra <= SPAKParser.nestingLimit else {
            depth -= 1
            if !pendingAbort {
                report(.nestingTooDeep(limit: SPAKParser.nestingLimit), at: current.range)
                pendingAbort = true
            }
            throw Abort()
        }
    }

    /// Enters one level of expression or block nesting, failing the statement past the limit.
    mutating func nest() throws(Recover) {
        do { try enterNesting() } catch { throw Recover() }
    }

    /// Runs a nested parse that may abort, turning the abort into `Recover` for the caller's
    /// recovery loop (which checks `pendingAbort` and rethrows it as `Abort`).
    mutating func abortable<T>(_ body: (inout Parser) throws(Abort) -> T) throws(Recover) -> T {
        do {
            return try body(&self)
        } catch {
            throw Recover()
        }
    }

    // MARK: - Reporting and recovery

    mutating func report(_ message: DiagnosticMessage, at range: SourceRange,
                         notes: [DiagnosticNote] = [], fixIts: [FixIt] = []) {
        guard diagnostics.count < SPAKParser.storedDiagnosticsLimit else {
            if message.code.severity == .error { droppedErrors += 1 }
            return
        }
        diagnostics.append(Diagnostic(message, in: file, at: range, notes: notes, fixIts: fixIts))
    }

    /// Reports "expected X, found Y" at the current token, unless the lexer already reported it.
    mutating func reportUnexpected(expected: String, notes: [DiagnosticNote] = []) {
        guard current.kind != .invalid else { return }
        report(.unexpectedToken(expected: expected, found: describe(current)), at: current.range, notes: notes)
    }

    func describe(_ token: Token) -> String {
        switch token.kind {
        case .name, .integer, .float, .duration:
            let spelling = text(token)
            return "`\(spelling.count > 24 ? spelling.prefix(24) + "…" : spelling)`"
        default:
            return token.kind.displayName
        }
    }

    /// Skips to where a statement can start again: a statement keyword, or a `}` that closes
    /// the block being read, outside any bracket. Brackets the failed statement left open
    /// (`insideBrackets`, innermost last) and brackets opened while skipping are matched
    /// first, each by its own closer, so the `}` of a map does not end the recovery early and
    /// a `}` never closes a `(`. Outside brackets, the first token of a later line is also a
    /// place to try again, so a statement that starts with a misspelt keyword is reported.
    mutating func synchronize(insideBrackets: [TokenKind]) {
        var open = insideBrackets
        var skipped = 0
        while current.kind != .endOfFile {
            if open.isEmpty, skipped > 0, startsLine(index) { return }
            switch current.kind {
            case .keyword(let keyword) where open.isEmpty && Self.statementKeywords.contains(keyword):
                return
            case .leftBrace: open.append(.rightBrace)
            case .leftParen: open.append(.rightParen)
            case .leftBracket: open.append(.rightBracket)
            case .rightBrace, .rightParen, .rightBracket:
                if let match = open.lastIndex(of: current.kind) {
                    open.removeSubrange(match...)
                } else if current.kind == .rightBrace {
                    return
                }
            default:
                break
            }
            advance()
            skipped += 1
        }
    }

    /// Whether a line break lies between the previous token and the token at `position`.
    private func startsLine(_ position: Int) -> Bool {
        guard position > 0 else { return true }
        let gap = file.bytes[tokens[position - 1].range.end..<tokens[position].range.start]
        return gap.contains(UInt8(ascii: "\n"))
    }

    mutating func skip(until stop: (TokenKind) -> Bool) {
        while current.kind != .endOfFile, !stop(current.kind) { advance() }
    }

    static let statementKeywords: Set<Keyword> = [
        .task, .step, .let, .if, .repeat, .tool, .llm, .onFail, .systemModel, .evaluation,
        .invariant, .allow, .budget, .secret, .metric, .objective,
    ]
}
