import SPAKCheck
import SPAKDiagnostics
import Testing

/// When invariants are checked: once before the first step (W317), or never (W318).
@Suite("Invariant timing")
struct InvariantTimingTests {
    /// A task with parameter `limit: int` and `flag: bool`, one invariant, and `body`.
    static func program(invariant: String, _ body: String) -> String {
        "task t(limit: int = 3, flag: bool = true) {\n  system_model {\n    invariant inv: \(invariant)\n  }\n\(body)\n}\n"
    }

    static func diagnostics(_ source: String) -> [Diagnostic] {
        Frontend.check(SourceFile(path: "t.spak", text: source)).diagnostics
    }

    static func place(_ diagnostic: Diagnostic, _ note: DiagnosticNote) -> String? {
        note.range.map { "\(diagnostic.file.location(of: $0.start))" }
    }

    @Test("an invariant over parameters and builtins that nothing binds: W317 with its note", arguments: [
        ("limit > 0", true), ("feedback == \"\" or limit > 1", true), ("feedback_kind != \"runtime_error\"", true),
        ("1 < 2", false), ("len(\"abc\") == 3", false),
    ])
    func checkedOnce(invariant: String, readsVariables: Bool) throws {
        let found = Self.diagnostics(Self.program(invariant: invariant, "  step s { let x = 1 }"))
        let diagnostic = try #require(found.first)
        #expect(found.count == 1)
        #expect(diagnostic.code.id == "W317" && diagnostic.location == SourceLocation(line: 3, column: 15))
        #expect(diagnostic.message == (readsVariables
            ? "invariant `inv` reads only task parameters and builtins, which the program never binds"
            : "invariant `inv` reads no variable"))
        #expect(diagnostic.notes.map(\.message) == ["it is checked once, before the first step, and a violation there fails the run at once"])
    }

    @Test("no W317 once the program binds one of the names, or reads a binding of its own", arguments: [
        ("limit > 0", "  step s { let limit = 4 }", ["W303@5:16"]),
        ("limit > 0", "  repeat limit in 1...2 { step s { let x = 1 } }", ["W303@5:10"]),
        ("x <= limit", "  step s { let x = 1 }", []),
        ("flag and x > 0", "  step s { let x = 1 }", []),
    ])
    func notCheckedOnce(invariant: String, body: String, expected: [String]) {
        #expect(check(Self.program(invariant: invariant, body)) == expected)
    }

    @Test("two variables bound only in exclusive branches of an `if` that runs once: W318 with notes at the bindings")
    func neverChecked() throws {
        let found = Self.diagnostics(Self.program(invariant: "quick == thorough", """
              if flag {
                step a { llm.query("fast") -> quick }
              } else {
                step b { llm.query("slow") -> thorough }
              }
            """))
        let diagnostic = try #require(found.first)
        #expect(found.count == 1)
        #expect(diagnostic.code.id == "W318" && diagnostic.location == SourceLocation(line: 3, column: 15))
        #expect(diagnostic.message == "invariant `inv` can never be checked: `quick` and `thorough` are never bound in the same run")
        #expect(diagnostic.notes.map(\.message) == [
            "`quick` is bound here", "`thorough` is bound here, in another branch",
            "nothing runs that `if` a second time (no `repeat` around it, no `on_fail retry` back over it), "
                + "so the invariant never has all its values",
        ])
        #expect(diagnostic.notes.map { Self.place(diagnostic, $0) } == ["6:35", "8:35", nil])
    }

    @Test("W318 wherever the bindings exclude each other", arguments: [
        // else if: the second and third branches of one chain
        "  if flag { let a = 1 } else if limit > 2 { let b = 2 } else { let a = 3 }",
        // nested: each binding of `a` is in the outer branch that `b` is not in
        "  if flag { if limit > 1 { let a = 1 } else { let a = 2 } } else { step s { let b = 1 } }",
        // a loop variable bound in a branch
        "  if flag { repeat a in 1...2 { step s { let x = a } } } else { let b = 1 }",
        // a retry inside one branch re-runs that branch's step, never the `if`
        "  if flag {\n    step s { let a = 1\n on_fail retry s max 2 }\n  } else { let b = 1 }",
        // a retry back to a step before the `if`, but from a step before it too
        "  step first { let x = 1 }\n  step second { let y = x\n on_fail retry first max 2 }\n  if flag { let a = 1 } else { let b = 1 }",
    ])
    func neverCheckedCases(body: String) {
        #expect(check(Self.program(invariant: "a < b", body)).filter { $0.hasPrefix("W318") } == ["W318@3:15"])
    }

    @Test("no W318 where both may be bound in one run", arguments: [
        // the same branch
        "  if flag { let a = 1\n let b = 2 }",
        // one of them also bound outside the `if`
        "  if flag { let a = 1 } else { let b = 2 }\n  let a = 3",
        // the inner `if` is inside the branch that also binds `b`
        "  if flag { let b = 0\n if limit > 1 { let a = 1 } else { let b = 2 } }",
        // a loop runs the `if` again
        "  repeat i in 1...2 { if i == 1 { let a = 1 } else { let b = 2 } }",
        // a loop around the step that holds the `if`
        "  repeat i in 1...2 { step s { if i == 1 { let a = 1 } else { let b = 2 } } }",
        // the step holding the `if` retries itself
        "  step s {\n    if flag { let a = 1 } else { let b = 2 }\n    on_fail retry s max 2\n  }",
        // a later step retries back over the `if`
        "  step first { let x = 1 }\n  if flag { let a = 1 } else { let b = 1 }\n  step last { let y = x\n on_fail retry first max 2 }",
        // a step inside one branch retries back to a step before the `if`
        "  step first { let x = 1 }\n  if flag { step s { let a = x\n on_fail retry first max 2 } } else { let b = 1 }",
        // two separate `if`s: both may take the branch that binds
        "  if flag { let a = 1 }\n  if limit > 1 { let b = 2 }",
        // `b` is bound before the `if` as well
        "  let b = 0\n  if flag { let a = 1 } else { let b = 2 }",
    ])
    func mayBeChecked(body: String) {
        #expect(check(Self.program(invariant: "a < b", body)).filter { $0.hasPrefix("W318") } == [])
    }

    @Test("a parameter read beside a binding is always bound: no W318")
    func parametersAlwaysBound() {
        let body = "  if flag { let a = 1 } else { let limit = 2 }"
        #expect(check(Self.program(invariant: "a < limit", body)).filter { $0.hasPrefix("W318") } == [])
    }

    @Test("of three variables, the pair that excludes each other is named")
    func threeVariables() throws {
        let source = Self.program(invariant: "a + b + c > 0", "  let a = 1\n  if flag { let b = 2 } else { let c = 3 }")
        let diagnostic = try #require(Self.diagnostics(source).first)
        #expect(diagnostic.message == "invariant `inv` can never be checked: `b` and `c` are never bound in the same run")
    }
}
