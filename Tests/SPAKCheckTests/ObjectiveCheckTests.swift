import SPAKCheck
import SPAKDiagnostics
import Testing

/// The checker's rules for `objective` in `evaluation`.
@Suite("Objective checks")
struct ObjectiveCheckTests {
    /// A task whose evaluation holds `lines`; `primes` is a list, `attempt` an int.
    static func program(_ lines: String...) -> String {
        "task t() {\n  repeat attempt in 1...3 {\n    step s { let primes = [2, 3] }\n  }\n  evaluation {\n"
            + lines.map { "    \($0)\n" }.joined() + "  }\n}\n"
    }

    static func diagnostics(_ source: String) -> [Diagnostic] {
        Frontend.check(SourceFile(path: "t.spak", text: source)).diagnostics
    }

    @Test("an objective over a bool, a number or a value of unknown type checks cleanly", arguments: [
        "metric m = len(primes) == 2", "metric m = attempt", "metric m = attempt / 2.0", "metric m = primes[0]",
    ])
    func clean(metric: String) {
        #expect(check(Self.program(metric, "objective maximize m")) == [])
    }

    @Test("a metric the block does not declare: E361, with a did-you-mean fix-it")
    func unknownMetric() throws {
        let found = Self.diagnostics(Self.program("metric solved = true", "objective maximize solvd"))
        let diagnostic = try #require(found.first)
        #expect(found.count == 1)
        #expect(diagnostic.code.id == "E361" && diagnostic.location == SourceLocation(line: 7, column: 24))
        #expect(diagnostic.message == "the objective names `solvd`, which no `metric` in this `evaluation` declares")
        #expect(diagnostic.fixIts.first?.replacement == "solved")
    }

    @Test("a second objective: E362, with a note at the first")
    func multiple() throws {
        let found = Self.diagnostics(Self.program("metric a = attempt", "objective maximize a", "objective minimize a"))
        let diagnostic = try #require(found.first)
        #expect(found.count == 1)
        #expect(diagnostic.code.id == "E362" && diagnostic.location == SourceLocation(line: 8, column: 5))
        #expect(diagnostic.message == "a task has at most one `objective`")
        let note = try #require(diagnostic.notes.first)
        #expect(note.message == "the first `objective` is here")
        #expect(note.range.map { diagnostic.file.location(of: $0.start) } == SourceLocation(line: 7, column: 5))
    }

    @Test("a metric that is knowably a string, a list or a map: E331 at the objective", arguments: [
        ("metric m = \"text\"", "string"), ("metric m = primes", "a list"), ("metric m = {a: 1}", "a map"),
    ])
    func notRankable(metric: String, type: String) throws {
        let found = Self.diagnostics(Self.program(metric, "objective minimize m"))
        let diagnostic = try #require(found.first)
        #expect(found.count == 1)
        #expect(diagnostic.code.id == "E331" && diagnostic.location == SourceLocation(line: 7, column: 24))
        #expect(diagnostic.message == "the objective's metric `m` must be a number or a bool, but it is \(type)")
        #expect(diagnostic.notes.first?.message == "`m` is defined here")
    }
}
