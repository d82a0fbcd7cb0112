import Testing
@testable import SPAKDiagnostics

@Suite("Source positions")
struct SourceFileTests {
    @Test("lines and columns are 1-based")
    func oneBased() {
        let file = SourceFile(path: "a.spak", text: "ab\ncd\n")
        #expect(file.location(of: 0) == SourceLocation(line: 1, column: 1))
        #expect(file.location(of: 1) == SourceLocation(line: 1, column: 2))
        #expect(file.location(of: 3) == SourceLocation(line: 2, column: 1))
        #expect(file.location(of: 6) == SourceLocation(line: 3, column: 1))
    }

    @Test("a column counts Unicode scalars, and a tab counts as one")
    func scalarsAndTabs() {
        let file = SourceFile(path: "a.spak", text: "é\t😀x")
        // é is 2 bytes, tab 1, 😀 4: x starts at byte 7 and is the 4th scalar.
        #expect(file.location(of: 7) == SourceLocation(line: 1, column: 4))
        // An offset inside a multi-byte scalar belongs to that scalar.
        #expect(file.location(of: 4) == SourceLocation(line: 1, column: 3))
    }

    @Test("CRLF lines end before the carriage return, and a byte-order mark is dropped")
    func crlfAndBOM() {
        let file = SourceFile(path: "a.spak", validatedBytes: [0xEF, 0xBB, 0xBF] + Array("ab\r\ncd".utf8))
        #expect(file.text == "ab\r\ncd")
        #expect(file.text(in: file.lineRange(1)) == "ab")
        #expect(file.location(of: 4) == SourceLocation(line: 2, column: 1))
    }

    @Test("offsets past the end clamp to the end")
    func clamps() {
        let file = SourceFile(path: "a.spak", text: "abc")
        #expect(file.location(of: 99) == SourceLocation(line: 1, column: 4))
        #expect(file.location(of: -5) == SourceLocation(line: 1, column: 1))
    }
}
