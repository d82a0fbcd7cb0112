import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKTestSupport
import Testing
@testable import SPAKKernel

/// Answers from a list, in order; then suspends.
struct ScriptedAnswers: AnswerSource {
    var replies: [String]
    mutating func answer(_ request: PendingRequest, answersUsed: inout Int) throws(AnswerFailure) -> Answer? {
        guard answersUsed < replies.count else { return nil }
        answersUsed += 1
        return Answer(value: .string(replies[answersUsed - 1]), answeredBy: "script")
    }
}

func startRun(_ source: String, parameters: [String: Value]? = nil, in scratch: URL) throws -> Machine {
    let path = try write(source, to: "program.spak", in: scratch)
    let checked = try Frontend.check(path: path)
    #expect(!checked.hasErrors, "\(checked.diagnostics.map(\.message))")
    let values = try parameters ?? Parameters.resolve([], for: checked.parse.program.task!)
    return try RunStore.start(checked, parameters: values, runsDirectory: scratch.appendingPathComponent("runs").path,
                              workspace: nil).machine
}

func events(_ machine: Machine) throws -> [[String: Value]] {
    let text = try String(contentsOfFile: machine.folderPath + "/events.jsonl", encoding: .utf8)
    return try text.split(separator: "\n").map { try JSON.parse(String($0)).fields }
}

@Suite("The step machine")
struct MachineTests {
    @Test("a retry carries the violation as feedback, then the run completes with its metrics")
    func retryWithFeedback() throws {
        let scratch = try makeScratchDirectory()
        let machine = try startRun(try Repository.text("Tests/Fixtures/kernel/counter.spak"), in: scratch)
        var answers = ScriptedAnswers(replies: ["3", "0", "4", "5"])
        let stop = try machine.run(answers: &answers)
        guard case .suspended(let pending) = stop else { Issue.record("expected a suspension, got \(stop)"); return }
        #expect(pending.index == 7)  // tool.write effects have indices too
        let log = try events(machine)
        let retry = try #require(log.first { $0["type"] == .string("retry") })
        #expect(retry["feedback"]?.textIfString?.contains("score = 0") == true)
        // The prompt after the retry shows the feedback.
        let prompts = log.filter { $0["type"] == .string("effect.requested") && $0["effect"] == .string("llm.query") }
            .compactMap { $0["request"]?.fields["prompt"]?.textIfString }
        #expect(prompts[2].contains("Previous problem: invariant `positive`"))
        #expect(!prompts[0].contains("Previous problem"))
    }

    @Test("all answers given: completed, with metrics, trace and workspace files")
    func completes() throws {
        let scratch = try makeScratchDirectory()
        let machine = try startRun(try Repository.text("Tests/Fixtures/kernel/counter.spak"), in: scratch)
        var answers = ScriptedAnswers(replies: ["1", "2", "3", "4", "5"])
        #expect(try machine.run(answers: &answers) == .completed)
        #expect(machine.finalMetrics == ["last": .int(5), "items": .int(5)])
        let metrics = try JSON.parse(String(contentsOfFile: machine.folderPath + "/metrics.json", encoding: .utf8)).fields
        #expect(metrics["counters"]?.fields["llm_calls"] == .int(5))
        #expect(metrics["counters"]?.fields["steps"] == .int(10))
        #expect(try String(contentsOfFile: machine.folderPath + "/workspace/out/item-3.txt", encoding: .utf8) == "3")
        let trace = try JSON.parse(String(contentsOfFile: machine.folderPath + "/trace.json", encoding: .utf8)).fields
        #expect(trace["format"] == .string("spak-trace"))
        if case .list(let traced)? = trace["events"] { #expect(traced.count == (try events(machine)).count) }
    }

    @Test("retries past the bound fail the run with the reason recorded")
    func retriesExhausted() throws {
        let scratch = try makeScratchDirectory()
        let machine = try startRun(try Repository.text("Tests/Fixtures/kernel/counter.spak"), in: scratch)
        var answers = ScriptedAnswers(replies: ["0", "0", "0"])
        guard case .failed(let reason) = try machine.run(answers: &answers) else { Issue.record("did not fail"); return }
        #expect(reason.contains("retried 2 times (max 2)"))
        #expect(try events(machine).last?["type"] == .string("run.failed"))
    }

    @Test("budgets end the run with a recorded reason")
    func budget() throws {
        let scratch = try makeScratchDirectory()
        let source = """
            task t() {
              system_model { budget llm.calls <= 2 }
              repeat i in 1...5 {
                step ask { llm.query("q {{i}}") -> r }
              }
            }
            """
        let machine = try startRun(source, in: scratch)
        var answers = ScriptedAnswers(replies: ["a", "b", "c", "d", "e"])
        guard case .failed(let reason) = try machine.run(answers: &answers) else { Issue.record("did not fail"); return }
        #expect(reason.contains("budget `llm.calls <= 2` exceeded"))
        #expect(try events(machine).contains { $0["type"] == .string("budget.exceeded") })
    }

    @Test("single steps pause between steps; a suspended run resumes where it waited")
    func stepping() throws {
        let scratch = try makeScratchDirectory()
        let machine = try startRun(try Repository.text("Tests/Fixtures/kernel/counter.spak"), parameters: ["n": .int(1)], in: scratch)
        var none = SuspendForPerson()
        guard case .suspended(let pending) = try machine.run(answers: &none, singleStep: true) else { Issue.record("no suspension"); return }
        #expect(pending.effect == "llm.query" && pending.index == 0)
        #expect(FileManager.default.fileExists(atPath: machine.folderPath + "/pending/prompt.md"))
        #expect(try machine.resume(with: Answer(value: .string("9"), answeredBy: "test"), answers: &none, singleStep: true) == .paused)
        #expect(machine.state.counters.steps == 1)
        #expect(!FileManager.default.fileExists(atPath: machine.folderPath + "/pending/prompt.md"))
        #expect(try machine.run(answers: &none, singleStep: true) == .paused)
        #expect(try machine.run(answers: &none) == .completed)
    }

    @Test("as json: a reply that is not JSON is a violation the policy handles")
    func invalidJSON() throws {
        let scratch = try makeScratchDirectory()
        let source = """
            task t() {
              system_model { invariant ok: data.ok }
              step ask {
                llm.query("give JSON {{feedback}}") -> data as json
                on_fail retry ask max 1
              }
            }
            """
        let machine = try startRun(source, in: scratch)
        var answers = ScriptedAnswers(replies: ["not json", "{\"ok\": true}"])
        #expect(try machine.run(answers: &answers) == .completed)
        let prompts = try events(machine).filter { $0["type"] == .string("effect.requested") }
        #expect(prompts.count == 2)
        #expect(prompts[1]["request"]?.fields["prompt"]?.textIfString?.contains("is not JSON") == true)
    }

    @Test("tool.run without --live suspends with the argument vector; a hand-written result binds")
    func simulatedToolRun() throws {
        let scratch = try makeScratchDirectory()
        let source = """
            task t(file: string = "my file.py") {
              system_model { allow tool.run "python3" }
              step verify {
                tool.run("python3 -m harness verify {{file}} --json") -> result as json
              }
              evaluation { metric ok = result.ok }
            }
            """
        let machine = try startRun(source, in: scratch)
        var none = SuspendForPerson()
        guard case .suspended(let pending) = try machine.run(answers: &none) else { Issue.record("no suspension"); return }
        #expect(pending.request.fields["argv"] == .list(["python3", "-m", "harness", "verify", "my file.py", "--json"].map(Value.string)))
        let result = #"{"exit_code": 0, "stdout": "{\"ok\": true}"}"#
        #expect(try machine.resume(with: Answer(value: .string(result), answeredBy: "test"), answers: &none) == .completed)
        #expect(machine.finalMetrics["ok"] == .bool(true))
    }

    @Test("tool.read and tool.write stay inside the workspace", arguments: ["../escape.txt", "/etc/passwd", "a/../../b"])
    func confinement(path: String) throws {
        let scratch = try makeScratchDirectory()
        let machine = try startRun("task t() { step s { tool.write(\"\(path)\", \"x\") } }", in: scratch)
        var none = SuspendForPerson()
        guard case .failed(let reason) = try machine.run(answers: &none) else { Issue.record("not refused"); return }
        #expect(reason.contains("tool.write"))
    }

    @Test("a symbolic link out of the workspace is refused")
    func symlinkEscape() throws {
        let scratch = try makeScratchDirectory()
        let machine = try startRun("task t() { step s { tool.read(\"link/secret.txt\") -> x } }", in: scratch)
        try FileManager.default.createSymbolicLink(atPath: machine.folderPath + "/workspace/link", withDestinationPath: "/etc")
        var none = SuspendForPerson()
        guard case .failed(let reason) = try machine.run(answers: &none) else { Issue.record("not refused"); return }
        #expect(reason.contains("symbolic link"))
    }
}

@Suite("Run-time rules")
struct RunTimeRuleTests {
    @Test("an invariant waits until every variable it reads is bound, and only what a step did bind counts")
    func invariantsOnWhatWasBound() throws {
        let scratch = try makeScratchDirectory()
        let source = """
            task t(fast: bool = true) {
              system_model {
                invariant ordered: a < b
                invariant short: len(detail) < 100
              }
              step one { let a = 1 }
              step two {
                if fast { let b = 2 } else { llm.query("detail") -> detail }
              }
            }
            """
        let machine = try startRun(source, in: scratch)
        var none = SuspendForPerson()
        #expect(try machine.run(answers: &none) == .completed)
        let checked = try events(machine).filter { $0["type"] == .string("invariant.checked") }.compactMap { $0["name"]?.textIfString }
        #expect(checked == ["ordered"])
    }

    @Test("the token budget is held after each reply, too")
    func tokenBudget() throws {
        let scratch = try makeScratchDirectory()
        let machine = try startRun("task t() {\n  system_model { budget llm.tokens <= 10 }\n  step s { llm.query(\"hi\") -> r }\n}\n", in: scratch)
        var answers = ScriptedAnswers(replies: [String(repeating: "word ", count: 40)])
        guard case .failed(let reason) = try machine.run(answers: &answers) else { Issue.record("not failed"); return }
        #expect(reason.contains("llm.tokens"))
    }

    @Test("a command no allow line admits is refused at run time, even one built from a template")
    func allowAtRunTime() throws {
        let scratch = try makeScratchDirectory()
        let source = """
            task t(prog: string = "rm") {
              system_model { allow tool.run "python3 -m harness" }
              step s { tool.run("{{prog}} -rf /") -> r }
            }
            """
        let machine = try startRun(source, in: scratch)
        var none = SuspendForPerson()
        guard case .failed(let reason) = try machine.run(answers: &none) else { Issue.record("not refused"); return }
        #expect(reason.contains("no allow line admits it"))
        #expect(!FileManager.default.fileExists(atPath: machine.folderPath + "/pending/prompt.md"))
    }

    @Test("until, lists and tool.read")
    func flow() throws {
        let scratch = try makeScratchDirectory()
        let source = """
            task t() {
              let total = 0
              repeat item in [3, 4, 5, 6] until total > 6 {
                step add { let total = total + item }
              }
              step read {
                tool.write("n.txt", str(total))
                tool.read("n.txt") -> text
              }
              evaluation {
                metric total = total
                metric text = text
                metric last = item
              }
            }
            """
        let machine = try startRun(source, in: scratch)
        var none = SuspendForPerson()
        #expect(try machine.run(answers: &none) == .completed)
        #expect(machine.finalMetrics == ["total": .int(7), "text": .string("7"), "last": .int(4)])
    }
}
