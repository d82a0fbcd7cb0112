import Foundation
import Testing
@testable import SPAKKernel

@Suite("Line diffs")
struct LineDiffTests {
    @Test("equal texts have no difference")
    func equal() {
        #expect(LineDiff.unified(from: "a\nb\n", to: "a\nb\n").isEmpty)
        #expect(LineDiff.firstChangedLine(from: "a\nb", to: "a\nb") == nil)
    }

    @Test("a changed line is shown with its context and located")
    func changedLine() {
        let old = (1...10).map { "line \($0)" }.joined(separator: "\n")
        let new = old.replacingOccurrences(of: "line 6", with: "line six")
        #expect(LineDiff.unified(from: old, to: new) == "  …\n  line 4\n  line 5\n- line 6\n+ line six\n  line 7\n  line 8\n  …\n")
        #expect(LineDiff.firstChangedLine(from: old, to: new) == 6)
    }

    @Test("inserted and removed lines align on what the texts share")
    func insertions() {
        let lines = LineDiff.lines(from: "a\nb\nc\nd", to: "a\nx\nb\nd")
        #expect(lines == [.same("a"), .added("x"), .same("b"), .removed("c"), .same("d")])
    }

    @Test("texts too large to align are shown as removed, then added")
    func tooLarge() {
        let lines = LineDiff.lines(from: "a\nb\nc", to: "x\ny", limit: 1)
        #expect(lines == [.removed("a"), .removed("b"), .removed("c"), .added("x"), .added("y")])
    }
}

@Suite("Comparing events")
struct EventComparisonTests {
    static let events: [[String: Value]] = [
        ["type": .string("step.started"), "seq": .int(1), "time": .float(1.5), "step": .string("ask")],
        ["type": .string("step.started"), "seq": .int(9), "time": .float(7.25), "step": .string("ask")],
        ["type": .string("step.started"), "seq": .int(1), "time": .float(1.5), "step": .string("save")],
        ["type": .string("effect.answered"), "index": .int(0), "result": .string("3"), "answered_by": .string("stdin")],
        ["type": .string("effect.answered"), "index": .int(0), "result": .string("3"), "answered_by": .string("answers: a#1"),
         "usage": .map(["total_tokens": .int(2)])],
        ["type": .string("effect.answered"), "index": .int(0), "result": .string("4")],
        ["type": .string("effect.answered"), "index": .int(0)],
    ]

    @Test("comparing in place agrees with comparing essences, for every pair")
    func sameEssenceAgrees() {
        for a in Self.events {
            for b in Self.events {
                #expect(EventComparison.sameEssence(a, b) == (EventComparison.essence(of: a) == EventComparison.essence(of: b)))
            }
        }
        #expect(EventComparison.sameEssence(Self.events[0], Self.events[1]))
        #expect(EventComparison.sameEssence(Self.events[3], Self.events[4]))
        #expect(!EventComparison.sameEssence(Self.events[3], Self.events[5]))
        #expect(!EventComparison.sameEssence(Self.events[5], Self.events[6]))
    }

    @Test("events about how answers arrived have no essence")
    func circumstantial() {
        #expect(EventComparison.essence(of: ["type": .string("run.resumed"), "index": .int(0)]) == nil)
        #expect(!EventComparison.isEssential(["type": .string("effect.attempt")]))
        #expect(EventComparison.isEssential(["type": .string("var.bound")]))
    }
}

@Suite("Snapshot index")
struct SnapshotIndexTests {
    @Test("the snapshot before STEP#N is found by binary search, and a crash's records are cut back")
    func lastRecordBefore() throws {
        let folder = RunFolder(path: FileManager.default.temporaryDirectory.appendingPathComponent("spak-snap-\(UUID())").path)
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder.path) }
        let log = SnapshotLog(folder: folder, stepNames: ["ask", "save"])
        var state = MachineState(parameters: [:])
        // Snapshots before ask#1, ask#2 … ask#40 (save has begun once fewer), every 100 bytes of log.
        for n in 0..<40 {
            state.counters.stepTimes["ask", default: .init()].starts = n
            state.counters.stepTimes["save", default: .init()].starts = max(0, n - 1)
            log.take(state, programHash: "h", eventCount: n * 7, logLength: n * 100)
        }
        try log.flush()
        #expect(SnapshotLog.recordCount(in: folder, stepCount: 2) == 40)
        for n in 1...40 {
            let record = try #require(try SnapshotLog.lastRecord(before: n, ofStep: 0, in: folder, stepCount: 2))
            #expect(record.starts[0] == n - 1)
            #expect(try SnapshotLog.snapshot(record, in: folder).counters.stepTimes["ask"]?.starts == n - 1)
        }
        #expect(try SnapshotLog.lastRecord(before: 1, ofStep: 1, in: folder, stepCount: 2)?.logLength == 100)
        // After a crash the log is cut back to 1,000 bytes: later records go.
        try SnapshotLog.truncate(folder, stepCount: 2, toLogLength: 1000)
        #expect(SnapshotLog.recordCount(in: folder, stepCount: 2) == 11)
        let last = try SnapshotLog.record(at: 10, in: folder, stepCount: 2)
        #expect(SnapshotLog.size(of: folder.snapshotsFile) == last.end)
    }
}

@Suite("Fork points")
struct ForkPointTests {
    @Test("STEP and STEP#N read; anything else is refused")
    func parse() throws {
        #expect(try Fork.Point("ask").occurrence == nil)
        #expect(try Fork.Point("ask#12").description == "ask#12")
        for bad in ["", "#2", "ask#0", "ask#", "ask#two", "ask#1#2"] {
            #expect(throws: RecordError.self) { try Fork.Point(bad) }
        }
    }
}

@Suite("Cassette keys")
struct CassetteKeyTests {
    @Test("a key depends on the request's content only, not on the order of its fields")
    func key() {
        let a = Cassette.key(effect: "llm.query", request: .map(["prompt": .string("hi"), "temperature": .int(0)]))
        let b = Cassette.key(effect: "llm.query", request: .map(["temperature": .int(0), "prompt": .string("hi")]))
        #expect(a == b && a.hasPrefix("sha256:") && a.count == 71)
        #expect(a != Cassette.key(effect: "tool.run", request: .map(["prompt": .string("hi"), "temperature": .int(0)])))
        #expect(a != Cassette.key(effect: "llm.query", request: .map(["prompt": .string("hi!"), "temperature": .int(0)])))
    }
}
