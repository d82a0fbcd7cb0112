/// A line-by-line difference between two texts, shown the way `diff -u` shows it: lines only
/// in the old text start with `-`, lines only in the new with `+`, and a few unchanged lines
/// around each change start with a space.
public enum LineDiff {
    /// One line of the difference.
    public enum Line: Sendable, Equatable {
        case same(String)
        case removed(String)
        case added(String)
    }

    /// The lines of `old` and `new`, aligned on their longest common subsequence. Common first
    /// and last lines are matched directly; when what remains is too large to align (more than
    /// `limit` line pairs), it is shown as removed, then added.
    public static func lines(from old: String, to new: String, limit: Int = 4_000_000) -> [Line] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] {
            suffix += 1
        }
        let middleA = Array(a[prefix..<(a.count - suffix)])
        let middleB = Array(b[prefix..<(b.count - suffix)])
        var result = a[..<prefix].map(Line.same)
        if middleA.count * middleB.count > limit {
            result += middleA.map(Line.removed) + middleB.map(Line.added)
        } else {
            result += aligned(middleA, middleB)
        }
        result += a[(a.count - suffix)...].map(Line.same)
        return result
    }

    /// The difference as text: changed lines with `context` unchanged lines around them, and
    /// `…` where unchanged lines were left out. Empty when the texts are equal.
    public static func unified(from old: String, to new: String, context: Int = 2) -> String {
        let lines = lines(from: old, to: new)
        let changed = lines.indices.filter { if case .same = lines[$0] { false } else { true } }
        guard !changed.isEmpty else { return "" }
        var shown = Set<Int>()
        for index in changed { shown.formUnion(max(0, index - context)...min(lines.count - 1, index + context)) }
        var out = ""
        var previous = -1
        for index in shown.sorted() {
            if index > previous + 1 { out += "  …\n" }
            switch lines[index] {
            case .same(let text): out += "  " + text + "\n"
            case .removed(let text): out += "- " + text + "\n"
            case .added(let text): out += "+ " + text + "\n"
            }
            previous = index
        }
        if previous < lines.count - 1 { out += "  …\n" }
        return out
    }

    /// The first line (1-based) of `old` that `new` changes, if any.
    public static func firstChangedLine(from old: String, to new: String) -> Int? {
        var line = 1
        for entry in lines(from: old, to: new) {
            switch entry {
            case .same: line += 1
            case .removed, .added: return line
            }
        }
        return nil
    }

    /// Longest-common-subsequence alignment of two line lists.
    private static func aligned(_ a: [String], _ b: [String]) -> [Line] {
        guard !a.isEmpty else { return b.map(Line.added) }
        guard !b.isEmpty else { return a.map(Line.removed) }
        // common[i][j]: the length of the longest common subsequence of a[i...] and b[j...].
        var common = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                common[i][j] = a[i] == b[j] ? common[i + 1][j + 1] + 1 : max(common[i + 1][j], common[i][j + 1])
            }
        }
        var result: [Line] = []
        var i = 0
        var j = 0
        while i < a.count, j < b.count {
            if a[i] == b[j] {
                result.append(.same(a[i])); i += 1; j += 1
            } else if common[i + 1][j] >= common[i][j + 1] {
                result.append(.removed(a[i])); i += 1
            } else {
                result.append(.added(b[j])); j += 1
            }
        }
        result += a[i...].map(Line.removed) + b[j...].map(Line.added)
        return result
    }
}
