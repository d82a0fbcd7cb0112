import Testing
@testable import SPAKDiagnostics

@Suite("Rendering diagnostics")
struct RendererTests {
    let file = SourceFile(path: "demo.spak", text: "task t() {\n\tinvariant ok: verfy.ok\n}\n")

    @Test("the text form: location line, source line, caret, note and fix-it")
    func textForm() {
        let diagnostic = Diagnostic(
            .neverBound("verfy", in: "invariant `ok`"), in: file, at: SourceRange(start: 26, end: 31),
            notes: [DiagnosticNote("the task starts here", at: SourceRange(start: 0, end: 4))],
            fixIts: [FixIt(replace: SourceRange(start: 26, end: 31), with: "verify")])
        let expected = """
            demo.spak:2:16: error: invariant `ok` names `verfy`, which no statement in the task binds [E305]
               2 | \tinvariant ok: verfy.ok
                 | \t              ^~~~~
            demo.spak:1:1: note: the task starts here
               1 | task t() {
                 | ^~~~
                = fix-it: replace `verfy` with `verify`

            """
        #expect(DiagnosticRenderer().render(diagnostic) == expected)
    }

    @Test("a 10 MB line is shown as a window around the column")
    func longLine() {
        let long = String(repeating: "x", count: 10_000_000)
        let file = SourceFile(path: "big.spak", text: long + "@")
        let diagnostic = Diagnostic(.unexpectedCharacter("`@`"), in: file, at: SourceRange(start: 10_000_000, end: 10_000_001))
        let text = DiagnosticRenderer().render(diagnostic)
        #expect(text.hasPrefix("big.spak:1:10000001: error: unexpected character `@` [E101]\n"))
        #expect(text.utf8.count < 600)
        #expect(text.contains("…"))
    }

    @Test("JSON carries 1-based positions, IDs, notes and fix-its")
    func json() throws {
        var bag = DiagnosticBag()
        bag.add(Diagnostic(.usedBeforeBound("y"), in: file, at: SourceRange(start: 26, end: 31),
                           notes: [DiagnosticNote("bound here", at: SourceRange(start: 0, end: 4))]))
        let json = DiagnosticJSON(bag)
        #expect(json.errorCount == 1)
        let entry = try #require(json.diagnostics.first)
        #expect(entry.line == 2 && entry.column == 16 && entry.endColumn == 21)
        #expect(entry.id == "E304" && entry.name == "used-before-bound" && entry.severity == "error")
        #expect(entry.notes.first?.line == 1)
        #expect(json.encoded().contains("\"id\" : \"E304\""))
    }

    @Test("the error limit keeps a flood out but still counts it")
    func errorLimit() {
        var bag = DiagnosticBag(errorLimit: 3)
        for offset in 0..<10 { bag.add(Diagnostic(.unexpectedCharacter("`@`"), in: file, at: .at(offset))) }
        #expect(bag.errorCount == 3)
        #expect(bag.suppressedErrors == 7)
        #expect(DiagnosticRenderer().render(bag).contains("7 more errors not shown"))
    }
}

@Suite("Catalog and suggestions")
struct CatalogTests {
    @Test("every ID is unique, and E/W prefixes match severities")
    func uniqueIDs() {
        let ids = DiagnosticCode.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(Set(DiagnosticCode.all.map(\.name)).count == ids.count)
        for code in DiagnosticCode.all {
            #expect(code.severity == (code.id.hasPrefix("W") ? .warning : .error))
        }
    }

    @Test("did-you-mean finds close names and ignores far ones")
    func suggestions() {
        #expect(Suggestions.closest(to: "verfy", among: ["verify", "bench"]) == "verify")
        #expect(Suggestions.closest(to: "x", among: ["verify"]) == nil)
        #expect(Suggestions.editDistance("kitten", "sitting") == 3)
        #expect(Suggestions.editDistance("", "abc") == 3)
        #expect(Suggestions.editDistance("coutn", "count") == 1)
        #expect(Suggestions.closest(to: "coutn", among: ["count"]) == "count")
    }
}
