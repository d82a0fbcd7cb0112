import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKKernel
import SPAKTestSupport
import SPAKTrace
import Testing
@testable import SPAKImprove

/// Each rewrite rule on real runs made with `spak run`: when it applies, what it prints, and
/// that what it prints checks.
@Suite struct RewriteRuleTests {
    static let guess = """
        // Guesses until the model names the target.
        task guess(target: int = 3) {
          system_model {
            invariant right: n == target
            budget llm.calls <= 20
            budget wall_time <= 1h
          }

          step ask {
            llm.query("Pick a number.") -> reply // the model's pick
            let n = int(reply)
            on_fail retry ask max 1
          }

          evaluation {
            metric picked = n
            objective maximize picked
          }
        }

        """

    /// A program in a scratch folder, its runs with these answer lists, and the analysis.
    func context(_ program: String, runs: [[String]], templates: [String: String] = [:])
        throws -> (RewriteContext, directory: URL)
    {
        let directory = try makeScratchDirectory()
        for (path, text) in templates { _ = try write(text, to: path, in: directory) }
        let path = try write(program, to: "guess.spak", in: directory)
        let runsDir = directory.path + "/runs"
        for answers in runs {
            let file = try write(answers.map { "\"\($0)\"" }.joined(separator: "\n") + "\n", to: "answers-\(UUID().uuidString).jsonl", in: directory)
            let result = runSpak(["run", path, "--answers", file, "--runs-dir", runsDir])
            #expect(result.status == 0 || result.status == 1, "\(result.out)\(result.err)")
        }
        let ids = try FileManager.default.contentsOfDirectory(atPath: runsDir).sorted()
        let analysis = try RunAnalysis(ids, runsDirectory: runsDir)
        let checked = try Frontend.check(path: path)
        let draft = ProgramDraft(program: checked.parse.program, source: checked.parse.file, templates: templates)
        return (RewriteContext(draft: draft, analysis: analysis), directory)
    }

    /// The draft after the rewrites, printed, and checked in `directory`.
    func applied(_ rewrites: [Rewrite], to context: RewriteContext, in directory: URL) throws -> (text: String, templates: [String: String]) {
        var draft = context.draft
        for rewrite in rewrites { rewrite.apply(to: &draft) }
        let text = draft.printed()
        let folder = directory.appendingPathComponent("candidate")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (path, template) in draft.templates { _ = try write(template, to: path, in: folder) }
        let checked = Frontend.check(SourceFile(path: folder.path + "/guess.spak", text: text))
        #expect(!checked.hasErrors, "\(checked.diagnostics)")
        return (text, draft.templates)
    }

    @Test func aRetryBoundThatRunsUsedUpIsDoubled() throws {
        let (context, directory) = try context(Self.guess, runs: [["1", "2"], ["3"]])
        let rewrites = RaiseRetryBound().rewrites(context)
        try #require(rewrites.count == 1)
        #expect(rewrites[0].change == "step `ask`: `on_fail retry ask max 1` → `max 2` (1 of 2 runs failed after the last retry)")
        let (text, _) = try applied(rewrites, to: context, in: directory)
        #expect(text.contains("on_fail retry ask max 2\n"))
        #expect(text.contains("-> reply // the model's pick"), "comments are kept")
    }

    @Test func aBoundNoRunUsedUpIsLeftAlone() throws {
        let (context, _) = try context(Self.guess, runs: [["1", "3"], ["3"]])
        #expect(RaiseRetryBound().rewrites(context).isEmpty)
    }

    @Test func aRetriedInlinePromptThatHidesTheViolationGetsAFeedbackSection() throws {
        let (context, directory) = try context(Self.guess, runs: [["1", "3"]])
        let rewrites = ShowViolationInPrompt().rewrites(context)
        try #require(rewrites.count == 1)
        let (text, _) = try applied(rewrites, to: context, in: directory)
        #expect(text.contains("""
                llm.query(\"\"\"
                  Pick a number.{{#feedback}}

                  Your previous answer was rejected: {{feedback}}
                  Correct that in this answer.{{/feedback}}
                  \"\"\") -> reply // the model's pick
            """))
        // Applied again to its own output, the rule finds nothing to do.
        var draft = context.draft
        rewrites[0].apply(to: &draft)
        #expect(ShowViolationInPrompt().rewrites(RewriteContext(draft: draft, analysis: context.analysis)).isEmpty)
    }

    @Test func aTemplateFileGetsTheSectionInsteadOfTheProgram() throws {
        let program = Self.guess.replacingOccurrences(of: "llm.query(\"Pick a number.\")", with: "llm.query(template: \"ask.mustache\")")
        let (context, directory) = try context(program, runs: [["1", "3"]], templates: ["ask.mustache": "Pick a number.\n"])
        let rewrites = ShowViolationInPrompt().rewrites(context)
        try #require(rewrites.count == 1)
        #expect(rewrites[0].change.contains("the prompt in ask.mustache now shows `feedback`"))
        let (text, templates) = try applied(rewrites, to: context, in: directory)
        #expect(text == program, "the program itself is unchanged")
        #expect(templates["ask.mustache"] == "Pick a number." + ShowViolationInPrompt.section + "\n")
    }

    @Test func aQueryInsideAnIfOrInALaterStepOfTheRetryGetsTheSection() throws {
        let program = """
            task guess(target: int = 3, careful: bool = true) {
              system_model {
                invariant right: n == target
              }

              step prepare {
                let hint = "a number"
              }

              step ask {
                if careful {
                  llm.query("Pick {{hint}}.") -> reply
                } else {
                  llm.query("Pick.") -> reply
                }
                let n = int(reply)
                on_fail retry prepare max 1
              }
            }

            """
        let (context, directory) = try context(program, runs: [["1", "3"]])
        let rewrites = ShowViolationInPrompt().rewrites(context)
        #expect(rewrites.count == 2)
        let (text, _) = try applied(rewrites, to: context, in: directory)
        #expect(text.contains("Pick {{hint}}.{{#feedback}}") && text.contains("Pick.{{#feedback}}"), "\(text)")
    }

    @Test func aPromptThatAlreadyShowsFeedbackIsLeftAlone() throws {
        let program = Self.guess.replacingOccurrences(of: "\"Pick a number.\"", with: "\"Pick a number. {{feedback}}\"")
        let (context, _) = try context(program, runs: [["1", "3"]])
        #expect(ShowViolationInPrompt().rewrites(context).isEmpty)
    }

    @Test func budgetsNoRunCameNearAreTightened() throws {
        let (context, directory) = try context(Self.guess, runs: [["3"], ["3"]])
        let rewrites = TightenBudget().rewrites(context)
        let changes = rewrites.map(\.change)
        #expect(changes.contains("budget `llm.calls <= 20` → `<= 2` (the most any of 2 runs used: 1)"))
        #expect(changes.contains { $0.hasPrefix("budget `wall_time <= 1h` → `<= 1s` (the most any of 2 runs used: ") })
        let (text, _) = try applied(rewrites, to: context, in: directory)
        #expect(text.contains("budget llm.calls <= 2\n"))
        #expect(text.contains("budget wall_time <= 1s\n"))
    }

    @Test func noBudgetIsTightenedWhileRunsFail() throws {
        let (context, _) = try context(Self.guess, runs: [["3"], ["1", "2"]])
        #expect(TightenBudget().rewrites(context).isEmpty)
    }

    static let review = """
        task review(code: string = "print(1)", limit: int = 5) {
          system_model {
            invariant short_enough: size <= limit
          }

          step draft {
            llm.query("Review {{code}}.") -> notes
          }

          step measure {
            let size = len(code)
          }

          step save {
            tool.write("out/notes.txt", notes)
          }
        }

        """

    @Test func aFailingCheckMovesBeforeTheExpensiveStepItDoesNotNeed() throws {
        let (context, directory) = try context(Self.review, runs: [["fine"]])
        let rewrites = ChecksFirst().rewrites(context)
        try #require(rewrites.count == 1)
        #expect(rewrites[0].change
            == "step `measure` (no effects; violated 1 of 1 times) now runs before step `draft` (llm.query), whose bindings it does not read")
        let (text, _) = try applied(rewrites, to: context, in: directory)
        let measure = try #require(text.range(of: "step measure")), draft = try #require(text.range(of: "step draft"))
        #expect(measure.lowerBound < draft.lowerBound)
        // Run with no source of answers, the moved program fails the check (exit 1) instead of
        // waiting at the model's query first (exit 3).
        let program = try write(text, to: "moved.spak", in: directory)
        let run = runSpak(["run", program, "--runs-dir", directory.path + "/moved-runs"])
        #expect(run.status == 1 && run.out.contains("invariant `short_enough`"), "\(run.out)")
    }

    @Test func aMovedStepTakesTheCommentsAboveItAndTheBlankLinesStay() throws {
        let program = Self.review
            .replacingOccurrences(of: "  step draft {", with: "  // Ask the model for a review.\n  step draft {")
            .replacingOccurrences(of: "  step measure {", with: "  // Measure the input.\n  step measure { // cheap")
        let (context, directory) = try context(program, runs: [["fine"]])
        let rewrites = ChecksFirst().rewrites(context)
        try #require(rewrites.count == 1)
        let (text, _) = try applied(rewrites, to: context, in: directory)
        #expect(text.contains("""
              // Measure the input.
              step measure { // cheap
                let size = len(code)
              }

              // Ask the model for a review.
              step draft {
                llm.query("Review {{code}}.") -> notes
              }

              step save {
            """), "\(text)")
    }

    @Test func aCheckThatReadsTheExpensiveStepsResultStaysAfterIt() throws {
        let program = Self.review.replacingOccurrences(of: "let size = len(code)", with: "let size = len(notes)")
        let (context, _) = try context(program, runs: [["a long review"]])
        #expect(ChecksFirst().rewrites(context).isEmpty)
    }

    @Test func tightenBudgetIsTriedAloneAndOnlyWhenNothingElseApplies() {
        func rewrite(_ rule: String) -> Rewrite { Rewrite(rule: rule, change: rule) { _ in } }
        let sets = Improver.rewriteSets([rewrite("raise-retry-bound"), rewrite("tighten-budget"), rewrite("show-feedback")])
        #expect(sets.map { $0.map(\.rule) } == [["raise-retry-bound"], ["show-feedback"], ["raise-retry-bound", "show-feedback"]])
        let alone = Improver.rewriteSets([rewrite("tighten-budget"), rewrite("tighten-budget")])
        #expect(alone.map { $0.map(\.rule) } == [["tighten-budget"], ["tighten-budget"]])
    }

    @Test func rewritesOfSeveralRulesCombine() throws {
        let (context, directory) = try context(Self.guess, runs: [["1", "2"]])
        let rewrites = RewriteRules.all.flatMap { $0.rewrites(context) }
        #expect(rewrites.map(\.rule) == ["raise-retry-bound", "show-feedback"])
        let (text, _) = try applied(rewrites, to: context, in: directory)
        #expect(text.contains("on_fail retry ask max 2") && text.contains("{{#feedback}}"))
    }
}
