import SPAKCheck
import Testing

@Suite("Command words")
struct CommandWordsTests {
    @Test("quotes, escapes and tags", arguments: [
        ("python3 -m harness verify", ["python3", "-m", "harness", "verify"]),
        ("  a\t b\n", ["a", "b"]),
        ("echo 'one two' \"three \\\"four\\\"\"", ["echo", "one two", "three \"four\""]),
        ("a\\ b", ["a b"]),
        ("run {{ file name }} --x={{y}}", ["run", "{{ file name }}", "--x={{y}}"]),
        ("''", [""]),
    ])
    func split(command: String, words: [String]) throws {
        #expect(try CommandWords.split(command) == words)
    }

    @Test("unterminated quotes and tags are errors")
    func errors() {
        #expect(throws: CommandWords.SplitError.unterminatedQuote("'")) { try CommandWords.split("a 'b") }
        #expect(throws: CommandWords.SplitError.unterminatedQuote("\"")) { try CommandWords.split("a \"b") }
        #expect(throws: CommandWords.SplitError.unterminatedTag) { try CommandWords.split("a {{b") }
    }

    @Test("allow lines match whole leading words, never a string prefix")
    func admits() {
        #expect(CommandWords.admits(allow: ["python3"], command: ["python3", "-m", "harness"]) == true)
        #expect(CommandWords.admits(allow: ["python3"], command: ["python3x"]) == false)
        #expect(CommandWords.admits(allow: ["python3"], command: ["sh", "-c", "python3"]) == false)
        #expect(CommandWords.admits(allow: ["python3", "-m", "harness"], command: ["python3", "-m"]) == false)
        #expect(CommandWords.admits(allow: ["python3", "-m"], command: ["python3", "{{flag}}"]) == nil)
        #expect(CommandWords.admits(allow: [], command: ["python3"]) == false)
    }
}

@Suite("Template scanning")
struct TemplateScanTests {
    @Test("variables, sections, transforms and enclosing sections")
    func references() {
        let scan = TemplateScan("{{a}} {{{b.c}}} {{& d}} {{#e}}{{f}}{{/e}} {{^g}}x{{/g}} {{! note }} {{uppercased(h)}} {{.}}")
        #expect(scan.problems.isEmpty)
        #expect(scan.references.map(\.root) == ["a", "b", "d", "e", "f", "g", "h", "."])
        #expect(scan.references.map(\.isSection) == [false, false, false, true, false, true, false, false])
        #expect(scan.references.first { $0.root == "f" }?.enclosing.map(\.root) == ["e"])
        #expect(scan.references.first { $0.root == "h" }?.offset == 81)
        #expect(scan.references.first { $0.root == "h" }?.transforms.map { "\($0.name)@\($0.offset)" } == ["uppercased@70"])
    }

    @Test("problems carry a position; partials and custom delimiters are flagged")
    func problems() {
        #expect(TemplateScan("ok\n{{#a}} open").problems.map { "\($0.offset)+\($0.length) \($0.message)" }
            == ["3+6 section `{{#a}}` is opened here but never closed"])
        #expect(TemplateScan("{{> header}}").problems.count == 1)
        #expect(TemplateScan("{{=<% %>=}}<%x%>").uncheckable != nil)
        #expect(TemplateScan("{{=<% %>=}}<%x%>").problems.isEmpty)
    }
}
