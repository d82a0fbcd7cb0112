import SPAKDiagnostics
import SPAKTestSupport
import Testing
@testable import SPAKSyntax

func format(_ file: SourceFile) -> String {
    let result = SPAKParser.parse(file)
    return ProgramPrinter(program: result.program, source: file).print(result.program)
}

func tree(_ file: SourceFile) -> JSONValue {
    ProgramJSON(file: file, includeLocations: false).json(SPAKParser.parse(file).program)
}

/// Every syntactically valid program the repository ships or tests with.
let validPrograms = Repository.examplePrograms
    + Repository.spakFiles(in: "Tests/Fixtures/corpus/valid")
    + ["messy.spak", "long.spak"].map { Repository.path("Tests/Fixtures/format/\($0)") }

@Suite("Formatter")
struct PrinterTests {
    @Test("a messy program prints in the canonical layout, comments and blank lines kept")
    func golden() throws {
        let file = SourceFile(path: "messy.spak", text: try Repository.text("Tests/Fixtures/format/messy.spak"))
        let expected = try Repository.text("Tests/Fixtures/format/messy.expected.spak")
        #expect(format(file) == expected)
    }

    @Test("formatting is idempotent, keeps the tree and keeps every comment", arguments: validPrograms)
    func roundTrip(path: String) throws {
        let original = SourceFile(path: path, text: try String(contentsOfFile: path, encoding: .utf8))
        guard !SPAKParser.parse(original).hasErrors else { return }
        let once = format(original)
        let formatted = SourceFile(path: path, text: once)
        #expect(!SPAKParser.parse(formatted).hasErrors, "\(once)")
        #expect(format(formatted) == once)
        #expect(tree(formatted) == tree(original))
        let before = SPAKParser.parse(original).program.comments.map(\.text)
        let after = SPAKParser.parse(formatted).program.comments.map(\.text)
        #expect(before.sorted() == after.sorted())
    }

    @Test("the example in the reference's section 17 prints as the reference shows")
    func referenceExample() throws {
        let reference = try Repository.text("docs/language.md")
        let section = try #require(reference.components(separatedBy: "\n## 17. ").dropFirst().first?
            .components(separatedBy: "\n## 18. ").first)
        let blocks = section.components(separatedBy: "```text\n").dropFirst().map { $0.components(separatedBy: "```\n")[0] }
        try #require(blocks.count == 2)
        #expect(format(SourceFile(path: "example.spak", text: blocks[0])) == blocks[1])
    }

    @Test("no blank line is kept right after a `{`, even one followed by a comment")
    func noBlankLineAfterBrace() {
        let source = "task t() {\n  step s { // c\n\n    let x = 1\n  }\n}\n"
        #expect(format(SourceFile(path: "t", text: source)) == "task t() {\n  step s { // c\n    let x = 1\n  }\n}\n")
    }

    @Test("without the source, a program still prints (no comments)")
    func withoutSource() {
        let result = SPAKParser.parse(SourceFile(path: "t", text: "task t() { step s { let x = 1 } } // c"))
        #expect(ProgramPrinter(program: result.program, source: nil).print(result.program)
            == "task t() {\n  step s {\n    let x = 1\n  }\n}\n")
    }
}

@Suite("Formatter comments around else")
struct ElseCommentTests {
    @Test("comments before `else` keep their place across passes", arguments: [
        "task t(a: int = 1) {\n  if a > 0 {\n    step s { let x = 1 }\n  } // after then\n  else {\n    step u { let y = 2 }\n  }\n}\n",
        "task t(a: int = 1) {\n  if a > 0 {\n    step s { let x = 1 }\n  }\n  // before else if\n  else if a < 0 {\n    step u { let y = 2 }\n  }\n}\n",
    ])
    func idempotent(source: String) {
        let once = format(SourceFile(path: "t", text: source))
        #expect(format(SourceFile(path: "t", text: once)) == once)
        #expect(tree(SourceFile(path: "t", text: once)) == tree(SourceFile(path: "t", text: source)))
    }
}
