import Foundation
import SPAKKernel
import SPAKTestSupport
import Testing

@Suite("spak trace diff")
struct TraceDiffTests {
    @Test("two runs that differ in one answer part at that answer, in the right step")
    func differingAnswer() throws {
        let fixtures = try TraceFixtures()
        let a = try fixtures.counter(["3", "-1", "4", "5"])
        let b = try fixtures.counter(["3", "2", "5"])
        let result = fixtures.trace(["diff", a, b])
        #expect(result.status == 1, "\(result.err)")
        #expect(result.out.contains("runs part at event seq 16 of A / seq 16 of B, in step `ask` #2\n"))
        #expect(result.out.contains("  A: effect.answered {\"effect\":\"llm.query\",\"index\":2,\"result\":\"-1\"}\n"))
        #expect(result.out.contains("    - -1\n    + 2\n"))
        // The table starts at the step the runs parted in and aligns the rest by position.
        let table = result.out.components(separatedBy: "steps from there on").last ?? ""
        let rows = table.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().prefix { !$0.isEmpty }
        #expect(rows.first?.hasPrefix("≠ ask #2  violated") == true)
        #expect(rows.first?.contains("| ask #2  completed") == true)
        #expect(rows.last?.hasSuffix("| —") == true)
        #expect(result.out.contains("  steps: 7 → 6 (-1)\n"))
        #expect(result.out.contains("  llm_calls: 4 → 3 (-1)\n"))
    }

    @Test("--json says where the runs part, as one parseable object")
    func json() throws {
        let fixtures = try TraceFixtures()
        let a = try fixtures.counter(["3", "-1", "4", "5"])
        let b = try fixtures.counter(["3", "2", "5"])
        let result = fixtures.trace(["diff", a, b, "--json"])
        #expect(result.status == 1)
        let document = try JSON.parse(result.out).fields
        #expect(document["format"] == .string("spak-trace-diff"))
        #expect(document["version"] == .int(1))
        #expect(document["identical"] == .bool(false))
        #expect(document["compared"] == .int(16))
        #expect(document["a"]?.fields["run"] == .string(a))
        let first = try #require(document["first_difference"]?.fields)
        #expect(first["a"]?.fields["result"] == .string("-1"))
        #expect(first["b"]?.fields["result"] == .string("2"))
        #expect(first["a"]?.fields["seq"] == .int(16))
        #expect(first["step"]?.fields["a"] == .map(["name": .string("ask"), "occurrence": .int(2)]))
        guard case .list(let steps)? = document["steps"] else { Issue.record("no steps"); return }
        #expect(steps.count == 5)
        #expect(steps.first?.fields["a"]?.fields["outcome"] == .string("violated"))
        #expect(steps.last?.fields["b"] == .null)
        #expect(document["metrics"]?.fields["last"] == .map(["a": .int(5), "b": .int(5), "delta": .int(0)]))
        #expect(document["counters"]?.fields["steps"]?.fields["delta"] == .int(-1))
        // Keys are sorted, so the output is stable byte for byte.
        #expect(result.out == JSON.serialize(try JSON.parse(result.out)) + "\n")
    }

    @Test("two runs with the same answers do not differ, times and answer files aside")
    func identical() throws {
        let fixtures = try TraceFixtures()
        let a = try fixtures.counter(["3", "-1", "4", "5"])
        let b = try fixtures.counter(["3", "-1", "4", "5"])
        let result = fixtures.trace(["diff", a, b])
        #expect(result.status == 0, "\(result.out)\(result.err)")
        #expect(result.out.hasSuffix("runs \(a) and \(b) do not differ (50 events compared)\n"))
        let json = try JSON.parse(fixtures.trace(["diff", a, b, "--json"]).out).fields
        #expect(json["identical"] == .bool(true))
        #expect(json["first_difference"] == .null)
    }

    @Test("a run that stops early parts where it ends, with nothing on its side")
    func shorterRun() throws {
        let fixtures = try TraceFixtures()
        let done = try fixtures.counter(["3", "2", "5"])
        let waiting = try fixtures.counter(["3"], expecting: 3)
        let result = fixtures.trace(["diff", done, waiting, "--json"])
        #expect(result.status == 1)
        let first = try #require(try JSON.parse(result.out).fields["first_difference"]?.fields)
        #expect(first["a"]?.fields["type"] == .string("effect.answered"))
        #expect(first["b"] == .null)
        let text = fixtures.trace(["diff", done, waiting]).out
        #expect(text.contains("  B: run B ends here (suspended)\n"))
        #expect(text.contains("≠ ask #2  completed"))
        #expect(text.contains("| ask #2  unfinished\n"))
    }

    @Test("a forked run shares its parent's events up to the fork point")
    func fork() throws {
        let fixtures = try TraceFixtures()
        let parent = try fixtures.counter(["3", "-1", "4", "5"])
        let other = try fixtures.counter(["3", "2", "5"])
        // The child goes on from step ask #2 (seq 14) the way `other` did.
        try fixtures.fork(of: parent, at: 14, from: other, id: "child")
        let result = fixtures.trace(["diff", parent, "child", "--json"])
        #expect(result.status == 1, "\(result.err)")
        let document = try JSON.parse(result.out).fields
        #expect(document["compared"] == .int(16))
        let first = try #require(document["first_difference"]?.fields)
        #expect(first["a"]?.fields["seq"] == .int(16))
        #expect(first["b"]?.fields["seq"] == .int(17))
        #expect(first["b"]?.fields["result"] == .string("2"))
        // The child and the run it copies do not differ: the fork event is circumstantial.
        #expect(fixtures.trace(["diff", other, "child"]).status == 0)
    }

    @Test("a fork whose parent is gone is compared on its own events, with a note")
    func missingParent() throws {
        let fixtures = try TraceFixtures()
        let parent = try fixtures.counter(["3", "-1", "4", "5"])
        let other = try fixtures.counter(["3", "2", "5"])
        try fixtures.fork(of: parent, at: 14, from: other, id: "child")
        try FileManager.default.removeItem(atPath: fixtures.runsDir + "/" + parent)
        let result = fixtures.trace(["diff", other, "child"])
        #expect(result.status == 1)
        #expect(result.out.contains("note: run B: the history before seq 14 is in run \(parent), which is missing\n"))
        #expect(result.out.contains("runs part at event seq 0 of A / seq 15 of B"))
    }

    @Test("an unknown run is exit 4; a damaged log is exit 4; a missing argument is usage")
    func errors() throws {
        let fixtures = try TraceFixtures()
        let a = try fixtures.counter(["3", "2", "5"])
        let unknown = fixtures.trace(["diff", a, "nope"])
        #expect(unknown.status == 4)
        #expect(unknown.err.contains("no run `nope`"))
        #expect(fixtures.trace(["diff", a]).status == 2)
        let b = try fixtures.counter(["3", "2", "5"])
        let log = fixtures.runsDir + "/" + b + "/events.jsonl"
        var lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[3] = "{not json"
        try (lines.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        let damaged = fixtures.trace(["diff", a, b])
        #expect(damaged.status == 4)
        #expect(damaged.err.contains("is corrupted at byte"))
    }
}
