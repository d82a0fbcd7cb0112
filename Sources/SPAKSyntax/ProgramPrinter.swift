import SPAKDiagnostics

/// Prints a program in SPAK's canonical layout: two-space indentation, one statement per
/// line, single spaces around operators, the fewest parentheses that keep the meaning.
///
/// With the source file it also puts back every comment (a comment after code on a line
/// stays there; others go before the statement they precede, or that holds them) and keeps
/// single blank lines between statements. Printing is idempotent, and the printed program
/// parses to the same tree. `spak fmt` and the improver's rewrites both print through here.
public struct ProgramPrinter {
    private let source: SourceFile?
    private let comments: [Comment]

    /// Creates a printer; pass the source to keep comments and blank lines.
    public init(program: Program, source: SourceFile?) {
        self.source = source
        self.comments = source == nil ? [] : program.comments
    }

    /// The program's canonical text, ending with a newline.
    public func print(_ program: Program) -> String {
        var writer = Writer(source: source, comments: comments)
        if let task = program.task { writer.task(task) }
        writer.flushComments(before: Int.max, indent: 0)
        return writer.output
    }
}

struct Writer {
    /// Lines longer than this are broken where the layout allows (task parameters).
    static let lineWidth = 100

    let source: SourceFile?
    let comments: [Comment]
    var output = ""
    var nextComment = 0
    var lastSourceEnd: Int?

    init(source: SourceFile?, comments: [Comment]) {
        self.source = source
        self.comments = comments
    }

    // MARK: Lines, comments, blank lines

    mutating func line(_ text: String, indent: Int, sourceStart: Int?, sourceEnd: Int?) {
        if let sourceStart { keepBlankLine(before: sourceStart) }
        output += String(repeating: "  ", count: indent) + text
        if let sourceEnd { appendTrailingComment(after: sourceEnd) }
        output += "\n"
        if let sourceEnd { lastSourceEnd = sourceEnd }
    }

    /// Writes, on lines of their own, the comments that start before `offset`.
    mutating func flushComments(before offset: Int, indent: Int) {
        while nextComment < comments.count, comments[nextComment].range.start < offset {
            let comment = comments[nextComment]
            nextComment += 1
            line(comment.text, indent: indent, sourceStart: comment.range.start, sourceEnd: nil)
            lastSourceEnd = comment.range.end
        }
    }

    private mutating func appendTrailingComment(after end: Int) {
        guard let source, nextComment < comments.count else { return }
        let comment = comments[nextComment]
        // Only a comment with nothing but spaces between it and the code it follows.
        guard comment.range.start >= end,
              source.bytes[end..<comment.range.start].allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
        else { return }
        output += " " + comment.text
        nextComment += 1
    }

    /// One blank line where the source had at least one, except right after a `{`.
    private mutating func keepBlankLine(before start: Int) {
        guard let source, let last = lastSourceEnd, last < start, !output.hasSuffix("{\n") else { return }
        var newlines = 0
        for byte in source.bytes[last..<start] where byte == UInt8(ascii: "\n") { newlines += 1 }
        if newlines >= 2 { output += "\n" }
    }

    /// Marks the start of a block so a blank line is not kept right after its `{`.
    private mutating func enterBlock(at open: Int) { lastSourceEnd = open + 1 }

    // MARK: Declarations

    mutating func task(_ task: TaskDecl) {
        flushComments(before: task.open, indent: 0)
        let parameters = task.parameters.map { parameter in
            var text = "\(parameter.name.name): \(parameter.type.name)"
            if let value = parameter.defaultValue { text += " = " + expression(value, indent: 1) }
            return text
        }
        var header = "task \(task.name.name)(\(parameters.joined(separator: ", "))) {"
        // A header too long for one line puts each parameter on a line of its own.
        if header.count > Self.lineWidth || header.contains("\n") {
            header = "task \(task.name.name)(\n" + parameters.map { "  \($0),\n" }.joined() + ") {"
        }
        line(header, indent: 0, sourceStart: task.range.start, sourceEnd: task.open + 1)
        enterBlock(at: task.open)
        for item in task.items {
            switch item {
            case .systemModel(let model):
                braced("system_model", start: model.range.start, open: model.open, close: model.close, indent: 1) {
                    for item in model.items { $0.modelItem(item, indent: 2) }
                }
            case .evaluation(let evaluation):
                braced("evaluation", start: evaluation.range.start, open: evaluation.open, close: evaluation.close, indent: 1) {
                    for metric in evaluation.metrics {
                        $0.simple("metric \(metric.name.name) = \($0.expression(metric.value, indent: 2))",
                                  range: metric.range, indent: 2)
                    }
                    // Objectives follow the metrics. One written before a metric moves down
                    // alone: comments keep their source order (the tree holds them in that
                    // order), so its comments stay before that metric, and no blank line is
                    // kept for it.
                    let lastMetric = evaluation.metrics.last?.range.start ?? evaluation.open
                    for objective in evaluation.objectives {
                        let text = "objective \(objective.direction.rawValue) \(objective.metric.name)"
                        if objective.range.start > lastMetric {
                            $0.simple(text, range: objective.range, indent: 2)
                        } else {
                            $0.line(text, indent: 2, sourceStart: nil, sourceEnd: nil)
                        }
                    }
                }
            case .statement(let statement):
                self.statement(statement, indent: 1)
            }
        }
        flushComments(before: task.close, indent: 1)
        line("}", indent: 0, sourceStart: nil, sourceEnd: task.close + 1)
    }

    mutating func modelItem(_ item: ModelItem, indent: Int) {
        switch item {
        case .invariant(let name, let condition, let range):
            simple("invariant \(name.name): \(expression(condition, indent: indent))", range: range, indent: indent)
        case .allow(let effect, let prefix, let range):
            simple("allow tool.\(effect.name) \(PrintedString.quoted(prefix.value))", range: range, indent: indent)
        case .budget(let target, let limit, let range):
            simple("budget \(target.spelling) <= \(expression(limit, indent: indent))", range: range, indent: indent)
        case .secret(let name, let range):
            simple("secret \(name.name)", range: range, indent: indent)
        }
    }

    // MARK: Statements

    mutating func statement(_ statement: Statement, indent: Int) {
        switch statement {
        case .step(let name, let body, let range):
            block("step \(name.name)", start: range.start, body, indent: indent)
        case .let(let name, let value, let range):
            simple("let \(name.name) = \(expression(value, indent: indent))", range: range, indent: indent)
        case .if(let statement):
            ifStatement(statement, prefix: "if", indent: indent)
        case .repeat(let loop):
            var header = "repeat \(loop.variable.name) in "
            switch loop.iteration {
            case .range(let from, let to):
                header += expression(from, indent: indent) + "..." + expression(to, indent: indent)
            case .each(let list):
                header += expression(list, indent: indent)
            }
            if let until = loop.until { header += " until " + expression(until, indent: indent) }
            block(header, start: loop.range.start, loop.body, indent: indent)
        case .effect(let effect):
            var text = "\(effect.qualifiedName)(\(arguments(effect.arguments, indent: indent)))"
            if let binding = effect.binding {
                text += " -> \(binding.name.name)"
                if let format = binding.format { text += " as \(format.name)" }
            }
            simple(text, range: effect.range, indent: indent)
        case .onFail(let policy, let range):
            switch policy {
            case .fail:
                simple("on_fail fail", range: range, indent: indent)
            case .retry(let step, let max):
                simple("on_fail retry \(step.name) max \(expression(max, indent: indent))", range: range, indent: indent)
            }
        }
    }

    /// `if …`, then `} else if …` or `} else {`, sharing one closing brace per branch.
    private mutating func ifStatement(_ statement: IfStatement, prefix: String, indent: Int) {
        let header = "\(prefix) \(expression(statement.condition, indent: indent))"
        switch statement.otherwise {
        case nil:
            block(header, start: statement.range.start, statement.then, indent: indent)
        case .elseIf(let nested):
            block(header, start: statement.range.start, statement.then, indent: indent, closeWith: nil)
            ifStatement(nested, prefix: "} else if", indent: indent)
        case .block(let otherwise):
            block(header, start: statement.range.start, statement.then, indent: indent, closeWith: nil)
            block("} else", start: nil, otherwise, indent: indent)
        }
    }

    /// `HEADER {`, the statements, `}`; `HEADER {}` when nothing is inside. With
    /// `closeWith: nil` the closing brace is left for the `} else` line that follows.
    private mutating func block(_ header: String, start: Int?, _ block: Block, indent: Int, closeWith closer: String? = "}") {
        braced(header, start: start, open: block.open, close: block.close, indent: indent, closeWith: closer) {
            for statement in block.statements { $0.statement(statement, indent: indent + 1) }
        }
    }

    private mutating func braced(
        _ header: String, start: Int?, open: Int, close: Int, indent: Int, closeWith closer: String? = "}",
        body: (inout Writer) -> Void
    ) {
        // Comments before `} else` sit inside the block that `}` closes: print them there,
        // where a second formatting pass also puts them.
        let leadIndent = header.hasPrefix("}") ? indent + 1 : indent
        if let start { flushComments(before: start, indent: leadIndent) }
        flushComments(before: open, indent: leadIndent)
        let isEmpty = !hasContent(between: open, and: close)
        if isEmpty, closer != nil {
            line(header + " {}", indent: indent, sourceStart: start, sourceEnd: close + 1)
            return
        }
        line(header + " {", indent: indent, sourceStart: start, sourceEnd: open + 1)
        enterBlock(at: open)
        body(&self)
        flushComments(before: close, indent: indent + 1)
        if let closer { line(closer, indent: indent, sourceStart: nil, sourceEnd: close + 1) }
    }

    /// Whether a block's braces hold statements or comments (an empty block prints as `{}`).
    private func hasContent(between open: Int, and close: Int) -> Bool {
        guard let source else { return close > open + 1 }
        return source.bytes[(open + 1)..<max(open + 1, close)].contains { byte in
            byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\n") && byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\r")
        }
    }

    /// A one-line statement: comments inside it are moved before it.
    private mutating func simple(_ text: String, range: SourceRange, indent: Int) {
        flushComments(before: range.end, indent: indent)
        line(text, indent: indent, sourceStart: range.start, sourceEnd: range.end)
    }

    // MARK: Expressions

    func arguments(_ arguments: [Argument], indent: Int) -> String {
        arguments.map { argument in
            (argument.label.map { "\($0.name): " } ?? "") + expression(argument.value, indent: indent)
        }.joined(separator: ", ")
    }

    func expression(_ expr: Expr, indent: Int) -> String {
        switch expr.kind {
        case .integer(let spelling), .float(let spelling), .duration(let spelling): return spelling
        case .string(let value): return Self.stringLiteral(value, indent: indent)
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .name(let name): return name
        case .missing: return "<missing>"
        case .list(let items):
            return "[" + items.map { expression($0, indent: indent) }.joined(separator: ", ") + "]"
        case .map(let entries):
            return "{" + entries.map { entry in
                let key = Self.isPlainName(entry.key.value) ? entry.key.value : PrintedString.quoted(entry.key.value)
                return "\(key): \(expression(entry.value, indent: indent))"
            }.joined(separator: ", ") + "}"
        case .field(let base, let field):
            return postfixBase(base, indent: indent) + "." + field.name
        case .index(let base, let index):
            return postfixBase(base, indent: indent) + "[" + expression(index, indent: indent) + "]"
        case .call(let function, let arguments):
            return "\(function.name)(\(self.arguments(arguments, indent: indent)))"
        case .unary(.negate, let operand):
            let inner = expression(operand, indent: indent)
            return Self.precedence(operand) >= 7 && !inner.hasPrefix("-") ? "-" + inner : "-(\(inner))"
        case .unary(.not, let operand):
            let inner = expression(operand, indent: indent)
            return Self.precedence(operand) >= 3 ? "not " + inner : "not (\(inner))"
        case .binary(let op, let lhs, let rhs):
            let strength = op.precedence
            // Left-associative; comparisons do not chain and `not` cannot be an operand of
            // a comparison or of arithmetic, so those need parentheses.
            let lhsNeeds = Self.precedence(lhs) < strength || (op.isComparison && Self.precedence(lhs) == 4)
                || (strength >= 4 && Self.precedence(lhs) == 3)
            let rhsNeeds = Self.precedence(rhs) <= strength || (strength >= 4 && Self.precedence(rhs) == 3)
            let left = expression(lhs, indent: indent)
            let right = expression(rhs, indent: indent)
            return (lhsNeeds ? "(\(left))" : left) + " \(op.rawValue) " + (rhsNeeds ? "(\(right))" : right)
        }
    }

    private func postfixBase(_ base: Expr, indent: Int) -> String {
        let text = expression(base, indent: indent)
        return Self.precedence(base) >= 8 ? text : "(\(text))"
    }

    /// How tightly an expression binds: primaries and postfix 8, unary minus 7, then the
    /// operators' own precedence; `not` is 3.
    static func precedence(_ expr: Expr) -> Int {
        switch expr.kind {
        case .binary(let op, _, _): op.precedence
        case .unary(.not, _): 3
        case .unary(.negate, _): 7
        default: 8
        }
    }

    // MARK: Strings

    /// A `"""` block, indented one level deeper than its statement, when that form holds the
    /// value exactly and safely (`PrintedString.blockLines`); otherwise the value quoted.
    static func stringLiteral(_ value: String, indent: Int) -> String {
        guard let lines = PrintedString.blockLines(value) else { return PrintedString.quoted(value) }
        let prefix = String(repeating: "  ", count: indent + 1)
        return "\"\"\"\n" + lines.map { $0.isEmpty ? "\n" : prefix + $0 + "\n" }.joined() + prefix + "\"\"\""
    }

    static func isPlainName(_ text: String) -> Bool {
        guard let first = text.utf8.first, Ascii.isIdentifierStart(first),
              text.utf8.allSatisfy(Ascii.isIdentifierContinue) else { return false }
        return Keyword(rawValue: text) == nil
    }
}
