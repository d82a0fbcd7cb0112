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
            let count = bag.suppressedErrors
            out += "note: \(count) more error\(count == 1 ? "" : "s") not shown (the limit is \(bag.errorLimit))\n"
        }
        return out
    }

    /// The source line of `range` with a caret line under the span. Only a window of the
    /// line around the span is read, so a 10 MB line costs no more than a short one.
    func excerpt(_ file: SourceFile, _ range: SourceRange) -> String {
        let bytes = file.bytes
        let line = file.location(of: range.start).line
        let lineRange = file.lineRange(line)
        let caretStart = min(max(range.start, lineRange.start), lineRange.end)
        let caretEnd = min(max(range.end, caretStart), lineRange.end)
        func isScalarStart(_ index: Int) -> Bool { bytes[index] & 0xC0 != 0x80 }
        // Back from the caret by up to half the width, then forward by up to the width.
        var windowStart = caretStart
        var scalarsBack = 0
        while windowStart > lineRange.start, scalarsBack < maxExcerptWidth / 2 {
            windowStart -= 1
            if isScalarStart(windowStart) { scalarsBack += 1 }
        }
        var windowEnd = windowStart
        var scalarsShown = 0
        while windowEnd < lineRange.end, scalarsShown < maxExcerptWidth {
            windowEnd += 1
            while windowEnd < lineRange.end, !isScalarStart(windowEnd) { windowEnd += 1 }
            scalarsShown += 1
        }
        let lead = windowStart > lineRange.start ? "…" : ""
        let tail = windowEnd < lineRange.end ? "…" : ""
        // Control characters would drive the terminal; each shows as one `�` (columns hold).
        let shown = file.text(in: SourceRange(start: windowStart, end: windowEnd)).unicodeScalars.map { scalar in
            (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F ? "\u{FFFD}" : Character(scalar)
        }
        let text = lead + String(shown) + tail
        var caret = lead.isEmpty ? "" : " "
        for scalar in file.text(in: SourceRange(start: windowStart, end: caretStart)).unicodeScalars {
            caret += scalar == "\t" ? "\t" : " "
        }
        let underlined = file.text(in: SourceRange(start: caretStart, end: min(caretEnd, windowEnd))).unicodeScalars.count
        caret += "^" + String(repeating: "~", count: max(0, underlined - 1))
        let gutter = String(line)
        let pad = String(repeating: " ", count: max(gutter.count, 4))
        return "\(pad.dropLast(gutter.count))\(gutter) | \(text)\n\(pad) | \(caret)\n"
    }
}
