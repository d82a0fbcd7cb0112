import Foundation
import SPAKTestSupport
import Testing
@testable import SPAKKernel

/// Answers like a model server: with counted tokens, attempts and details; or fails.
struct ServerLikeAnswers: AnswerSource {
    var replies: [String]
    var failure: AnswerFailure?

    mutating func answer(_ request: PendingRequest, answersUsed: inout Int) throws(AnswerFailure) -> Answer? {
        if let failure { throw failure }
        guard !replies.isEmpty else { return nil }
        var answer = Answer(value: .string(replies.removeFirst()), answeredBy: "server")
        answer.usage = TokenUsage(prompt: 7, completion: 3)
        answer.attempts = [.map(["attempt": .int(1), "outcome": .string("http 503")]), .map(["attempt": .int(2), "outcome": .string("ok")])]
        answer.details = ["backend": .string("openai"), "latency_ms": .float(12.5), "attempts": .int(2)]
        return answer
    }
}

@Suite("What the record keeps of each answer")
struct AnswerRecordTests {
    @Test("counted tokens are used for budgets and metrics, with each call's latency and attempts")
    func countedTokens() throws {
        let scratch = try makeScratchDirectory()
        let twoQueries = { (budget: Int) in
            "task t() {\n  system_model { budget llm.tokens <= \(budget) }\n"
                + "  step a { llm.query(\"one\") -> r1 }\n  step b { llm.query(\"two\") -> r2 }\n}\n"
        }
        let machine = try startRun(twoQueries(25), in: scratch)
        var answers = ServerLikeAnswers(replies: ["x", "y"])
        #expect(try machine.run(answers: &answers) == .completed)
        #expect(machine.state.counters.tokens == 20 && machine.state.counters.estimatedTokens == 0)
        let log = try events(machine)
        #expect(log.filter { $0["type"] == .string("effect.attempt") }.map { $0["index"] } == [.int(0), .int(0), .int(1), .int(1)])
        let answered = try #require(log.first { $0["type"] == .string("effect.answered") })
        #expect(answered["usage"] == TokenUsage(prompt: 7, completion: 3).value)
        let metrics = try JSON.parse(String(contentsOfFile: machine.folderPath + "/metrics.json", encoding: .utf8)).fields
        #expect(metrics["counters"]?.fields["tokens_estimated"] == .bool(false))
        let llm = try #require(metrics["llm"]?.fields)
        #expect(llm["prompt_tokens"] == .int(14) && llm["completion_tokens"] == .int(6) && llm["latency_ms"] == .float(25))
        guard case .list(let calls)? = llm["calls"] else { Issue.record("no calls"); return }
        #expect(calls.map { $0.fields["step"] } == [.string("a"), .string("b")])
        #expect(calls[0].fields["attempts"] == .int(2) && calls[0].fields["backend"] == .string("openai"))

        let again = try startRun(twoQueries(15), in: scratch)
        var more = ServerLikeAnswers(replies: ["x", "y"])
        guard case .failed(let reason) = try again.run(answers: &more) else { Issue.record("not failed"); return }
        #expect(reason.contains("budget `llm.tokens <= 15` exceeded (used: 20)"))
    }

    @Test("answers nobody counted get estimated tokens, and the metrics say so")
    func estimatedTokens() throws {
        let scratch = try makeScratchDirectory()
        let machine = try startRun("task t() {\n  step a { llm.query(\"12345678\", system: \"abcd\") -> r }\n}\n", in: scratch)
        var answers = ScriptedAnswers(replies: ["1234"])
        #expect(try machine.run(answers: &answers) == .completed)
        #expect(machine.state.counters.tokens == 4 && machine.state.counters.estimatedTokens == 4)
        let answered = try #require(try events(machine).first { $0["type"] == .string("effect.answered") })
        #expect(answered["usage"] == TokenUsage(prompt: 3, completion: 1, estimated: true).value)
        let metrics = try JSON.parse(String(contentsOfFile: machine.folderPath + "/metrics.json", encoding: .utf8)).fields
        #expect(metrics["counters"]?.fields["tokens_estimated"] == .bool(true))
    }

    @Test("a reply that breaks its schema is an invariant-style failure that on_fail retry handles")
    func schema() throws {
        let scratch = try makeScratchDirectory()
        let machine = try startRun("""
            task t() {
              step rate {
                llm.query("Rate it. {{feedback}}", schema: {type: "object", required: ["score"],
                  properties: {score: {type: "integer", minimum: 1, maximum: 10}}}) -> rating as json
                on_fail retry rate max 2
              }
              evaluation { metric score = rating.score }
            }
            """, in: scratch)
        var answers = ScriptedAnswers(replies: ["not json", #"{"score": 11}"#, #"{"score": 8}"#])
        #expect(try machine.run(answers: &answers) == .completed)
        #expect(machine.finalMetrics == ["score": .int(8)])
        let retries = try events(machine).filter { $0["type"] == .string("retry") }.compactMap { $0["feedback"]?.textIfString }
        #expect(retries.count == 2)
        #expect(retries[0].contains("is not JSON, as its `schema:` requires"))
        #expect(retries[1] == "the reply to llm.query does not match its `schema:`: $.score: expected at most 10, found 11")
        let prompts = try events(machine).filter { $0["type"] == .string("effect.requested") }
            .compactMap { $0["request"]?.fields["prompt"]?.textIfString }
        #expect(prompts[2].contains("expected at most 10"))
    }

    @Test("a reply that breaks its schema fails a step without a retry policy")
    func schemaWithoutRetry() throws {
        let scratch = try makeScratchDirectory()
        let machine = try startRun("task t() {\n  step s { llm.query(\"x\", schema: {type: \"array\"}) -> r }\n}\n", in: scratch)
        var answers = ScriptedAnswers(replies: ["{}"])
        guard case .failed(let reason) = try machine.run(answers: &answers) else { Issue.record("not failed"); return }
        #expect(reason.contains("$: expected an array, found an object {}"))
    }

    @Test("a source that gives up leaves its attempts and its reason in the record, and the run suspended")
    func unanswered() throws {
        let scratch = try makeScratchDirectory()
        let machine = try startRun("task t() {\n  step s { llm.query(\"x\") -> r }\n}\n", in: scratch)
        var answers = ServerLikeAnswers(replies: [], failure: AnswerFailure("server down", attempts: [.map(["attempt": .int(1)])]))
        #expect {
            try machine.run(answers: &answers)
        } throws: { error in
            (error as? RecordError)?.kind == .unanswered && "\(error)".contains("server down; the run stays suspended")
        }
        let reopened = try RunStore.open(machine.folderPath, runsDirectory: scratch.path, workspace: nil)
        guard case .suspended = reopened.machine.state.status else { Issue.record("not suspended"); return }
        let log = try events(reopened.machine)
        #expect(log.contains { $0["type"] == .string("effect.attempt") && $0["index"] == .int(0) })
        #expect(log.contains { $0["type"] == .string("effect.unanswered") && $0["reason"] == .string("server down") })
    }
}
