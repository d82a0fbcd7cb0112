/// How the printer writes a string's value so that it parses back to exactly that value, and
/// so that no printed line ends with whitespace that belongs to the value (editors and
/// `git diff --check` strip it, which would silently change the program).
enum PrintedString {
    /// A `"""` block when the value has two or more non-empty lines and the block can hold
    /// it; otherwise the value quoted, with escapes.
    static func doc(_ value: String) -> PrintedDoc {
        blockLines(value).map(PrintedDoc.multiline) ?? .text(quoted(value))
    }

    /// The value's lines for a `"""` block, or `nil` when the block form cannot hold the value
    /// exactly and safely: fewer than two non-empty lines, a `"""` inside, a character that
    /// needs an escape (other than tab), or a line ending with whitespace (a line of only
    /// whitespace included).
    static func blockLines(_ value: String) -> [String]? {
        let lines = value.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count(where: { !$0.isEmpty }) >= 2, !value.contains("\"\"\""),
              value.unicodeScalars.allSatisfy({ $0 == "\n" || $0 == "\t" || !needsEscape($0) }),
              lines.allSatisfy({ !($0.unicodeScalars.last?.properties.isWhitespace ?? false) })
        else { return nil }
        return lines.map(String.init)
    }

    /// The value in double quotes, with escapes for `"`, `\`, line breaks, tab, NUL and every
    /// other character that needs one.
    static func quoted(_ value: String) -> String {
        var text = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\0": text += "\\0"
            case _ where needsEscape(scalar): text += "\\u{\(String(scalar.value, radix: 16))}"
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
    }

    /// Control characters (C0, DEL, C1) and the Unicode line and paragraph separators, which
    /// editors may show as line breaks or remove.
    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }
}
