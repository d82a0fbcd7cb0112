import SPAKDiagnostics
import Testing
@testable import SPAKSyntax

@Suite("Lexer")
struct LexerTests {
    func kinds(_ text: String) -> [TokenKind] {
        var lexer = Lexer(file: SourceFile(path: "t.spak", text: text))
        lexer.run()
        return lexer.tokens.map(\.kind).dropLast()
    }

    func diagnostics(_ text: String) -> [String] {
        var lexer = Lexer(file: SourceFile(path: "t.spak", text: text))
        lexer.run()
        return lexer.diagnostics.map(\.code.id)
    }

    @Test("numbers follow the grammar's terminal order: duration, float, integer", arguments: [
        ("5ms", [TokenKind.duration]), ("1.5h", [.duration]), ("30s", [.duration]), ("2m", [.duration]),
        ("5mx", [.integer, .name]), ("5sec", [.integer, .name]), ("1.5e3", [.float]), ("1.5e", [.float, .name]),
        ("1...3", [.integer, .ellipsis, .integer]), ("1.x", [.integer, .dot, .name]), ("007", [.integer]),
    ])
    func numbers(text: String, expected: [TokenKind]) {
        #expect(kinds(text) == expected)
    }

    @Test("keywords are reserved; names are ASCII")
    func keywords() {
        #expect(kinds("step steps on_fail system_model") == [.keyword(.step), .name, .keyword(.onFail), .keyword(.systemModel)])
        #expect(diagnostics("naïve") == ["E101"])
    }

    @Test("longest punctuation first")
    func punctuation() {
        #expect(kinds("-> - ... . == = <= < != >=") == [.arrow, .minus, .ellipsis, .dot, .equal, .assign, .lessEqual, .less, .notEqual, .greaterEqual])
        #expect(kinds("..") == [.dot, .dot])
    }

    @Test("string escapes decode, and invalid ones are errors")
    func escapes() {
        var lexer = Lexer(file: SourceFile(path: "t.spak", text: #""a\"b\\c\n\t\{\u{1F600}""#))
        lexer.run()
        #expect(lexer.stringValues[0] == "a\"b\\c\n\t{😀")
        #expect(diagnostics(#""a\qb""#) == ["E103"])
        #expect(diagnostics("\"open\nx") == ["E102"])
        #expect(diagnostics("\"\"\"never closed") == ["E104"])
    }

    @Test("comments are kept for the formatter")
    func comments() {
        var lexer = Lexer(file: SourceFile(path: "t.spak", text: "a // one\r\n// two\nb"))
        lexer.run()
        #expect(lexer.comments.map(\.text) == ["// one", "// two"])
        #expect(lexer.tokens.map(\.kind) == [.name, .name, .endOfFile])
    }
}

@Suite("Multi-line strings")
struct MultilineStringTests {
    @Test("the closing line's indentation is removed from every line")
    func dedent() {
        #expect(MultilineString.dedent("\n    a\n      b\n\n    ").value == "a\n  b\n")
        #expect(MultilineString.dedent("one line").value == "one line")
        #expect(MultilineString.dedent("\r\n  a\r\n  ").value == "a")
    }

    @Test("a closing delimiter after text keeps every line as written")
    func noDedent() {
        #expect(MultilineString.dedent("\n  a\n  b").value == "  a\n  b")
    }

    @Test("under-indented lines are kept and reported")
    func underIndented() {
        let result = MultilineString.dedent("\n    a\n  b\n    ")
        #expect(result.value == "a\n  b")
        #expect(result.underIndentedLineOffsets == [7])
    }
}
