import SPAKKernel

/// The difference between two files in `diff -u` form, with `---`/`+++` headers and
/// `@@ -a,b +c,d @@` hunks, so that `patch -p1` or `git apply` can apply it.
public enum UnifiedDiff {
    /// The diff of `old` (shown as `a/oldName`) against `new` (`b/newName`); empty when equal.
    public static func diff(old: String, new: String, oldName: String, newName: String, context: Int = 3) -> String {
        guard old != new else { return "" }
        var lines = LineDiff.lines(from: Self.body(old), to: Self.body(new))
        if lines == [.same("")] { lines = [] }
        let changed = lines.indices.filter { if case .same = lines[$0] { false } else { true } }
        guard !changed.isEmpty else { return "" }
        // Group changes whose context overlaps into hunks.
        var hunks: [ClosedRange<Int>] = []
        for index in changed {
            let range = max(0, index - context)...min(lines.count - 1, index + context)
            if let last = hunks.last, range.lowerBound <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                hunks.append(range)
            }
        }
        var out = "--- a/\(oldName)\n+++ b/\(newName)\n"
        // Line numbers of each diff line in the old and new files (1-based, before the line).
        var oldLine = 1, newLine = 1
        var oldStarts: [Int] = [], newStarts: [Int] = []
        for line in lines {
            oldStarts.append(oldLine)
            newStarts.append(newLine)
            switch line {
            case .same: oldLine += 1; newLine += 1
            case .removed: oldLine += 1
            case .added: newLine += 1
            }
        }
        for hunk in hunks {
            let slice = lines[hunk]
            let oldCount = slice.filter { if case .added = $0 { false } else { true } }.count
            let newCount = slice.filter { if case .removed = $0 { false } else { true } }.count
            let oldStart = oldCount == 0 ? oldStarts[hunk.lowerBound] - 1 : oldStarts[hunk.lowerBound]
            let newStart = newCount == 0 ? newStarts[hunk.lowerBound] - 1 : newStarts[hunk.lowerBound]
            out += "@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@\n"
            for line in slice {
                switch line {
                case .same(let text): out += " \(text)\n"
                case .removed(let text): out += "-\(text)\n"
                case .added(let text): out += "+\(text)\n"
                }
            }
        }
        return out
    }

    /// The text without its final newline, so that lines split cleanly.
    private static func body(_ text: String) -> String {
        text.hasSuffix("\n") ? String(text.dropLast()) : text
    }
}
