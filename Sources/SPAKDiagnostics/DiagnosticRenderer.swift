/// Renders diagnostics as text for a terminal:
///
///     examples/hello.spak:3:19: error: cannot find `verfy` in this task [E301]
///         3 |   invariant ok: verfy.ok
///           |                 ^~~~~
///         = fix-it: replace `verfy` with `verify`
///
/// The first line is always `FILE:LINE:COLUMN: SEVERITY: MESSAGE [ID]` with 1-based line and
/// column, so editors and `grep` can read it.
public struct DiagnosticRenderer: Sendable {
    /// Lines longer than this are shown as a window around the column.
    public var maxExcerptWidth = 160

    /// Creates a renderer.
    public init() {}

    /// The full text of one diagnostic, ending with a newline.
    public func render(_ diagnostic: Diagnostic) -> String {
        let file = diagnostic.file
        let location = diagnostic.location
        var out = "\(file.path):\(location): \(diagnostic.severity.rawValue): \(diagnostic.message) [\(diagnostic.code.id)]\n"
        out += excerpt(file, diagnostic.range)
        for note in diagnostic.notes {
            let noteFile = note.file?.sourceFile ?? file
            if let range = note.range {
                out += "\(noteFile.path):\(noteFile.location(of: range.start)): note: \(note.message)\n"
                out += excerpt(noteFile, range)
            } else {
                out += "    = note: \(note.message)\n"
            }
        }
        for fixIt in diagnostic.fixIts {
            let old = file.text(in: fixIt.range)
            if old.isEmpty {
                out += "    = fix-it: insert `\(fixIt.replacement)`\n"
            } else if fixIt.replacement.isEmpty {
                out += "    = fix-it: remove `\(old)`\n"
            } else {
                out += "    = fix-it: replace `\(old)` with `\(fixIt.replacement)`\n"
            }
        }
        return out
    }

    /// All diagnostics, then a one-line summary when there were any.
    public func render(_ bag: DiagnosticBag) -> String {
        var out = ""
        for diagnostic in bag.sorted { out += render(diagnostic) }
        if bag.suppressedErrors > 0 {
            out += "note: \(bag.suppressedErrors) more errors not shown (the limit is \(bag.errorLimit))\n"
        }
        return out
    }

    /// The source line of `range` with a caret line under the span.
    func excerpt(_ file: SourceFile, _ range: SourceRange) -> String {
        let start = file.location(of: range.start)
        let lineRange = file.lineRange(start.line)
        let lineScalars = Array(file.text(in: lineRange).unicodeScalars)
        let endOffset = min(max(range.end, range.start), lineRange.end)
        let endColumn = endOffset > range.start ? file.location(of: endOffset).column : start.column + 1
        var first = start.column - 1
        var last = max(first + 1, endColumn - 1)
        // A window around the span for very long lines (a 10 MB line is not printed whole).
        var windowStart = 0
        var windowEnd = lineScalars.count
        if lineScalars.count > maxExcerptWidth {
            windowStart = max(0, first - maxExcerptWidth / 2)
            windowEnd = min(lineScalars.count, windowStart + maxExcerptWidth)
        }
        first = min(max(first, windowStart), windowEnd) - windowStart
        last = min(max(last, windowStart + first + 1), windowEnd + 1) - windowStart
        let shown = lineScalars[windowStart..<windowEnd]
        let lead = windowStart > 0 ? "…" : ""
        let tail = windowEnd < lineScalars.count ? "…" : ""
        var text = lead
        text.unicodeScalars.append(contentsOf: shown)
        text += tail
        var caret = String(repeating: " ", count: lead.isEmpty ? 0 : 1)
        for scalar in shown.prefix(first) { caret.unicodeScalars.append(scalar == "\t" ? "\t" : " ") }
        caret += "^" + String(repeating: "~", count: max(0, last - first - 1))
        let gutter = String(start.line)
        let pad = String(repeating: " ", count: max(gutter.count, 4))
        return "\(pad.dropLast(gutter.count))\(gutter) | \(text)\n\(pad) | \(caret)\n"
    }
}
