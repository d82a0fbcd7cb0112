import SPAKDiagnostics

/// A statement's printed text before it is laid out on lines: the printer builds one per
/// statement or header, then `Writer.emit` decides which bracketed lists break.
indirect enum PrintedDoc {
    /// Text without a line break.
    case text(String)
    /// A `"""` string: `"""`, its content lines one level deeper than the line it starts on
    /// (an empty line stays empty), and the closing `"""` at that depth.
    case multiline([String])
    /// Pieces printed one after the other.
    case concat([PrintedDoc])
    /// An argument list, list or map (or a task's parameters).
    case list(BracketedList)

    /// The width up to the first place the line ends or may break (a non-empty list's
    /// opening bracket, a `"""`), and whether there is such a place.
    var lead: (width: Int, stops: Bool) {
        switch self {
        case .text(let text):
            return (text.count, false)
        case .multiline:
            return (3, true)
        case .list(let list):
            return list.items.isEmpty ? ((list.open + list.close).count, false) : (list.open.count, true)
        case .concat(let parts):
            var width = 0
            for part in parts {
                let (partWidth, stops) = part.lead
                width += partWidth
                if stops { return (width, true) }
            }
            return (width, false)
        }
    }

    /// Whether the doc holds a `"""` string.
    var hasMultiline: Bool {
        switch self {
        case .text: false
        case .multiline: true
        case .concat(let parts): parts.contains(where: \.hasMultiline)
        case .list(let list): list.items.contains { $0.doc.hasMultiline }
        }
    }

    /// The widths of the lines the doc prints on when every list stays on one line, its
    /// `"""` strings at `depth` (the content lines of strings do not count).
    func flatWidths(depth: Int) -> LineWidths {
        switch self {
        case .text(let text):
            return LineWidths(first: text.count)
        case .multiline:
            // The opening `"""` ends a line; the closing one starts the next, indented.
            return LineWidths(first: 3, last: (depth + 1) * Writer.indentWidth + 3)
        case .concat(let parts):
            return parts.reduce(LineWidths(first: 0)) { $0.followed(by: $1.flatWidths(depth: depth)) }
        case .list(let list):
            var widths = LineWidths(first: list.open.count)
            for (index, item) in list.items.enumerated() {
                if index > 0 { widths = widths.followed(by: LineWidths(first: 2)) }
                widths = widths.followed(by: item.doc.flatWidths(depth: depth))
            }
            return widths.followed(by: LineWidths(first: list.close.count))
        }
    }
}

/// `open item, item close` on one line, or broken: `open`, each item on a line of its own one
/// level deeper followed by `,`, and `close` on a line of its own.
struct BracketedList {
    /// The opening text, ending with the bracket: `f(`, `[`, `{`, `llm.query(`.
    var open: String
    var items: [Item]
    var close: String
    /// Where the source's opening line reaches (its trailing comment follows), and where the
    /// list ends: a comment between the two is inside the list.
    var openEnd: Int
    var end: Int
    /// Whether a `"""` string inside breaks the list (a task's parameters).
    var breaksAroundMultiline = false

    /// An element and where the source has it.
    struct Item {
        var doc: PrintedDoc
        var range: SourceRange
    }
}

/// The widths of the lines a piece of text prints on, leaving out string content lines: the
/// first line's part, and when there are several lines, the last line's part (measured from
/// its start, indentation included) and the longest line in between.
struct LineWidths {
    var first: Int
    var last: Int?
    var middle = 0

    /// The widths of this text followed by `next` on the same line.
    func followed(by next: LineWidths) -> LineWidths {
        switch (last, next.last) {
        case (nil, nil):
            return LineWidths(first: first + next.first)
        case (nil, let nextLast?):
            return LineWidths(first: first + next.first, last: nextLast, middle: next.middle)
        case (let ownLast?, nil):
            return LineWidths(first: first, last: ownLast + next.first, middle: middle)
        case (let ownLast?, let nextLast?):
            return LineWidths(first: first, last: nextLast, middle: max(middle, next.middle, ownLast + next.first))
        }
    }

    /// Whether every line fits in `width` when the text starts at `column`.
    func fit(in width: Int, from column: Int) -> Bool {
        guard let last else { return column + first <= width }
        return column + first <= width && middle <= width && last <= width
    }
}
