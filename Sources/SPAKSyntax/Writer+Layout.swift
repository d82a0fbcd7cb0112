/// Laying a statement's doc out on lines.
///
/// A list stays on one line when it holds no comment and the line, up to the next place it
/// may break, fits in `Writer.lineWidth`; otherwise it breaks: the opening bracket ends its
/// line, each element goes on a line of its own one level deeper, followed by `,`, and the
/// closing bracket starts a line at the depth of the line the list started on. Lists are
/// decided outermost first, left to right, so a broken list's elements are decided on their
/// own lines.
extension Writer {
    /// Writes a statement or a block's header laid out on lines, with the comments inside
    /// it: those inside a broken list stay with their element, the others go before the
    /// first line. `end` is where the source's last line ends (its trailing comment follows).
    mutating func emit(
        _ doc: PrintedDoc, indent: Int, start: Int?, end: Int, commentIndent: Int? = nil, opensBlock: Bool = false
    ) {
        var builder = LineBuilder(indent: indent, commentIndent: commentIndent ?? indent, sourceStart: start)
        builder.render(doc, trailing: 0, flat: false, into: &self)
        builder.endLine(sourceEnd: end, filler: [], opens: opensBlock, into: &self)
    }

    /// Where the `)` closing a list ends, found after `offset` (the end of its last element)
    /// past spaces, line breaks, a comma and comments; `fallback` when the source is not there
    /// (the tree does not keep where every `)` is).
    func closingParenthesisEnd(after offset: Int, fallback: Int) -> Int {
        guard let bytes = source?.bytes else { return fallback }
        var index = offset
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "/"):
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: ")"):
                return index + 1
            default:
                return fallback
            }
        }
        return fallback
    }

    /// Whether a comment starts between a list's opening and its end.
    func hasComment(in list: BracketedList) -> Bool {
        var low = 0
        var high = comments.count
        while low < high {
            let middle = (low + high) / 2
            if comments[middle].range.start < list.openEnd { low = middle + 1 } else { high = middle }
        }
        return low < comments.count && comments[low].range.start < list.end
    }
}

/// The line being built while a doc is laid out, and what its comments need.
private struct LineBuilder {
    var text = ""
    /// The line's depth, which its elements and `"""` strings are one level deeper than.
    var indent: Int
    /// Where comments that come before the line go.
    var commentIndent: Int
    /// Where the line starts in the source, when a blank line before it is kept.
    var sourceStart: Int?

    /// The width of the line so far, indentation included (after a `"""` string, of its
    /// closing line).
    var column: Int {
        guard let newline = text.lastIndex(of: "\n") else { return indent * Writer.indentWidth + text.count }
        return text[text.index(after: newline)...].count
    }

    /// Appends `doc`; `trailing` is the width of what follows it up to the next place the
    /// line may break. With `flat`, every list stays on one line.
    mutating func render(_ doc: PrintedDoc, trailing: Int, flat: Bool, into writer: inout Writer) {
        switch doc {
        case .text(let string):
            text += string
        case .multiline(let lines):
            let prefix = String(repeating: " ", count: (indent + 1) * Writer.indentWidth)
            text += "\"\"\"\n" + lines.map { $0.isEmpty ? "\n" : prefix + $0 + "\n" }.joined() + prefix + "\"\"\""
        case .concat(let parts):
            // What follows each part on its line, up to the next place it may break.
            var trailings = parts.map { _ in 0 }
            var following = trailing
            for index in parts.indices.reversed() {
                trailings[index] = following
                let (width, stops) = parts[index].lead
                following = stops ? width : width + following
            }
            for (part, partTrailing) in zip(parts, trailings) {
                render(part, trailing: partTrailing, flat: flat, into: &writer)
            }
        case .list(let list):
            if flat || list.items.isEmpty || staysOnOneLine(list, trailing: trailing, writer: writer) {
                renderOnOneLine(list, into: &writer)
            } else {
                renderBroken(list, into: &writer)
            }
        }
    }

    private func staysOnOneLine(_ list: BracketedList, trailing: Int, writer: Writer) -> Bool {
        if writer.hasComment(in: list) { return false }
        let doc = PrintedDoc.list(list)
        if list.breaksAroundMultiline, doc.hasMultiline { return false }
        return doc.flatWidths(depth: indent).followed(by: LineWidths(first: trailing))
            .fit(in: Writer.lineWidth, from: column)
    }

    private mutating func renderOnOneLine(_ list: BracketedList, into writer: inout Writer) {
        text += list.open
        for (index, item) in list.items.enumerated() {
            if index > 0 { text += ", " }
            render(item.doc, trailing: 0, flat: true, into: &writer)
        }
        text += list.close
    }

    private mutating func renderBroken(_ list: BracketedList, into writer: inout Writer) {
        let depth = indent
        text += list.open
        endLine(sourceEnd: list.openEnd, filler: Self.openingFiller, opens: true, into: &writer)
        for item in list.items {
            startLine(indent: depth + 1, commentIndent: depth + 1, sourceStart: item.range.start)
            render(item.doc, trailing: 1, flat: false, into: &writer)
            text += ","
            endLine(sourceEnd: item.range.end, filler: Self.elementFiller, opens: false, into: &writer)
        }
        // Comments before the closing line are inside the list (a second pass finds them there).
        startLine(indent: depth, commentIndent: depth + 1, sourceStart: nil)
        text += list.close
    }

    private mutating func startLine(indent: Int, commentIndent: Int, sourceStart: Int?) {
        self.indent = indent
        self.commentIndent = commentIndent
        self.sourceStart = sourceStart
    }

    /// Writes the line, after the comments that come before `sourceEnd`; a comment after
    /// `sourceEnd` with only spaces, tabs and `filler` between stays at its end.
    mutating func endLine(sourceEnd: Int, filler: [UInt8], opens: Bool, into writer: inout Writer) {
        writer.flushComments(before: sourceEnd, indent: commentIndent)
        writer.line(text, indent: indent, sourceStart: sourceStart, sourceEnd: sourceEnd, filler: filler, opens: opens)
        text = ""
        sourceStart = nil
    }

    /// What may stand between a list's opening line and a comment at its end: the bracket
    /// (after a parenthesis the printer drops).
    private static let openingFiller: [UInt8] = Array("([{".utf8)
    /// What may stand between an element and a comment at the end of its line.
    private static let elementFiller: [UInt8] = [UInt8(ascii: ",")]
}
