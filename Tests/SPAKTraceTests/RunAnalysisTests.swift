import Foundation
@testable import SPAKCommands
import SPAKKernel
import SPAKTestSupport
@testable import SPAKTrace
import Testing

@Suite("spak analyze")
struct RunAnalysisTests {
    /// A completed run: item 2 is answered -1 once (one retry), then 4.
    static let retried = ["3", "-1", "4", "5"]
    /// A failed run: item 2 is answered 0 three times, which exhausts `max 2`.
    static let exhausted = ["3", "0", "0", "0"]

    /// `spak analyze` through the command type, against the fixtures' runs folder.
    static func analyze(_ arguments: [String], in fixtures: TraceFixtures) throws -> (status: SPAKCommands.ExitStatus, out: String, err: String) {
        let capture = CapturedIO()
        let command = try AnalyzeCommand.parse(arguments + ["--runs-dir", fixtures.runsDir])
        let status = command.execute(io: capture.io)
        return (status, capture.out, capture.err)
    }

    /// The `total_tokens` of every llm.query answer in a run's own log.
    static func tokens(_ id: String, in fixtures: TraceFixtures) throws -> Int {
        try fixtures.events(id).filter { $0["type"] == .string("effect.answered") && $0["effect"] == .string("llm.query") }
            .reduce(0) { $0 + TraceEvent($1["usage"]?.fields ?? [:]).int("total_tokens")! }
    }

    @Test("one failed run: counts per step, the invariant's values, retries, the reason and the prompts before failures")
    func failedRun() throws {
        let fixtures = try TraceFixtures()
        let id = try fixtures.counter(Self.exhausted, expecting: 1)
        let analysis = try RunAnalysis([id], runsDirectory: fixtures.runsDir)
        #expect(analysis.task == "counter")
        #expect(analysis.runs == [id])
        #expect(analysis.programVersions == 1)
        #expect(analysis.steps.map(\.name) == ["ask", "save"])
        let ask = analysis.steps[0]
        #expect(ask.runs == [id])
        #expect((ask.occurrences, ask.completed, ask.violated, ask.unfinished) == (4, 1, 3, 0))
        #expect(ask.failureRate == 0.75)
        #expect(ask.invariants["positive"] == .init(count: 3, examples: ["score = 0"]))
        #expect(ask.otherViolations.count == 0)
        #expect(ask.retries == .init(used: 2, bound: 2, boundHits: 1, exhaustedRuns: [id]))
        #expect(ask.llmCalls == 4)
        #expect(ask.tokens == (try Self.tokens(id, in: fixtures)))
        #expect(ask.estimatedTokens == ask.tokens)
        #expect(ask.timedOccurrences == 4 && ask.totalMS > 0)
        #expect(ask.failurePrompts.map(\.occurrence) == [2, 3, 4])
        #expect(ask.failurePrompts.allSatisfy { $0.run == id })
        #expect(ask.failurePrompts[0].prompt == "Give a score for item 2. ")
        #expect(ask.failurePrompts[1].prompt.hasPrefix("Give a score for item 2. Previous problem: invariant `positive`"))
        let save = analysis.steps[1]
        #expect((save.occurrences, save.completed, save.violated) == (1, 1, 0))
        #expect(save.llmCalls == 0 && save.tokens == 0)
        #expect(analysis.summary.statuses == ["failed": 1])
        #expect(analysis.summary.llmCalls == 4)
        #expect(analysis.summary.tokens == ask.tokens)
        #expect(analysis.summary.activeSeconds > 0)
        #expect(analysis.failures.count == 1)
        #expect(analysis.failures.first?.reason
            == "Tests/Fixtures/kernel/counter.spak:4:25: invariant `positive` (score > 0) does not hold after step `ask`; score = 0; "
            + "step `ask` was retried 2 times (max 2)")
        #expect(analysis.failures.first?.runs == [id])
        #expect(analysis.budgets == [.init(name: "llm.calls", limit: 40, runs: 1, maxUsed: 4, meanUsed: 4, exceeded: 0)])
    }

    @Test("two runs are added up: examples of both values, retries, statuses and budgets")
    func twoRuns() throws {
        let fixtures = try TraceFixtures()
        let a = try fixtures.counter(Self.retried)
        let b = try fixtures.counter(Self.exhausted, expecting: 1)
        let analysis = try RunAnalysis([a, b], runsDirectory: fixtures.runsDir)
        #expect(analysis.runs == [a, b])
        let ask = try #require(analysis.steps.first { $0.name == "ask" })
        #expect(ask.runs == [a, b])
        #expect((ask.occurrences, ask.completed, ask.violated) == (8, 4, 4))
        #expect(ask.invariants["positive"] == .init(count: 4, examples: ["score = -1", "score = 0"]))
        #expect(ask.retries == .init(used: 3, bound: 2, boundHits: 1, exhaustedRuns: [b]))
        #expect(ask.tokens == (try Self.tokens(a, in: fixtures)) + (try Self.tokens(b, in: fixtures)))
        // At most three prompts per step, in the order the runs were given.
        #expect(ask.failurePrompts.map { "\($0.run)#\($0.occurrence)" } == ["\(a)#2", "\(b)#2", "\(b)#3"])
        let save = try #require(analysis.steps.first { $0.name == "save" })
        #expect((save.occurrences, save.completed, save.violated, save.runs.count) == (4, 4, 0, 2))
        #expect(analysis.summary.statuses == ["completed": 1, "failed": 1])
        #expect(analysis.summary.llmCalls == 8)
        #expect(analysis.failures.map(\.runs) == [[b]])
        let calls = try #require(analysis.budgets.first)
        #expect((calls.name, calls.limit, calls.runs, calls.maxUsed, calls.meanUsed, calls.exceeded) == ("llm.calls", 40, 2, 4, 4, 0))
    }

    @Test("the text report: a header, the step table, details for violated steps, budgets, failures, totals")
    func text() throws {
        let fixtures = try TraceFixtures()
        let a = try fixtures.counter(Self.retried)
        let b = try fixtures.counter(Self.exhausted, expecting: 1)
        let result = try Self.analyze([a, b], in: fixtures)
        #expect(result.status == .success, "\(result.err)")
        let out = result.out
        #expect(out.hasPrefix("task:      counter\nruns:      2 (1 completed, 1 failed)\nprograms:  1 version\n\n"))
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let head = try #require(lines.firstIndex { $0.hasPrefix("step ") && $0.contains("mean ms") })
        #expect(lines[head].hasPrefix("step  runs  times  violated  fail %  retries  at max  tokens  mean ms"))
        #expect(lines[head + 1].hasPrefix("ask      2      8         4   50.0%        3       1"))
        #expect(lines[head + 2].hasPrefix("save     2      4         0    0.0%        0       0       0"))
        #expect(out.contains("""

            step `ask`: violated 4 of 8 times (50.0%)
              invariant `positive`: failed 4 times
                score = -1
                score = 0
              retries: 3 used (max 2), the bound reached 1 time; failed after the last retry: \(b)
              prompts before failures:
                run \(a), ask #2:
                  | Give a score for item 2.\u{20}
                run \(b), ask #2:

            """))
        #expect(!out.contains("step `save`:"))
        #expect(out.contains("budget     limit  max used  mean used  exceeded\nllm.calls     40         4          4    0 of 2\n"))
        #expect(out.contains("failures:\n  1 run: Tests/Fixtures/kernel/counter.spak:4:25: invariant `positive` (score > 0) "
            + "does not hold after step `ask`; score = 0; st…\n    (\(b))\n"))
        #expect(out.contains("\ntotals:    "))
        #expect(out.contains(", 8 llm calls, 0 tool runs, "))
    }

    @Test("a fork given with its parent counts only its own events; alone, it counts its parent's before the fork")
    func forkAndParent() throws {
        let fixtures = try TraceFixtures()
        let parent = try fixtures.counter(Self.exhausted, expecting: 1)
        let answers = try write("\"2\"\n\"5\"\n", to: "fork-answers.jsonl", in: fixtures.directory)
        let before = Set(fixtures.ids())
        let forked = runSpak(["fork", parent, "--at", "ask#2", "--answers", answers, "--runs-dir", fixtures.runsDir])
        #expect(forked.status == 0, "\(forked.out)\(forked.err)")
        let child = try #require(Set(fixtures.ids()).subtracting(before).first)

        let both = try RunAnalysis([parent, child], runsDirectory: fixtures.runsDir)
        let ask = try #require(both.steps.first { $0.name == "ask" })
        // The parent's 4 occurrences, then the child's own: ask #2 and ask #3 (item 3).
        #expect((ask.occurrences, ask.completed, ask.violated) == (6, 3, 3))
        #expect(ask.runs == [parent, child])
        #expect(ask.retries.used == 2)
        #expect(ask.invariants["positive"]?.count == 3)
        #expect(both.steps.first { $0.name == "save" }?.occurrences == 3)
        #expect(both.summary.llmCalls == 6)
        #expect(both.summary.statuses == ["completed": 1, "failed": 1])

        // The order the runs are given in does not change what is counted.
        let reversed = try RunAnalysis([child, parent], runsDirectory: fixtures.runsDir)
        #expect(reversed.steps.first { $0.name == "ask" }?.occurrences == 6)
        #expect(reversed.summary.llmCalls == 6)

        // Alone, the fork counts its history: the parent's ask #1 and save #1, then its own.
        let alone = try RunAnalysis([child], runsDirectory: fixtures.runsDir)
        let aloneAsk = try #require(alone.steps.first { $0.name == "ask" })
        #expect((aloneAsk.occurrences, aloneAsk.violated) == (3, 0))
        #expect(alone.steps.first { $0.name == "save" }?.occurrences == 3)
        #expect(alone.summary.llmCalls == 3)

        // A run given twice counts once, with a note.
        let twice = try RunAnalysis([parent, parent], runsDirectory: fixtures.runsDir)
        #expect(twice.runs == [parent])
        #expect(twice.steps.first?.occurrences == 4)
        #expect(twice.notes == ["run \(parent) was given more than once; it is counted once"])
    }

    @Test("runs of program versions of one task are analyzed together; budgets run out are counted")
    func programVersions() throws {
        let fixtures = try TraceFixtures()
        let original = try Repository.text("Tests/Fixtures/kernel/counter.spak")
        let tight = try write(original.replacingOccurrences(of: "budget llm.calls <= 40", with: "budget llm.calls <= 2"),
                              to: "tight/counter.spak", in: fixtures.directory)
        let a = try fixtures.counter(["3", "4", "5"])
        let b = try fixtures.run(tight, answers: ["\"3\"", "\"4\"", "\"5\""], parameters: ["n=3"], expecting: 1)
        let analysis = try RunAnalysis([a, b], runsDirectory: fixtures.runsDir)
        #expect(analysis.programVersions == 2)
        #expect(analysis.budgets == [.init(name: "llm.calls", limit: 40, runs: 2, maxUsed: 3, meanUsed: 2.5, exceeded: 1)])
        #expect(analysis.failures.map(\.reason) == ["budget `llm.calls <= 2` exceeded (used: 3)"])
        #expect(analysis.text.contains("programs:  2 versions (the runs ran different versions of the program)\n"))
    }

    @Test("a suspended run's step in progress counts as begun but unfinished")
    func suspended() throws {
        let fixtures = try TraceFixtures()
        let id = try fixtures.counter(["3"], expecting: 3)
        let analysis = try RunAnalysis([id], runsDirectory: fixtures.runsDir)
        let ask = try #require(analysis.steps.first)
        #expect((ask.occurrences, ask.completed, ask.violated, ask.unfinished) == (2, 1, 0, 1))
        #expect(ask.meanMS != nil)
        #expect(analysis.summary.statuses == ["suspended": 1])
        #expect(analysis.failures.isEmpty)
        #expect(analysis.text.hasPrefix("task:      counter\nruns:      1 (1 suspended)\n"))
    }

    @Test("--json is one object, keys sorted, with the documented fields")
    func json() throws {
        let fixtures = try TraceFixtures()
        let a = try fixtures.counter(Self.retried)
        let b = try fixtures.counter(Self.exhausted, expecting: 1)
        let result = try Self.analyze([a, b, "--json"], in: fixtures)
        #expect(result.status == .success, "\(result.err)")
        let document = try JSON.parse(result.out)
        #expect(result.out == JSON.serialize(document) + "\n")
        let fields = document.fields
        #expect(Set(fields.keys) == ["format", "version", "task", "runs", "program_versions", "program_hashes", "steps",
                                     "step_order", "runs_summary", "budgets", "failures"])
        #expect(fields["format"] == .string("spak-analysis"))
        #expect(fields["version"] == .int(1))
        #expect(fields["task"] == .string("counter"))
        #expect(fields["runs"] == .list([.string(a), .string(b)]))
        #expect(fields["program_versions"] == .int(1))
        #expect(fields["step_order"] == .list([.string("ask"), .string("save")]))
        let ask = try #require(fields["steps"]?.fields["ask"]?.fields)
        #expect(Set(ask.keys) == ["runs", "occurrences", "completed", "violated", "unfinished", "failure_rate", "invariants",
                                  "other_violations", "retries", "tokens", "estimated_tokens", "llm_calls", "tool_runs",
                                  "duration_ms", "failure_prompts"])
        #expect(ask["violated"] == .int(4))
        #expect(ask["invariants"] == .map(["positive": .map(["count": .int(4), "examples": .list([.string("score = -1"), .string("score = 0")])])]))
        #expect(ask["retries"] == .map(["used": .int(3), "bound": .int(2), "bound_hits": .int(1), "exhausted_runs": .list([.string(b)])]))
        guard case .list(let prompts)? = ask["failure_prompts"] else { Issue.record("no failure_prompts"); return }
        #expect(prompts.first == .map(["run": .string(a), "occurrence": .int(2), "prompt": .string("Give a score for item 2. ")]))
        #expect(fields["steps"]?.fields["save"]?.fields["retries"]?.fields["bound"] == .null)
        let summary = try #require(fields["runs_summary"]?.fields)
        #expect(Set(summary.keys) == ["runs", "statuses", "tokens", "estimated_tokens", "llm_calls", "tool_runs", "active_seconds"])
        #expect(summary["runs"] == .int(2))
        #expect(summary["statuses"] == .map(["completed": .int(1), "failed": .int(1)]))
        #expect(summary["llm_calls"] == .int(8))
        let budget = try #require(fields["budgets"]?.fields["llm.calls"]?.fields)
        #expect(Set(budget.keys) == ["limit", "runs", "max_used", "mean_used", "exceeded"])
        guard case .list(let failures)? = fields["failures"] else { Issue.record("no failures"); return }
        #expect(failures.first?.fields["count"] == .int(1))
        #expect(failures.first?.fields["runs"] == .list([.string(b)]))
    }

    @Test("runs of different tasks are refused (exit 2); no runs is a usage error")
    func mixedTasks() throws {
        let fixtures = try TraceFixtures()
        let counter = try fixtures.counter(["3", "4", "5"])
        let hello = try fixtures.run(Repository.path("examples/hello.spak"), answers: ["\"Hello!\""])
        let result = try Self.analyze([counter, hello], in: fixtures)
        #expect(result.status == .usageOrIO)
        #expect(result.out.isEmpty)
        #expect(result.err.contains("the runs are of different programs, `counter` (1 run), `hello` (1 run)"), "\(result.err)")
        #expect(throws: (any Error).self) { try AnalyzeCommand.parse([]) }
        #expect(throws: RecordError.self) { try RunAnalysis([TracedRun]()) }
    }

    @Test("an unknown run or a damaged record exits 4")
    func unusable() throws {
        let fixtures = try TraceFixtures()
        let id = try fixtures.counter(["3", "4", "5"])
        let unknown = try Self.analyze([id, "no-such-run"], in: fixtures)
        #expect(unknown.status == .runUnusable)
        #expect(unknown.err.contains("no run `no-such-run`"))
        // A line that does not parse before another is damage, not a torn last line.
        let log = fixtures.runsDir + "/" + id + "/events.jsonl"
        var lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[3] = "{not json"
        try (lines.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        let damaged = try Self.analyze([fixtures.runsDir + "/" + id], in: fixtures)
        #expect(damaged.status == .runUnusable, "\(damaged.out)\(damaged.err)")
    }
}
