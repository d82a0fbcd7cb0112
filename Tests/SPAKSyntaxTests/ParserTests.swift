import SPAKDiagnostics
import SPAKTestSupport
import Testing
@testable import SPAKSyntax

func parse(_ text: String) -> ParseResult { SPAKParser.parse(SourceFile(path: "t.spak", text: text)) }

func errorIDs(_ result: ParseResult) -> [String] { result.diagnostics.map(\.code.id) }

@Suite("Parser")
struct ParserTests {
    @Test("the shipped examples parse cleanly", arguments: Repository.examplePrograms)
    func examples(path: String) throws {
        let result = SPAKParser.parse(SourceFile(path: path, text: try String(contentsOfFile: path, encoding: .utf8)))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.message))")
        #expect(result.program.task != nil)
    }

    @Test("operator precedence and associativity")
    func precedence() throws {
        let task = try #require(parse("task t() { let x = not a or b and c == 1 + 2 * -3 - 4 }").program.task)
        guard case .let(_, let value, _) = task.body.first else { Issue.record("no let"); return }
        let json = ProgramJSON(file: SourceFile(path: "t", text: ""), includeLocations: false).expr(value).serialized()
        // or( not a, and(b, ==(c, -( +(1, *(2, -3)), 4))) )
        let compact = json.filter { !$0.isWhitespace }
        #expect(compact.hasPrefix(#"{"kind":"binary","operator":"or","lhs":{"kind":"unary","operator":"not""#))
        #expect(compact.contains(#""operator":"-","lhs":{"kind":"binary","operator":"+""#))
    }

    @Test("every syntax error is reported in one pass, each at its place")
    func recovery() {
        let result = parse("""
            task t() {
              step a { let = 1 }
              step b { tool.read("x") -> }
              step c { let ok = 2 }
              step d { x = 3 }
            }
            """)
        let found = result.diagnostics.map { "\($0.code.id)@\($0.location)" }
        #expect(found == ["E201@2:16", "E201@3:30", "E208@5:12"])
        // The good step between the errors was still read.
        let names = result.program.task?.body.compactMap { if case .step(let name, _, _) = $0 { name.name } else { nil } }
        #expect(names == ["a", "b", "c", "d"])
    }

    @Test("a missing closing brace names the block and points at its opening")
    func unclosed() throws {
        let result = parse("task t() {\n  step a {\n    let x = 1\n")
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.code.id == "E202")
        #expect(diagnostic.message == "expected `}` to close step `a`")
        #expect(diagnostic.notes.first.map { result.file.location(of: $0.range!.start) } == SourceLocation(line: 2, column: 10))
    }

    @Test("an unbounded loop is reported and its body still read")
    func unboundedLoop() {
        let result = parse("task t() { repeat until done { step s { let y = } } }")
        #expect(errorIDs(result) == ["E204", "E201"])
    }

    @Test("statements in the wrong block are reported", arguments: [
        ("task t() { tool.read(\"a\") }", "E203"),
        ("task t() { step a { step b {} } }", "E203"),
        ("task t() { step a { repeat i in 1...2 {} } }", "E203"),
        ("task t() { on_fail fail }", "E203"),
        ("task t() { step a { system_model {} } }", "E203"),
        ("task t() { metric m = 1 }", "E203"),
        ("task t() { invariant ok: true }", "E203"),
        ("task t() {} task u() {}", "E207"),
        ("task t() { let x = 1 < 2 < 3 }", "E205"),
        ("", "E002"),
        ("// only a comment\n", "E002"),
    ])
    func misplaced(source: String, id: String) {
        #expect(errorIDs(parse(source)).first == id)
    }

    @Test("10,000 levels of nesting give one diagnostic, not a crash", arguments: [
        String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000),
        String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
        String(repeating: "-", count: 10_000) + "1",
        String(repeating: "not ", count: 10_000) + "true",
        Array(repeating: "1", count: 10_000).joined(separator: " + "),
        "a" + String(repeating: ".b", count: 10_000),
    ])
    func deepExpressions(expression: String) {
        let result = parse("task t() { step s { let x = \(expression) } }")
        #expect(errorIDs(result) == ["E206"])
    }

    @Test("10,000 nested blocks give one diagnostic, not a crash")
    func deepBlocks() {
        let source = "task t() { step s { " + String(repeating: "if true { ", count: 10_000)
            + String(repeating: "} ", count: 10_000) + "} }"
        #expect(errorIDs(parse(source)) == ["E206"])
    }

    @Test("a 10 MB line lexes and parses in one pass")
    func hugeLine() {
        let source = "task t() { step s { let x = \"" + String(repeating: "a", count: 10_000_000) + "\" } }"
        #expect(parse(source).diagnostics.isEmpty)
    }
}
