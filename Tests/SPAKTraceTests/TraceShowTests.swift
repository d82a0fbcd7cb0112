import Foundation
import SPAKKernel
import SPAKTestSupport
import Testing

@Suite("spak trace show")
struct TraceShowTests {
    static let program = """
        // A long prompt and a command, for the trace tools.
        task long_demo(topic: string = "owls") {
          system_model {
            allow tool.run "echo"
            budget tool.runs <= 5
            budget llm.calls <= 2
          }

          step ask {
            llm.query(\"\"\"
              Line one about {{topic}}.
              Line two.
              Line three.
              Line four.
              Line five, the last.
              \"\"\") -> reply
          }

          step check {
            tool.run("echo checking {{topic}}") -> result
          }

          evaluation {
            metric reply_length = len(reply)
          }
        }

        """

    static let answers = [
        #""First answer line\nsecond answer line\nthird\nfourth\nfifth""#,
        #"{"exit_code": 2, "stdout": "printed text\nsecond", "stderr": "oops"}"#,
    ]

    @Test("prompts and answers are folded to three lines; --full unfolds them and shows captured output")
    func folding() throws {
        let fixtures = try TraceFixtures()
        let program = try write(Self.program, to: "long.spak", in: fixtures.directory)
        let id = try fixtures.run(program, answers: Self.answers)
        let folded = fixtures.trace(["show", id])
        #expect(folded.status == 0, "\(folded.err)")
        #expect(folded.out.contains("""
            step ask #1  (
            """))
        #expect(folded.out.contains("/long.spak:10:5\n      prompt:\n"))
        #expect(folded.out.contains("""
                  prompt:
                  | Line one about owls.
                  | Line two.
                  | Line three.
                  | … (2 more lines)
                  answer (answers: 
            """))
        #expect(folded.out.contains("  | third\n      | … (2 more lines)\n"))
        #expect(!folded.out.contains("Line five"))
        #expect(folded.out.contains("/long.spak:20:5: echo checking owls\n      → exit 2 in "))
        #expect(folded.out.contains("; stdout 19 bytes, stderr 4 bytes"))
        #expect(!folded.out.contains("printed text"))
        #expect(!folded.out.contains("let reply"))
        #expect(folded.out.contains("budgets (spent of limit):\n  llm.calls: 1 of 2\n  tool.runs: 1 of 5\n"))
        #expect(folded.out.contains("metrics:\n  reply_length = 55\n"))
        #expect(folded.out.contains("counters:   2 steps, 1 llm call, 1 tool run, 33 tokens (33 estimated), "))

        let full = fixtures.trace(["show", id, "--full"])
        #expect(full.status == 0)
        #expect(full.out.contains("      | Line four.\n      | Line five, the last.\n"))
        #expect(full.out.contains("      | fourth\n      | fifth\n"))
        #expect(full.out.contains("      stdout:\n      | printed text\n      | second\n      stderr: oops\n"))
        #expect(full.out.contains("    let reply = \"First answer line\\nsecond"))
        #expect(!full.out.contains("more lines"))
    }

    @Test("a completed run: steps with outcomes, invariants, retries and the end")
    func completed() throws {
        let fixtures = try TraceFixtures()
        let id = try fixtures.counter(["3", "-1", "4", "5"])
        let out = fixtures.trace(["show", id]).out
        #expect(out.hasPrefix("run:        \(id)\ntask:       counter\nstatus:     completed\nparameters: n=3\n"))
        let steps = out.split(separator: "\n").filter { $0.hasPrefix("step ") }
            .map { $0.split(separator: " ").prefix(3).joined(separator: " ") }
        #expect(steps == ["step ask #1", "step save #1", "step ask #2", "step ask #3", "step save #2", "step ask #4", "step save #3"])
        #expect(out.contains("ms)  violated\n"))
        #expect(out.contains("    ✗ positive\n↻ retry → ask (attempt 1 of 2)\n  feedback: invariant `positive` (score > 0) does not hold"))
        #expect(out.contains("    ✓ positive\n"))
        #expect(out.contains("    tool.write #1 at Tests/Fixtures/kernel/counter.spak:15:7: out/item-1.txt (1 byte)\n"))
        #expect(out.contains("run completed\n"))
        #expect(out.contains("metrics:\n  items = 3\n  last = 5\n"))
    }

    @Test("a suspended run ends with the step it waits in and the request it waits for")
    func suspended() throws {
        let fixtures = try TraceFixtures()
        let id = try fixtures.counter(["3"], expecting: 3)
        let result = fixtures.trace(["show", id])
        #expect(result.status == 0)
        #expect(result.out.contains("status:     suspended\n"))
        #expect(result.out.contains("step ask #2  (waiting)\n    llm.query #2"))
        #expect(result.out.contains("waiting for an answer to llm.query #2 in step `ask` (Tests/Fixtures/kernel/counter.spak:10:7)\n"))
        #expect(result.out.contains("metrics (so far: over the variables of a run that has not completed):\n"))
    }

    @Test("a failed run shows the violations, the retries and why it failed")
    func failed() throws {
        let fixtures = try TraceFixtures()
        let id = try fixtures.counter(["3", "-1", "-2", "-3"], expecting: 1)
        let out = fixtures.trace(["show", id]).out
        #expect(out.contains("status:     failed\n"))
        #expect(out.contains("↻ retry → ask (attempt 2 of 2)\n"))
        #expect(out.contains("step ask #4  ("))
        #expect(out.contains("run failed in step `ask`: Tests/Fixtures/kernel/counter.spak:4:25: invariant `positive` (score > 0) "
                             + "does not hold after step `ask`; score = -3"))
    }

    @Test("a forked run is shown with its parent's history and where it forked")
    func fork() throws {
        let fixtures = try TraceFixtures()
        let parent = try fixtures.counter(["3", "-1", "4", "5"])
        let other = try fixtures.counter(["3", "2", "5"])
        try fixtures.fork(of: parent, at: 14, from: other, id: "child")
        let out = fixtures.trace(["show", "child"]).out
        #expect(out.contains("forked:     from \(parent) at ask#2 (seq 14)\n"))
        #expect(out.contains("step save #1"))
        #expect(out.contains("── forked from \(parent) at ask#2 (seq 14) ──\nstep ask #2"))
        #expect(out.contains("; 8 tokens, estimated): 2\n"))
    }

    @Test("a torn last line is skipped; an unknown run is exit 4")
    func tornAndUnknown() throws {
        let fixtures = try TraceFixtures()
        let id = try fixtures.counter(["3"], expecting: 3)
        let log = fixtures.runsDir + "/" + id + "/events.jsonl"
        let handle = try #require(FileHandle(forWritingAtPath: log))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"seq\":99,\"ty".utf8))
        try handle.close()
        #expect(fixtures.trace(["show", id]).status == 0)
        let unknown = fixtures.trace(["show", "nope"])
        #expect(unknown.status == 4)
        #expect(unknown.err.contains("no run `nope`"))
    }
}
