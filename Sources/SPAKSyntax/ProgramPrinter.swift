import SPAKDiagnostics

/// Prints a program in SPAK's canonical layout: two-space indentation, one statement per
/// line, single spaces around operators, the fewest parentheses that keep the meaning, and
/// argument lists, lists and maps broken one element per line when a line would be longer
/// than 100 characters.
///
/// With the source file it also puts back every comment (a comment after code on a line
/// stays there; a list that holds a comment breaks, and the comment stays with its element;
/// others go before the statement they precede, or that holds them) and keeps single blank
/// lines between statements and between a broken list's elements. Printing is idempotent,
/// and the printed program parses to the same tree. `spak fmt` and the improver's rewrites
/// both print through here.
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
    /// Lines longer than this are broken where the layout allows: a task's parameters,
    /// argument lists, lists and maps.
    static let lineWidth = 100
    /// Spaces per level of indentation.
    static let indentWidth = 2

    let source: SourceFile?
    let comments: [Comment]
    var output = ""
    var nextComment = 0
    var lastSourceEnd: Int?
    /// Whether the last line written ends with a `{` or a list's opening bracket (a blank
    /// line is not kept after it).
    var lastLineOpens = false

    init(source: SourceFile?, comments: [Comment]) {
        self.source = source
        self.comments = comments
    }

    // MARK: Lines, comments, blank lines

    /// Writes a line. A comment after `sourceEnd` with only spaces, tabs and `filler` bytes
    /// between stays at the line's end.
    mutating func line(
        _ text: String, indent: Int, sourceStart: Int?, sourceEnd: Int?, filler: [UInt8] = [], opens: Bool = false
    ) {
        if let sourceStart { keepBlankLine(before: sourceStart) }
        output += String(repeating: " ", count: indent * Self.indentWidth) + text
        if let sourceEnd { appendTrailingComment(after: sourceEnd, filler: filler) }
        output += "\n"
        if let sourceEnd { lastSourceEnd = sourceEnd }
        lastLineOpens = opens
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

    private mutating func appendTrailingComment(after end: Int, filler: [UInt8]) {
        guard let source, nextComment < comments.count else { return }
        let comment = comments[nextComment]
        guard comment.range.start >= end, source.bytes[end..<comment.range.start].allSatisfy({ byte in
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || filler.contains(byte)
        }) else { return }
        output += " " + comment.text
        nextComment += 1
    }

    /// One blank line where the source had at least one, except right after a `{` or a
    /// list's opening bracket.
    private mutating func keepBlankLine(before start: Int) {
        guard let source, let last = lastSourceEnd, last < start, !lastLineOpens else { return }
        var newlines = 0
        for byte in source.bytes[last..<start] where byte == UInt8(ascii: "\n") { newlines += 1 }
        if newlines >= 2 { output += "\n" }
    }

    // MARK: Declarations

    mutating func task(_ task: TaskDecl) {
        let parameters = task.parameters.map { parameter in
            let declared = PrintedDoc.text("\(parameter.name.name): \(parameter.type.name)")
            let printed = parameter.defaultValue.map { PrintedDoc.concat([declared, .text(" = "), doc($0)]) } ?? declared
            return BracketedList.Item(doc: printed, range: parameter.range)
        }
        // A default holding a line break puts each parameter on a line of its own, too.
        let end = closingParenthesisEnd(after: task.parameters.last?.range.end ?? task.name.range.end, fallback: task.open)
        let list = BracketedList(open: "\(task.name.name)(", items: parameters, close: ")",
                                 openEnd: task.name.range.end, end: end, breaksAroundMultiline: true)
        emit(.concat([.text("task "), .list(list), .text(" {")]), indent: 0, start: task.range.start,
             end: task.open + 1, opensBlock: true)
        for item in task.items {
            switch item {
            case .systemModel(let model):
                braced(.text("system_model"), start: model.range.start, open: model.open, close: model.close, indent: 1) {
                    for item in model.items { $0.modelItem(item, indent: 2) }
                }
            case .evaluation(let evaluation):
                braced(.text("evaluation"), start: evaluation.range.start, open: evaluation.open, close: evaluation.close,
                       indent: 1) {
                    for metric in evaluation.metrics {
                        $0.simple(.concat([.text("metric \(metric.name.name) = "), $0.doc(metric.value)]),
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
                            $0.simple(.text(text), range: objective.range, indent: 2)
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
            simple(.concat([.text("invariant \(name.name): "), doc(condition)]), range: range, indent: indent)
        case .allow(let effect, let prefix, let range):
            simple(.text("allow tool.\(effect.name) \(PrintedString.quoted(prefix.value))"), range: range, indent: indent)
        case .budget(let target, let limit, let range):
            simple(.concat([.text("budget \(target.spelling) <= "), doc(limit)]), range: range, indent: indent)
        case .secret(let name, let range):
            simple(.text("secret \(name.name)"), range: range, indent: indent)
        }
    }

    // MARK: Statements

    mutating func statement(_ statement: Statement, indent: Int) {
        switch statement {
        case .step(let name, let body, let range):
            block(.text("step \(name.name)"), start: range.start, body, indent: indent)
        case .let(let name, let value, let range):
            simple(.concat([.text("let \(name.name) = "), doc(value)]), range: range, indent: indent)
        case .if(let statement):
            ifStatement(statement, prefix: "if", indent: indent)
        case .repeat(let loop):
            var header: [PrintedDoc] = [.text("repeat \(loop.variable.name) in ")]
            switch loop.iteration {
            case .range(let from, let to):
                header += [doc(from), .text("..."), doc(to)]
            case .each(let list):
                header.append(doc(list))
            }
            if let until = loop.until { header += [.text(" until "), doc(until)] }
            block(.concat(header), start: loop.range.start, loop.body, indent: indent)
        case .effect(let effect):
            // The statement ends at the argument list's `)` unless a binding follows it.
            let end = effect.binding == nil ? effect.range.end
                : closingParenthesisEnd(after: effect.arguments.last?.range.end ?? effect.name.range.end,
                                        fallback: effect.range.end)
            let arguments = argumentList("\(effect.qualifiedName)(", effect.arguments, openEnd: effect.name.range.end, end: end)
            var text = ""
            if let binding = effect.binding {
                text += " -> \(binding.name.name)"
                if let format = binding.format { text += " as \(format.name)" }
            }
            simple(.concat([.list(arguments), .text(text)]), range: effect.range, indent: indent)
        case .onFail(let policy, let range):
            switch policy {
            case .fail:
                simple(.text("on_fail fail"), range: range, indent: indent)
            case .retry(let step, let max):
                simple(.concat([.text("on_fail retry \(step.name) max "), doc(max)]), range: range, indent: indent)
            }
        }
    }

    /// `if …`, then `} else if …` or `} else {`, sharing one closing brace per branch.
    private mutating func ifStatement(_ statement: IfStatement, prefix: String, indent: Int) {
        let header = PrintedDoc.concat([.text("\(prefix) "), doc(statement.condition)])
        let afterBrace = prefix.hasPrefix("}")
        switch statement.otherwise {
        case nil:
            block(header, start: statement.range.start, statement.then, indent: indent, afterBrace: afterBrace)
        case .elseIf(let nested):
            block(header, start: statement.range.start, statement.then, indent: indent, afterBrace: afterBrace,
                  closeWith: nil)
            ifStatement(nested, prefix: "} else if", indent: indent)
        case .block(let otherwise):
            block(header, start: statement.range.start, statement.then, indent: indent, afterBrace: afterBrace,
                  closeWith: nil)
            block(.text("} else"), start: nil, otherwise, indent: indent, afterBrace: true)
        }
    }

    /// `HEADER {`, the statements, `}`; `HEADER {}` when nothing is inside. With
    /// `closeWith: nil` the closing brace is left for the `} else` line that follows;
    /// `afterBrace` says the header starts with the previous branch's `}`.
    private mutating func block(
        _ header: PrintedDoc, start: Int?, _ block: Block, indent: Int, afterBrace: Bool = false,
        closeWith closer: String? = "}"
    ) {
        braced(header, start: start, open: block.open, close: block.close, indent: indent, afterBrace: afterBrace,
               closeWith: closer) {
            for statement in block.statements { $0.statement(statement, indent: indent + 1) }
        }
    }

    private mutating func braced(
        _ header: PrintedDoc, start: Int?, open: Int, close: Int, indent: Int, afterBrace: Bool = false,
        closeWith closer: String? = "}", body: (inout Writer) -> Void
    ) {
        // Comments before `} else` sit inside the block that `}` closes: print them there,
        // where a second formatting pass also puts them.
        let leadIndent = afterBrace ? indent + 1 : indent
        if let start { flushComments(before: start, indent: leadIndent) }
        let isEmpty = !hasContent(between: open, and: close)
        if isEmpty, closer != nil {
            emit(.concat([header, .text(" {}")]), indent: indent, start: start, end: close + 1, commentIndent: leadIndent)
            return
        }
        emit(.concat([header, .text(" {")]), indent: indent, start: start, end: open + 1, commentIndent: leadIndent,
             opensBlock: true)
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

    /// A statement: comments inside it go before it, except those inside a broken list.
    private mutating func simple(_ doc: PrintedDoc, range: SourceRange, indent: Int) {
        emit(doc, indent: indent, start: range.start, end: range.end)
    }
}
