import Foundation
import SPAKKernel

/// How the trace tools shorten long texts and show numbers.
enum TextFolding {
    /// The lines of `text`, each indented by `indent`; unless `full`, only the first
    /// `lines`, each cut at `width` characters, then `… (N more lines)`.
    static func block(_ text: String, indent: String, full: Bool, lines: Int = 3, width: Int = 100) -> String {
        var all = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if all.count > 1, all.last == "" { all.removeLast() }
        let shown = full ? all : Array(all.prefix(lines))
        var out = ""
        for line in shown { out += indent + (full ? line : cut(line, width)) + "\n" }
        if shown.count < all.count {
            let more = all.count - shown.count
            out += indent + "… (\(more) more line\(more == 1 ? "" : "s"))\n"
        }
        return out
    }

    /// `LABEL: text` on one line for a one-line text; otherwise `LABEL:` and the text's
    /// lines below it, marked `| ` and folded unless `full`.
    static func field(_ label: String, _ text: String, indent: String, full: Bool) -> String {
        let body = text.hasSuffix("\n") ? String(text.dropLast()) : text
        if !body.contains("\n") { return indent + label + ": " + (full ? body : cut(body, 100)) + "\n" }
        return indent + label + ":\n" + block(text, indent: indent + "| ", full: full)
    }

    /// A line cut at `width` characters, with `…` when it was cut.
    static func cut(_ line: String, _ width: Int) -> String {
        line.count > width ? String(line.prefix(width - 1)) + "…" : line
    }

    /// The first line of a text, cut at `width`, with `…` when anything was left out.
    static func firstLine(_ text: String, width: Int) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let first = String(lines.first ?? "")
        let rest = lines.dropFirst().contains { !$0.isEmpty }
        return rest && first.count < width ? first + " …" : cut(first, width)
    }

    /// Milliseconds for a person: `0.8 ms`, `12.3 ms`, `2.41 s`.
    static func duration(ms: Double) -> String {
        ms >= 1000 ? String(format: "%.2f s", ms / 1000) : String(format: "%.1f ms", ms)
    }

    /// A number for a person: whole numbers without a fraction, others with up to three decimals.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : JSON.formatFloat((value * 1000).rounded() / 1000)
    }

    /// `1 line`, `2 lines`.
    static func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
}
