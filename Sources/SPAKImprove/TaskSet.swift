import Foundation
import SPAKKernel

/// The tasks a program is measured on: a JSON file of parameter sets, each answered by a
/// responder, a cassette, or the model backend, run `repeats` times. Paths in it are
/// relative to the file's folder, and responders run there.
///
/// ```json
/// {"repeats": 2,
///  "tasks": [{"name": "small", "params": {"limit": 10}, "responder": "python3 model.py"},
///            {"name": "live", "params": {"limit": 50}, "backend": true, "live": true, "workspace": "ws"}]}
/// ```
public struct TaskSet: Sendable {
    /// One parameter set and where its answers come from.
    public struct Case: Sendable {
        /// Unique within the set.
        public let name: String
        /// Parameter values as `--param NAME=VALUE` takes them.
        public let parameters: [(String, String)]
        /// Where `llm.query` (and, without `live`, `tool.run`) answers come from.
        public let answers: AnswerSpec
        /// A folder copied afresh as each trial's workspace (absolute), or `nil` for the run's own.
        public let workspace: String?
        /// Whether `tool.run` commands execute (as `--live`).
        public let live: Bool
    }

    /// Where a task's answers come from.
    public enum AnswerSpec: Sendable, Equatable {
        /// A command that reads the request's JSON and prints the answer (as `--responder`).
        case responder(String)
        /// A cassette played back (absolute path); a request it lacks fails the trial.
        case cassette(String)
        /// The model backend `spak improve` was given (`--backend …`).
        case backend
    }

    /// The folder paths are relative to, and responders run in (absolute).
    public let directory: String
    /// Runs of each candidate on each task (at least 1); the spread between them is the noise.
    public let repeats: Int
    /// The tasks, in file order.
    public let cases: [Case]

    /// Reads and checks a task set file.
    public init(path: String) throws(ImproveError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImproveError("cannot read the task set \(path)")
        }
        let root: Value
        do { root = try JSON.parse(bytes: Array(data)) } catch {
            throw ImproveError("\(path): not JSON: \(error)")
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        try self.init(root, directory: (absolute as NSString).deletingLastPathComponent, file: path)
    }

    /// Checks a parsed task set; `file` names it in messages.
    public init(_ root: Value, directory: String, file: String) throws(ImproveError) {
        guard case .map(let fields) = root else { throw ImproveError("\(file): a task set is a JSON object with `tasks`") }
        let unknown = Set(fields.keys).subtracting(["repeats", "tasks"])
        if let key = unknown.sorted().first { throw ImproveError("\(file): unknown field `\(key)` (a task set has `repeats` and `tasks`)") }
        var repeats = 2
        if let value = fields["repeats"] {
            guard case .int(let count) = value, (1...100).contains(count) else {
                throw ImproveError("\(file): `repeats` is a whole number from 1 to 100")
            }
            repeats = count
        }
        guard case .list(let items)? = fields["tasks"], !items.isEmpty else {
            throw ImproveError("\(file): `tasks` is a non-empty list of tasks")
        }
        var cases: [Case] = []
        for (index, item) in items.enumerated() {
            let taskCase = try Self.parseCase(item, number: index + 1, directory: directory, file: file)
            if cases.contains(where: { $0.name == taskCase.name }) {
                throw ImproveError("\(file): task \(index + 1): the name `\(taskCase.name)` is used twice")
            }
            cases.append(taskCase)
        }
        self.directory = directory
        self.repeats = repeats
        self.cases = cases
    }

    /// Whether any task is answered by the model backend.
    public var usesBackend: Bool { cases.contains { $0.answers == .backend } }

    private static func parseCase(_ item: Value, number: Int, directory: String, file: String) throws(ImproveError) -> Case {
        guard case .map(let fields) = item else { throw ImproveError("\(file): task \(number) is not a JSON object") }
        let allowed: Set = ["name", "params", "responder", "cassette", "backend", "workspace", "live"]
        let place = "\(file): task \(number)"
        if let key = Set(fields.keys).subtracting(allowed).sorted().first {
            throw ImproveError("\(place): unknown field `\(key)` (a task has \(allowed.sorted().map { "`\($0)`" }.joined(separator: ", ")))")
        }
        guard case .string(let name)? = fields["name"], !name.isEmpty,
              name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw ImproveError("\(place): `name` is a non-empty string of letters, digits, `-`, `_` and `.`")
        }
        var parameters: [(String, String)] = []
        switch fields["params"] {
        case nil: break
        case .map(let values)?:
            for key in values.keys.sorted() {
                guard let value = values[key], value != .null else {
                    throw ImproveError("\(place) (`\(name)`): parameter `\(key)` is null; give a value, or leave it out for its default")
                }
                parameters.append((key, value.text))
            }
        default: throw ImproveError("\(place) (`\(name)`): `params` is an object of parameter values")
        }
        var sources: [AnswerSpec] = []
        if let value = fields["responder"] {
            guard case .string(let command) = value, !command.isEmpty else {
                throw ImproveError("\(place) (`\(name)`): `responder` is a command line")
            }
            sources.append(.responder(command))
        }
        if let value = fields["cassette"] {
            guard case .string(let cassette) = value else { throw ImproveError("\(place) (`\(name)`): `cassette` is a path") }
            sources.append(.cassette(resolve(cassette, in: directory)))
        }
        if let value = fields["backend"] {
            guard value == .bool(true) else { throw ImproveError("\(place) (`\(name)`): `backend` is `true` or left out") }
            sources.append(.backend)
        }
        guard sources.count == 1, let answers = sources.first else {
            throw ImproveError("\(place) (`\(name)`): give exactly one of `responder`, `cassette` and `backend: true`")
        }
        var workspace: String?
        if let value = fields["workspace"] {
            guard case .string(let folder) = value else { throw ImproveError("\(place) (`\(name)`): `workspace` is a folder's path") }
            let path = resolve(folder, in: directory)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ImproveError("\(place) (`\(name)`): the workspace \(folder) is not a folder")
            }
            workspace = path
        }
        var live = false
        if let value = fields["live"] {
            guard case .bool(let flag) = value else { throw ImproveError("\(place) (`\(name)`): `live` is `true` or `false`") }
            live = flag
        }
        return Case(name: name, parameters: parameters, answers: answers, workspace: workspace, live: live)
    }

    private static func resolve(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: directory + "/" + path).standardizedFileURL.path
    }
}
