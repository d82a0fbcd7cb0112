import Foundation
import SPAKKernel
import SPAKTestSupport
import Testing

/// Real runs for the trace tests, made with `spak run` in a scratch folder.
struct TraceFixtures {
    let directory: URL
    var runsDir: String { directory.path + "/runs" }

    init() throws { directory = try makeScratchDirectory() }

    /// Runs counter.spak (n = 3) with these answers; returns the run's id.
    func counter(_ answers: [String], expecting status: Int32 = 0) throws -> String {
        try run(Repository.path("Tests/Fixtures/kernel/counter.spak"), answers: answers.map { "\"\($0)\"" },
                parameters: ["n=3"], expecting: status)
    }

    /// Runs a program with answers (JSON lines); returns the new run's id.
    func run(_ program: String, answers: [String], parameters: [String] = [], expecting status: Int32 = 0) throws -> String {
        let before = Set(ids())
        let file = try write(answers.joined(separator: "\n") + "\n", to: "answers-\(UUID().uuidString).jsonl", in: directory)
        let result = runSpak(["run", program, "--answers", file, "--runs-dir", runsDir] + parameters.flatMap { ["--param", $0] })
        #expect(result.status == status, "\(result.out)\(result.err)")
        return try #require(Set(ids()).subtracting(before).first)
    }

    func ids() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: runsDir)) ?? [] }

    /// The events of a run's log.
    func events(_ id: String) throws -> [[String: Value]] {
        let text = try String(contentsOfFile: runsDir + "/" + id + "/events.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { try JSON.parse(String($0)).fields }
    }

    /// Makes a forked run by hand, the way `spak fork` records one: a copy of `source`'s
    /// folder whose run.json names `parent` and whose log starts at seq `seq` with a
    /// `run.forked` event, followed by `source`'s events from `seq` on (one seq later).
    func fork(of parent: String, at seq: Int, from source: String, id: String) throws {
        let folder = runsDir + "/" + id
        try FileManager.default.copyItem(atPath: runsDir + "/" + source, toPath: folder)
        var info = try JSON.parse(String(contentsOfFile: folder + "/run.json", encoding: .utf8)).fields
        info["id"] = .string(id)
        info["fork"] = .map(["parent": .string(parent), "at": .string("ask#2"), "seq": .int(seq)])
        try (JSON.serialize(.map(info)) + "\n").write(toFile: folder + "/run.json", atomically: true, encoding: .utf8)
        var lines = [JSON.serialize(.map(["type": .string("run.forked"), "seq": .int(seq), "time": .float(1),
                                          "parent": .string(parent), "at": .string("ask#2")]))]
        for var event in try events(source) {
            guard case .int(let old)? = event["seq"], old >= seq else { continue }
            event["seq"] = .int(old + 1)
            lines.append(JSON.serialize(.map(event)))
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder + "/events.jsonl", atomically: true, encoding: .utf8)
    }

    /// `spak trace …` against this scratch folder's runs.
    func trace(_ arguments: [String]) -> (status: Int32, out: String, err: String) {
        runSpak(["trace"] + arguments + ["--runs-dir", runsDir])
    }
}
