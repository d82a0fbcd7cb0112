import Foundation
import SPAKKernel
import SPAKTestSupport
import SPAKTrace
import Testing

@Suite("RunHistory")
struct RunHistoryTests {
    @Test("a fork's history is its parent's events before the fork point, then its own")
    func forkHistory() throws {
        let fixtures = try TraceFixtures()
        let parent = try fixtures.counter(["3", "-1", "4", "5"])
        let other = try fixtures.counter(["3", "2", "5"])
        try fixtures.fork(of: parent, at: 14, from: other, id: "child")
        let history = try RunHistory(RunStore.resolve("child", runsDirectory: fixtures.runsDir))
        #expect(history.segments.map(\.folder.id) == [parent, "child"])
        #expect(history.note == nil)
        let events = try history.events()
        #expect(events.compactMap(\.seq) == Array(0..<(events.count)))
        #expect(events[13].type == "var.bound")
        #expect(events[14].type == "run.forked")
        #expect(events[15].type == "step.started")
        // A grandchild forked from the child goes back through both.
        try fixtures.fork(of: "child", at: 20, from: "child", id: "grandchild")
        let chain = try RunHistory(RunStore.resolve("grandchild", runsDirectory: fixtures.runsDir))
        #expect(chain.segments.map(\.folder.id) == [parent, "child", "grandchild"])
        #expect(chain.segments.map(\.limit) == [14, 20, nil])
        let grandEvents = try chain.events()
        #expect(grandEvents.filter { $0.type == "run.forked" }.count == 2)
        #expect(grandEvents.prefix(14).map(\.fields) == (try history.events()).prefix(14).map(\.fields))
    }

    @Test("a fork whose parent is missing has only its own events and says where the rest is")
    func missingParent() throws {
        let fixtures = try TraceFixtures()
        let other = try fixtures.counter(["3", "2", "5"])
        try fixtures.fork(of: "gone-run", at: 14, from: other, id: "orphan")
        let history = try RunHistory(RunStore.resolve("orphan", runsDirectory: fixtures.runsDir))
        #expect(history.note == "the history before seq 14 is in run gone-run, which is missing")
        #expect(try history.events().first?.type == "run.forked")
    }

    @Test("a run that names itself as its ancestor is refused as corrupt")
    func cycle() throws {
        let fixtures = try TraceFixtures()
        let other = try fixtures.counter(["3", "2", "5"])
        try fixtures.fork(of: "loop", at: 14, from: other, id: "loop")
        #expect(throws: RecordError.self) { try RunHistory(RunStore.resolve("loop", runsDirectory: fixtures.runsDir)) }
    }

    @Test("a bad line before the last is corruption; a bad last line is a torn write")
    func reader() throws {
        let directory = try makeScratchDirectory()
        let torn = try write("{\"seq\":0,\"type\":\"a\"}\n{\"seq\":1,\"type\":\"b\"}\n{\"seq\":2,", to: "torn.jsonl", in: directory)
        #expect(try readAll(torn).map(\.type) == ["a", "b"])
        let damaged = try write("{\"seq\":0,\"type\":\"a\"}\n{oops\n{\"seq\":2,\"type\":\"c\"}\n", to: "bad.jsonl", in: directory)
        do {
            _ = try readAll(damaged)
            Issue.record("a damaged log was read")
        } catch {
            #expect(error.kind == .corrupt)
        }
        // Lines longer than one read chunk are put together.
        let long = String(repeating: "x", count: 200_000)
        let big = try write("{\"type\":\"a\",\"value\":\"\(long)\"}\n{\"type\":\"b\"}\n", to: "big.jsonl", in: directory)
        let events = try readAll(big)
        #expect(events.map(\.type) == ["a", "b"])
        #expect(events.first?.string("value")?.count == 200_000)
    }
}

/// Every event of a log, as the trace tools read it.
private func readAll(_ path: String) throws(RecordError) -> [TraceEvent] {
    let reader = try RecordedEventReader(path: path)
    var events: [TraceEvent] = []
    while let fields = try reader.next() { events.append(TraceEvent(fields)) }
    return events
}
