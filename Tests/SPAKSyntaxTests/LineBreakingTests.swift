import SPAKDiagnostics
import SPAKTestSupport
import Testing
@testable import SPAKSyntax

/// Argument lists, lists and maps: on one line when it fits in 100 characters, otherwise one
/// element per line; a list that holds a comment breaks and keeps the comment at its element.
@Suite("Formatter line breaking")
struct LineBreakingTests {
    /// `statements` (one per line, without indentation) inside `task t() { step s { … } }`.
    static func program(_ statements: String...) -> String {
        "task t() {\n  step s {\n" + statements.map { $0.isEmpty ? "\n" : "    \($0)\n" }.joined() + "  }\n}\n"
    }

    /// Formats `source`, checks the result formats to itself, parses to the same tree and
    /// keeps every comment, and returns it.
    static func stable(_ source: String) -> String {
        let original = SourceFile(path: "t.spak", text: source)
        let once = format(original)
        let formatted = SourceFile(path: "t.spak", text: once)
        #expect(!SPAKParser.parse(formatted).hasErrors, "\(once)")
        #expect(format(formatted) == once, "not idempotent:\n\(once)")
        #expect(tree(formatted) == tree(original))
        let before = SPAKParser.parse(original).program.comments.map(\.text)
        #expect(SPAKParser.parse(formatted).program.comments.map(\.text) == before)
        return once
    }

    @Test("the golden long-lines fixture prints as expected, comments and blank lines kept")
    func golden() throws {
        let source = try Repository.text("Tests/Fixtures/format/long.spak")
        #expect(Self.stable(source) == (try Repository.text("Tests/Fixtures/format/long.expected.spak")))
    }

    @Test("a call whose line is 100 characters stays on one line; at 101 it breaks", arguments: [
        // (statement before the argument, after it, and how it breaks)
        ("let x = f(\"", "\", 1)", "let x = f(", ["\"", "\",", "1,"], ")"),
        ("tool.run(\"", "\", timeout: 5s) -> r", "tool.run(", ["\"", "\",", "timeout: 5s,"], ") -> r"),
        ("let m = {key: \"", "\"}", "let m = {", ["key: \"", "\","], "}"),
        ("let l = [\"", "\", true]", "let l = [", ["\"", "\",", "true,"], "]"),
    ])
    func boundary(before: String, after: String, open: String, items: [String], close: String) {
        let indent = "    "
        let fill = { (width: Int) in String(repeating: "a", count: width - indent.count - before.count - after.count) }
        let fits = before + fill(100) + after
        #expect((indent + fits).count == 100)
        #expect(Self.stable(Self.program(fits)) == Self.program(fits))
        let long = before + fill(101) + after
        let broken = [open, "  " + items[0] + fill(101) + items[1]] + items.dropFirst(2).map { "  " + $0 } + [close]
        #expect(Self.stable(Self.program(long)) == Self.program(broken.joined(separator: "\n    ")))
    }

    @Test("a list written over several lines that fits prints on one line")
    func shortListJoins() {
        let source = Self.program("tool.run(", "  \"make\",", "  timeout: 5s,", ") -> r", "let m = {", "  a: [1,", "  2],", "}")
        #expect(Self.stable(source) == Self.program("tool.run(\"make\", timeout: 5s) -> r", "let m = {a: [1, 2]}"))
    }

    @Test("nested lists break only where their own line is too long")
    func nested() {
        let long = String(repeating: "x", count: 60)
        let source = Self.program("let m = {name: \"\(long)\", inner: {list: [\"\(long)\", 2], short: [1, 2]}, last: f(1)}")
        #expect(Self.stable(source) == Self.program(
            "let m = {",
            "  name: \"\(long)\",",
            "  inner: {",
            "    list: [\"\(long)\", 2],",
            "    short: [1, 2],",
            "  },",
            "  last: f(1),",
            "}"
        ))
    }

    @Test("an element too long even on its own line breaks the same way, one level deeper")
    func nestedDeeper() {
        let long = String(repeating: "y", count: 90)
        let source = Self.program("llm.query(\"p\", stop: [\"\(long)\", \"z\"]) -> r")
        #expect(Self.stable(source) == Self.program(
            "llm.query(", "  \"p\",", "  stop: [", "    \"\(long)\",", "    \"z\",", "  ],", ") -> r"
        ))
    }

    @Test("a list that does not fit breaks while an earlier one that fits stays")
    func leftToRight() {
        let long = String(repeating: "w", count: 70)
        let source = Self.program("let n = len([1, 2]) + len([\"\(long)\", 3])")
        #expect(Self.stable(source) == Self.program("let n = len([1, 2]) + len(", "  [\"\(long)\", 3],", ")"))
    }

    @Test("a list holding a comment breaks; each comment stays at its element, the others before the closing bracket")
    func comments() {
        let source = Self.program(
            "tool.run( // the command", "  \"make\", // builds", "  // the limit", "  timeout: 5s", "  // the end", ") -> r // done",
            "let m = {a: 1, // one", "b: 2}",
            "let q = [1 + // inside an element", "2]"
        )
        #expect(Self.stable(source) == Self.program(
            "tool.run( // the command", "  \"make\", // builds", "  // the limit", "  timeout: 5s,", "  // the end", ") -> r // done",
            "let m = {", "  a: 1, // one", "  b: 2,", "}",
            "let q = [", "  // inside an element", "  1 + 2,", "]"
        ))
    }

    @Test("a comment after the closing bracket is not inside the list: the statement stays on one line")
    func commentAfterList() {
        let source = Self.program("tool.run(\"make\") // after", "  -> r")
        #expect(Self.stable(source) == Self.program("// after", "tool.run(\"make\") -> r"))
    }

    @Test("one blank line is kept between a broken list's elements, none after the opening bracket")
    func blankLines() {
        let long = String(repeating: "v", count: 80)
        let source = Self.program("let m = {", "", "  a: \"\(long)\",", "", "", "  b: 2,", "", "}")
        #expect(Self.stable(source) == Self.program("let m = {", "  a: \"\(long)\",", "", "  b: 2,", "}"))
    }

    @Test("a `\"\"\"` string in a broken list is one level deeper than its element's line")
    func multilineInBrokenList() {
        let long = String(repeating: "u", count: 80)
        let source = Self.program("llm.query(\"\"\"", "  one", "  two", "  \"\"\", max_tokens: 64, stop: [\"\(long)\"]) -> r")
        #expect(Self.stable(source) == Self.program(
            "llm.query(", "  \"\"\"", "    one", "    two", "    \"\"\",", "  max_tokens: 64,", "  stop: [\"\(long)\"],", ") -> r"
        ))
    }

    @Test("a `\"\"\"` string's content lines do not count; its closing line does")
    func multilineWidths() {
        let longLine = String(repeating: "t", count: 120)
        let short = Self.program("llm.query(\"\"\"", "  \(longLine)", "  two", "  \"\"\", max_tokens: 64) -> r")
        #expect(Self.stable(short) == short)
        let stop = String(repeating: "s", count: 80)
        let long = Self.program("llm.query(\"\"\"", "  one", "  two", "  \"\"\", stop: [\"\(stop)\"]) -> r")
        #expect(Self.stable(long).hasPrefix(Self.program("llm.query(", "  \"\"\"").dropLast("  }\n}\n".count)))
    }

    @Test("a task's parameters break at 101 characters, and a default too long for its own line breaks inside")
    func taskHeader() {
        let header = { (width: Int) in "task t(name: string = \"" + String(repeating: "n", count: width - 27) + "\") {" }
        #expect(header(100).count == 100)
        #expect(Self.stable(header(100) + "\n}\n") == header(100) + "\n}\n")
        let name = String(repeating: "n", count: 101 - 27)
        #expect(Self.stable(header(101) + "\n}\n") == "task t(\n  name: string = \"\(name)\",\n) {\n}\n")
        let long = String(repeating: "m", count: 50)
        let source = "task t(models: list = [\"\(long)\", \"\(long)\"], n: int = 1) {\n}\n"
        #expect(Self.stable(source) == """
            task t(
              models: list = [
                "\(long)",
                "\(long)",
              ],
              n: int = 1,
            ) {
            }

            """)
    }
}
