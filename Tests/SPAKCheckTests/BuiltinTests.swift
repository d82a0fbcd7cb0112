import SPAKCheck
import SPAKDiagnostics
import Testing

/// The kernel's own variables, `feedback` and `feedback_kind`: readable anywhere, never bound.
@Suite("Builtin variables")
struct BuiltinTests {
    @Test("`feedback_kind` is a string readable in flow code, templates and invariants")
    func readable() {
        let source = """
            task t() {
              system_model {
                invariant sane: feedback_kind == "" or len(reply) > 0
              }
              step ask {
                llm.query("Answer.{{#feedback_kind}} ({{feedback_kind}}: {{feedback}}){{/feedback_kind}}") -> reply
                let retried = feedback_kind != "" and starts_with(feedback_kind, "run")
                on_fail retry ask max 2
              }
            }
            """
        #expect(check(source) == [])
    }

    @Test("`feedback_kind` is known to be a string", arguments: ["feedback_kind + 1", "feedback_kind * 2"])
    func typed(expression: String) {
        #expect(check("task t() { step s { let x = \(expression) } }").first?.hasPrefix("E331") == true)
    }

    @Test("binding a builtin is E306, by `let`, `->` or a loop variable", arguments: [
        ("let feedback_kind = \"x\"", "5:16"), ("llm.query(\"x\") -> feedback_kind", "5:30"),
        ("let feedback = \"x\"", "5:16"),
    ])
    func rebound(statement: String, place: String) throws {
        let source = "task t() {\n\n\n\n  step s { \(statement) }\n}\n"
        let found = Frontend.check(SourceFile(path: "t.spak", text: source)).diagnostics
        let diagnostic = try #require(found.first)
        #expect(found.count == 1)
        #expect(diagnostic.code.id == "E306" && "\(diagnostic.location)" == place)
        #expect(diagnostic.message.hasSuffix("is set by the kernel and cannot be bound by the program"))
    }

    @Test("a loop variable named `feedback_kind` is E306")
    func loopVariable() {
        #expect(check("task t() {\n  repeat feedback_kind in [1, 2] { step s { let x = 1 } }\n}\n") == ["E306@2:10"])
    }
}
