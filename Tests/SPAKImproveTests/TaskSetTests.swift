import Foundation
import SPAKKernel
import SPAKTestSupport
import Testing
@testable import SPAKImprove

/// Reading task sets: what they hold, and a message naming the place for each mistake.
@Suite struct TaskSetTests {
    func taskSet(_ text: String) throws -> TaskSet {
        let directory = try makeScratchDirectory()
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("ws"), withIntermediateDirectories: true)
        return try TaskSet(path: try write(text, to: "tasks.json", in: directory))
    }

    func problem(_ text: String) throws -> String {
        do {
            _ = try taskSet(text)
        } catch {
            return "\(error)".replacingOccurrences(of: #"^.*tasks\.json"#, with: "tasks.json", options: .regularExpression)
        }
        Issue.record("accepted: \(text)")
        return ""
    }

    @Test func tasksWithEachKindOfAnswerSource() throws {
        let set = try taskSet("""
            {"repeats": 3, "tasks": [
              {"name": "a", "params": {"limit": 20, "words": ["x", "y"]}, "responder": "python3 model.py"},
              {"name": "b", "cassette": "answers.jsonl", "workspace": "ws", "live": true},
              {"name": "c", "backend": true}]}
            """)
        #expect(set.repeats == 3)
        #expect(set.cases.map(\.name) == ["a", "b", "c"])
        #expect(set.cases[0].parameters.map { "\($0.0)=\($0.1)" } == ["limit=20", #"words=["x","y"]"#])
        #expect(set.cases[0].answers == .responder("python3 model.py"))
        #expect(set.cases[1].answers == .cassette(set.directory + "/answers.jsonl"))
        #expect(set.cases[1].workspace == set.directory + "/ws" && set.cases[1].live)
        #expect(set.usesBackend)
    }

    @Test func repeatsDefaultToTwo() throws {
        #expect(try taskSet(#"{"tasks": [{"name": "a", "backend": true}]}"#).repeats == 2)
    }

    @Test func mistakesAreNamedWithTheTask() throws {
        #expect(try problem("[1]") == "tasks.json: a task set is a JSON object with `tasks`")
        #expect(try problem(#"{"tasks": []}"#) == "tasks.json: `tasks` is a non-empty list of tasks")
        #expect(try problem(#"{"task": []}"#) == "tasks.json: unknown field `task` (a task set has `repeats` and `tasks`)")
        #expect(try problem(#"{"repeats": 0, "tasks": [{"name": "a", "backend": true}]}"#)
            == "tasks.json: `repeats` is a whole number from 1 to 100")
        #expect(try problem(#"{"tasks": [{"name": "a"}]}"#)
            == "tasks.json: task 1 (`a`): give exactly one of `responder`, `cassette` and `backend: true`")
        #expect(try problem(#"{"tasks": [{"name": "a", "backend": true, "responder": "x"}]}"#)
            == "tasks.json: task 1 (`a`): give exactly one of `responder`, `cassette` and `backend: true`")
        #expect(try problem(#"{"tasks": [{"name": "a", "backend": true}, {"name": "a", "backend": true}]}"#)
            == "tasks.json: task 2: the name `a` is used twice")
        #expect(try problem(#"{"tasks": [{"name": "a b", "backend": true}]}"#)
            == "tasks.json: task 1: `name` is a non-empty string of letters, digits, `-`, `_` and `.`")
        #expect(try problem(#"{"tasks": [{"name": "a", "backend": true, "workspace": "nowhere"}]}"#)
            == "tasks.json: task 1 (`a`): the workspace nowhere is not a folder")
        #expect(try problem(#"{"tasks": [{"name": "a", "backend": true, "param": {}}]}"#).hasPrefix(
            "tasks.json: task 1: unknown field `param` (a task has `backend`, `cassette`,"))
        #expect(try problem("{").hasPrefix("tasks.json: not JSON: "))
    }
}
