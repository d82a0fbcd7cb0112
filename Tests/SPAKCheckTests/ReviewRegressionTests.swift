import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKSyntax
import SPAKTestSupport
import Testing

func check(_ source: String, path: String = "t.spak") -> [String] {
    let checked = Frontend.check(SourceFile(path: path, text: source))
    return checked.diagnostics.map { "\($0.code.id)@\($0.location)" }
}

/// Programs that an adversarial review found mishandled; each must now behave.
@Suite("Front-end regressions")
struct ReviewRegressionTests {
    @Test("on_fail in a step whose reply is checked (as json, schema:) can trigger: no W315")
    func checkedRepliesTriggerPolicies() {
        #expect(check("task t() {\n  step s {\n    llm.query(\"x\") -> r as json\n    on_fail retry s max 2\n  }\n}\n") == [])
        #expect(check("task t() {\n  step s {\n    llm.query(\"x\", schema: {type: \"object\"}) -> r\n    on_fail fail\n  }\n}\n") == [])
        #expect(check("task t() {\n  step s {\n    llm.query(\"x\") -> r\n    on_fail fail\n  }\n}\n") == ["W315@4:5"])
    }

    @Test("deeply nested template sections are refused, not a crash", arguments: [1_000, 5_000])
    func deepSections(depth: Int) {
        let template = String(repeating: "{{#a}}", count: depth) + String(repeating: "{{/a}}", count: depth)
        let found = check("task t(a: string = \"x\") {\n  step s {\n    llm.query(\"\(template)\") -> r\n  }\n}\n")
        #expect(found == ["E343@3:616"])  // at the section past the limit
    }

    @Test("recovery skips a broken statement's own braces and finds every later error")
    func recoveryAcrossBraces() {
        let source = """
            task t(x: int = 1) {
              step three {
                if x = 1 { let v = 2 }
                let w = 1
              }
              repeat i in 1..3 { step r { let k = 1 } }
              step four { let y = x +* 2 }
              let m = {a: 1, b 2}
              stpe five { let z = 1 }
              evaluation { metric m := 1 }
            }
            """
        let result = SPAKParser.parse(SourceFile(path: "t.spak", text: source))
        #expect(result.diagnostics.map { $0.location.line } == [3, 6, 7, 8, 9, 10])
        #expect(result.diagnostics[0].fixIts.first?.replacement == "==")
        #expect(result.diagnostics[1].fixIts.first?.replacement == "...")
        #expect(result.diagnostics[4].fixIts.first?.replacement == "step")
    }

    @Test("characters from other languages get repairs", arguments: [
        ("a && b", "and"), ("a || b", "or"), ("!a", "not "), ("'hi'", "\"hi\""),
    ])
    func foreignSyntax(expression: String, replacement: String) {
        let result = SPAKParser.parse(SourceFile(path: "t.spak", text: "task t() { step s { let x = \(expression) } }"))
        #expect(result.diagnostics.first?.fixIts.first?.replacement == replacement)
    }

    @Test("names inside a section over a plain value are checked")
    func sectionsOverPlainValues() {
        let found = check("""
            task t(name: string = "x") {
              step s {
                llm.query("Hi {{name}}. {{#feedback}}Rejected: {{feedbak}} {{name.first}}{{/feedback}} {{lowercsed(name)}}") -> reply
              }
            }
            """)
        #expect(found == ["E341@3:54", "E341@3:66", "E343@3:94"])
    }

    @Test("a value carried from one loop pass to the next is not a type error")
    func loopCarriedValue() {
        let found = check("""
            task t() {
              let best = null
              repeat i in 1...3 {
                step s {
                  if best != null { let prev = best.score }
                  llm.query("score as JSON") -> reply as json
                  let best = reply
                }
              }
            }
            """)
        #expect(found.isEmpty, "\(found)")
    }

    @Test("more than 1,000 warnings stay warnings: no error, and the checks still run")
    func manyWarnings() {
        let lines = (0..<1_100).map { "  step s\($0) {}" }.joined(separator: "\n")
        let checked = Frontend.check(SourceFile(path: "t.spak", text: "task t() {\n\(lines)\n}\n"))
        #expect(!checked.hasErrors)
        #expect(checked.bag.errorCount == 0 && checked.bag.suppressedErrors == 0)
    }

    @Test("obvious type errors that used to pass", arguments: [
        ("let x = len(1)", "E331"), ("let x = \"a\" == 1", "E331"), ("let x = 1.0e99999", "E334"),
        ("let x = 10 % 0", "E331"),
    ])
    func typeGaps(statement: String, id: String) {
        #expect(check("task t() { step s { \(statement) } }").first?.hasPrefix(id) == true)
    }

    @Test("every DiagnosticCode constant is in DiagnosticCode.all")
    func catalogComplete() throws {
        let source = try Repository.text("Sources/SPAKDiagnostics/DiagnosticCatalog.swift")
        let declared = source.split(separator: "\n").filter { $0.contains("static let") && $0.contains("= DiagnosticCode(\"") }
        #expect(declared.count == DiagnosticCode.all.count)
    }
}
