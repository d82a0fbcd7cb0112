import SPAKDiagnostics
import Testing
@testable import SPAKSyntax

/// `objective maximize NAME` / `objective minimize NAME` inside `evaluation`.
@Suite("Objective")
struct ObjectiveTests {
    static let program = """
        task t() {
          evaluation {
            objective minimize attempts_used // fewer is better
            metric solved = true
            metric attempts_used = attempt
          }
        }

        """

    @Test("an objective parses with its direction, its metric and its place")
    func parses() throws {
        let result = parse(Self.program)
        #expect(result.diagnostics.isEmpty)
        let evaluation = try #require(result.program.task?.evaluations.first)
        #expect(evaluation.metrics.map(\.name.name) == ["solved", "attempts_used"])
        let objective = try #require(evaluation.objective)
        #expect(evaluation.objectives.count == 1)
        #expect(objective.direction == .minimize && objective.metric.name == "attempts_used")
        #expect(result.file.text(in: objective.range) == "objective minimize attempts_used")
    }

    @Test("`maximize` and `minimize` stay ordinary names elsewhere")
    func directionsAreNames() {
        let result = parse("task maximize(minimize: int = 1) { step s { let maximize = minimize } }")
        #expect(result.diagnostics.isEmpty)
    }

    @Test("a missing or wrong direction is an error at the word, with a fix-it for a near miss", arguments: [
        ("objective maximise solved", "`maximise`", "maximize"),
        ("objective solved", "`solved`", nil),
        ("objective max solved", "`max`", nil),
    ])
    func direction(line: String, found: String, fix: String?) throws {
        let result = parse("task t() {\n  evaluation {\n    metric solved = true\n    \(line)\n  }\n}\n")
        let diagnostic = try #require(result.diagnostics.first)
        #expect(result.diagnostics.count == 1)
        #expect(diagnostic.code.id == "E201")
        #expect(diagnostic.message == "expected `maximize` or `minimize` after `objective`, found \(found)")
        #expect(diagnostic.location == SourceLocation(line: 4, column: 15))
        #expect(diagnostic.fixIts.first?.replacement == fix)
    }

    @Test("`objective` outside `evaluation` is misplaced, as `metric` is")
    func misplaced() throws {
        let result = parse("task t() {\n  step s { let x = 1 }\n  objective maximize x\n}\n")
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.code.id == "E203")
        #expect(diagnostic.message == "`objective` cannot appear outside `evaluation { ... }`")
        #expect(diagnostic.location == SourceLocation(line: 3, column: 3))
    }

    @Test("the formatter prints the objective after the metrics, keeps its comments, and is idempotent")
    func prints() {
        let file = SourceFile(path: "t.spak", text: Self.program)
        let once = format(file)
        #expect(once == """
            task t() {
              evaluation {
                // fewer is better
                metric solved = true
                metric attempts_used = attempt
                objective minimize attempts_used
              }
            }

            """)
        let reformatted = SourceFile(path: "t.spak", text: once)
        #expect(format(reformatted) == once)
        #expect(tree(reformatted) == tree(file))
        let canonical = "task t() {\n  evaluation {\n    metric m = 1\n    objective maximize m // best\n  }\n}\n"
        #expect(format(SourceFile(path: "t.spak", text: canonical)) == canonical)
    }

    @Test("the AST's JSON lists each evaluation's objectives")
    func json() {
        let text = ProgramJSON(file: SourceFile(path: "t", text: ""), includeLocations: false)
            .json(parse(Self.program).program).serialized().filter { !$0.isWhitespace }
        #expect(text.contains(#""objectives":[{"kind":"objective","direction":"minimize","metric":"attempts_used"}]"#))
    }
}
