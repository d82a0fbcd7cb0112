import Foundation

/// A test of an agent program (`spak test`): the program, its parameters, its cassette and
/// what the run must end with. A test is `NAME.spak` (with an optional `NAME.test.json`
/// beside it) or a `NAME.test.json` that names its program; see docs/testing.md.
public struct TestSpec: Sendable {
    /// The test's name: its path under the tests folder, without the extension.
    public let name: String
    public let program: String
    /// Parameters as `NAME=VALUE` texts (a JSON value other than a string is given as its JSON).
    public let parameters: [(String, String)]
    public let cassette: String
    /// A folder whose files are copied into the run's workspace before it starts.
    public let workspace: String?
    public let expectations: TestExpectations

    /// Reads a test. `spec` is the `.test.json` file, if any; `program` the `.spak` beside it.
    public init(name: String, spec: String?, program: String?) throws(RecordError) {
        self.name = name
        var fields: [String: Value] = [:]
        if let spec {
            guard let data = FileManager.default.contents(atPath: spec) else { throw RecordError("cannot read \(spec)") }
            guard case .map(let parsed)? = try? JSON.parse(String(decoding: data, as: UTF8.self)) else {
                throw RecordError("\(spec) is not a JSON object", kind: .invalidRequest)
            }
            let known: Set<String> = ["program", "params", "cassette", "workspace", "expect"]
            if let unknown = parsed.keys.sorted().first(where: { !known.contains($0) }) {
                throw RecordError("\(spec): unknown key `\(unknown)` (known: \(known.sorted().joined(separator: ", ")))",
                                  kind: .invalidRequest)
            }
            fields = parsed
        }
        let base = ((spec ?? program ?? "") as NSString).deletingLastPathComponent
        func path(_ relative: String) -> String { relative.hasPrefix("/") || base.isEmpty ? relative : base + "/" + relative }
        guard let programPath = program ?? fields["program"]?.textIfString.map(path) else {
            throw RecordError("\(spec ?? name): a test without a .spak file beside it needs \"program\"", kind: .invalidRequest)
        }
        self.program = programPath
        parameters = (fields["params"]?.fields ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value.text) }
        let stem = ((spec ?? programPath) as NSString).lastPathComponent.replacingOccurrences(of: ".test.json", with: "")
            .replacingOccurrences(of: ".spak", with: "")
        cassette = fields["cassette"]?.textIfString.map(path) ?? path(stem + ".cassette.jsonl")
        workspace = fields["workspace"]?.textIfString.map(path)
        expectations = try TestExpectations(fields["expect"] ?? .map([:]), in: spec ?? programPath)
    }
}

/// What a test expects of a finished run: its status (and failure reason), variables,
/// metrics, counters, and the last outcome of named invariants. A number may be expected
/// within `{"min": A, "max": B}`.
public struct TestExpectations: Sendable {
    public let status: String
    public let reason: String?
    public let variables: [String: Value]
    public let metrics: [String: Value]
    public let counters: [String: Value]
    public let invariants: [String: Bool]

    init(_ value: Value, in file: String) throws(RecordError) {
        let fields = value.fields
        let known: Set<String> = ["status", "reason", "variables", "metrics", "counters", "invariants"]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw RecordError("\(file): unknown expectation `\(unknown)` (known: \(known.sorted().joined(separator: ", ")))",
                              kind: .invalidRequest)
        }
        status = fields["status"]?.textIfString ?? "completed"
        guard ["completed", "failed", "suspended"].contains(status) else {
            throw RecordError("\(file): status is completed, failed or suspended, not `\(status)`", kind: .invalidRequest)
        }
        reason = fields["reason"]?.textIfString
        variables = fields["variables"]?.fields ?? [:]
        metrics = fields["metrics"]?.fields ?? [:]
        counters = fields["counters"]?.fields ?? [:]
        invariants = (fields["invariants"]?.fields ?? [:]).compactMapValues { if case .bool(let ok) = $0 { ok } else { nil } }
    }

    /// How a run falls short of the expectations; empty when it meets them all.
    public func failures(of folder: RunFolder) throws(RecordError) -> [String] {
        guard let state = MachineState(decoding: try folder.readJSON(folder.stateFile)) else {
            throw RecordError("\(folder.stateFile) is unreadable", kind: .corrupt)
        }
        var failures: [String] = []
        if state.status.name != status {
            var found = "the run \(state.status.name)"
            if case .failed(let why) = state.status { found += ": \(why)" }
            failures.append("expected the run to be \(status), but \(found)")
        }
        if let reason, case .failed(let why) = state.status, !why.contains(reason) {
            failures.append("expected the failure to mention \"\(reason)\", but it was: \(why)")
        }
        for (name, expected) in variables.sorted(by: { $0.key < $1.key }) {
            failures += Self.compare("variable `\(name)`", state.variables[name], expected)
        }
        if !metrics.isEmpty {
            let found = (try? folder.readJSON(folder.metricsFile))?.fields["metrics"]?.fields ?? [:]
            for (name, expected) in metrics.sorted(by: { $0.key < $1.key }) {
                failures += Self.compare("metric `\(name)`", found[name], expected)
            }
        }
        let counterValues = state.counters.value.fields
        for (name, expected) in counters.sorted(by: { $0.key < $1.key }) {
            failures += Self.compare("counter `\(name)`", counterValues[name], expected)
        }
        if !invariants.isEmpty {
            let last = try Self.lastInvariantOutcomes(folder)
            for (name, expected) in invariants.sorted(by: { $0.key < $1.key }) {
                switch last[name] {
                case nil: failures.append("invariant `\(name)` was never checked")
                case let ok? where ok != expected:
                    failures.append("invariant `\(name)` \(ok ? "held" : "did not hold") at its last check; expected it \(expected ? "to hold" : "not to")")
                default: break
                }
            }
        }
        return failures
    }

    /// A found value against an expected one: equal (numbers by value), or within min/max.
    static func compare(_ what: String, _ found: Value?, _ expected: Value) -> [String] {
        guard let found else { return ["\(what) has no value; expected \(JSON.serialize(expected))"] }
        if case .map(let bounds) = expected, !bounds.isEmpty, Set(bounds.keys).isSubset(of: ["min", "max"]) {
            guard let number = found.number else { return ["\(what) is \(JSON.serialize(found)), not a number"] }
            if let low = bounds["min"]?.number, number < low { return ["\(what) is \(found.text); expected at least \(bounds["min"]!.text)"] }
            if let high = bounds["max"]?.number, number > high { return ["\(what) is \(found.text); expected at most \(bounds["max"]!.text)"] }
            return []
        }
        if let a = found.number, let b = expected.number, a == b { return [] }
        return found == expected ? [] : ["\(what) is \(JSON.serialize(found)); expected \(JSON.serialize(expected))"]
    }

    /// The last `invariant.checked` outcome of each invariant in a run's log.
    private static func lastInvariantOutcomes(_ folder: RunFolder) throws(RecordError) -> [String: Bool] {
        let reader = try RecordedEventReader(path: folder.eventsFile, offset: 0)
        var outcomes: [String: Bool] = [:]
        while let event = try reader.next() {
            if event["type"] == .string("invariant.checked"), let name = event["name"]?.textIfString {
                outcomes[name] = event["ok"] == .bool(true)
            }
        }
        return outcomes
    }
}
