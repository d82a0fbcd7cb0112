import SPAKDiagnostics
import Testing
@testable import SPAKSyntax

/// How string values print: a `"""` block only when it holds the value exactly and no
/// printed line ends with whitespace that belongs to the value; quoted with escapes otherwise.
@Suite("Formatter strings")
struct StringPrintingTests {
    /// The program `let x = VALUE` in a task, as the formatter prints it.
    static func printed(_ value: String) -> String {
        format(SourceFile(path: "t.spak", text: "task t() {\n  let x = \(PrintedString.quoted(value))\n}\n"))
    }

    /// The value `x` has once the printed program is parsed again.
    static func reparsedValue(_ printed: String) -> String? {
        let program = SPAKParser.parse(SourceFile(path: "t.spak", text: printed)).program
        guard case .let(_, let value, _)? = program.task?.body.first, case .string(let text) = value.kind else { return nil }
        return text
    }

    @Test("strings print with the escapes they need", arguments: [
        ("a\"b\\c", #""a\"b\\c""#), ("tab\there", #""tab\there""#), ("\u{1}", #""\u{1}""#),
        ("\n", #""\n""#), ("one\n", #""one\n""#), ("has \"\"\" and\nnewline", #""has \"\"\" and\nnewline""#),
        ("next\u{85}line", #""next\u{85}line""#), ("a\u{2028}b", #""a\u{2028}b""#), ("del\u{7F}", #""del\u{7f}""#),
    ])
    func quoted(value: String, literal: String) {
        #expect(Self.printed(value) == "task t() {\n  let x = \(literal)\n}\n")
    }

    @Test("two or more non-empty lines print as a block one level deeper than their line", arguments: [
        ("line1\nline2", ["line1", "line2"]),
        ("a\n\nb", ["a", "", "b"]),
        ("a\nb\n", ["a", "b", ""]),
        ("\na\nb", ["", "a", "b"]),
        ("  indented\n\tby a tab\nlast", ["  indented", "\tby a tab", "last"]),
        ("inner\ttab\nand \"quotes\" \\ here", ["inner\ttab", "and \"quotes\" \\ here"]),
        ("ends with a quote\"\nand two\"\"", ["ends with a quote\"", "and two\"\""]),
    ])
    func block(value: String, lines: [String]) {
        let body = lines.map { $0.isEmpty ? "\n" : "    \($0)\n" }.joined()
        let printed = Self.printed(value)
        #expect(printed == "task t() {\n  let x = \"\"\"\n\(body)    \"\"\"\n}\n")
        #expect(Self.reparsedValue(printed) == value)
    }

    @Test("a value whose lines end with whitespace never prints as a block", arguments: [
        "trailing space \nsecond line", "first\ntrailing tab\t", "first\n   \nthird", "first\n\t\nthird",
        "first\nlast line ends with a space ", "ends with spaces\nafter a line break\n  ", "no-break space\u{A0}\nsecond",
        "carriage\r\nreturn", "form\u{C}feed\nsecond",
    ])
    func trailingWhitespace(value: String) throws {
        let printed = Self.printed(value)
        #expect(!printed.contains("\"\"\""), "\(printed)")
        #expect(Self.reparsedValue(printed) == value)
        for line in printed.split(separator: "\n") {
            #expect(!(line.unicodeScalars.last?.properties.isWhitespace ?? false), "\(line)")
        }
    }

    @Test("every printed string reads back as the same value, and prints the same again", arguments: [
        "", " ", "\t", "a \n b", " \n ", "\n\n", "x\n\n\ny", "a\n b \nc", "\"\"\"\n\"\"", "{{name}}\n\\{{literal}}",
        "end\n", "\u{0}\n\u{1}", "é\nü", "trailing\n ",
    ])
    func roundTrip(value: String) {
        let printed = Self.printed(value)
        #expect(Self.reparsedValue(printed) == value)
        #expect(format(SourceFile(path: "t.spak", text: printed)) == printed)
    }
}
