import SPAKCheck
import SPAKDiagnostics
import Testing

/// `on_fail retry` may only go back: E312 catches every target that does not come before the
/// retrying step (or is it) in the same or an enclosing block.
@Suite("Retry targets")
struct RetryTargetTests {
    /// The line and column of the step name after `retry ` in a program with one retry.
    static func targetLocation(_ source: String) throws -> String {
        let range = try #require(source.range(of: "on_fail retry "))
        let before = source[..<range.upperBound]
        let line = before.count { $0 == "\n" } + 1
        let column = before.distance(from: before.lastIndex(of: "\n").map(before.index(after:)) ?? before.startIndex,
                                     to: before.endIndex) + 1
        return "\(line):\(column)"
    }

    @Test("a target that does not come before the step: E312 at the target, with a note at the step", arguments: [
        // later in the same block
        "step a { let x = 1\n on_fail retry b max 2 }\nstep b { let y = 2 }",
        // later in the same loop body
        "repeat i in 1...2 {\n  step a { let x = i\n on_fail retry b max 2 }\n  step b { let y = 2 }\n}",
        // in an enclosing block, after the loop
        "repeat i in 1...2 {\n  step a { let x = i\n on_fail retry b max 2 }\n}\nstep b { let y = 2 }",
        // in an enclosing block, after the `if`
        "if true {\n  step a { let x = 1\n on_fail retry b max 2 }\n}\nstep b { let y = 2 }",
        // in the sibling `else` branch
        "if true {\n  step a { let x = 1\n on_fail retry b max 2 }\n} else {\n  step b { let y = 2 }\n}",
        // in the sibling `then` branch, from `else`
        "if true {\n  step b { let y = 2 }\n} else {\n  step a { let x = 1\n on_fail retry b max 2 }\n}",
        // in another branch of an `else if` chain
        "if false {\n  step b { let y = 2 }\n} else if true {\n  step a { let x = 1\n on_fail retry b max 2 }\n}",
        // a step inside a later loop
        "step a { let x = 1\n on_fail retry b max 2 }\nrepeat i in 1...2 {\n  step b { let y = i }\n}",
        // a step inside an earlier loop, whose body has ended
        "repeat i in 1...2 {\n  step b { let y = i }\n}\nstep a { let x = 1\n on_fail retry b max 2 }",
        // a step inside an earlier `if`, whose branch has ended
        "if true {\n  step b { let y = 2 }\n}\nstep a { let x = 1\n on_fail retry b max 2 }",
        // a step inside a later `if`, inside a loop
        "repeat i in 1...2 {\n  step a { let x = i\n on_fail retry b max 2 }\n  if i > 1 { step b { let y = i } }\n}",
        // from deep inside, to a later step of an enclosing block
        "repeat i in 1...2 {\n  if i > 1 {\n    step a { let x = i\n on_fail retry b max 2 }\n  }\n}\nstep b { let y = 2 }",
    ])
    func forward(body: String) throws {
        let source = "task t() {\n  system_model { invariant ok: x > 0 }\n\(body)\n}\n"
        let found = Frontend.check(SourceFile(path: "t.spak", text: source)).diagnostics
        let diagnostic = try #require(found.first)
        #expect(found.map(\.code.id) == ["E312"])
        #expect("\(diagnostic.location)" == (try Self.targetLocation(source)))
        #expect(diagnostic.message == "`retry b` must go back to this step or an earlier one in the same or an enclosing block")
        #expect(diagnostic.notes.map(\.message) == ["step `b` is defined here"])
    }

    @Test("a target at or before the step, in the same or an enclosing block: no E312", arguments: [
        // the step itself
        "step a { let x = 1\n on_fail retry a max 2 }",
        // earlier in the same block
        "step b { let y = 2 }\nstep a { let x = 1\n on_fail retry b max 2 }",
        // earlier in the enclosing block, from inside a loop
        "step b { let y = 2 }\nrepeat i in 1...2 {\n  step a { let x = i\n on_fail retry b max 2 }\n}",
        // earlier in the enclosing loop body, from inside an `if`
        "repeat i in 1...2 {\n  step b { let y = i }\n  if i > 1 { step a { let x = i\n on_fail retry b max 2 } }\n}",
    ])
    func backward(body: String) {
        let source = "task t() {\n  system_model { invariant ok: x > 0 }\n\(body)\n}\n"
        #expect(check(source) == [])
    }
}
