import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Executes `tool.run` commands for real (`spak run --live`): in the workspace, with a
/// scrubbed environment, under the program's limits, confined to writing inside the
/// workspace where the kernel supports Landlock, and with every secret removed from what
/// the command printed before anything records it.
struct ToolRunner {
    /// The default and the most a call may wait, when the program sets no `tool.timeout`.
    static let defaultTimeout = 600.0
    /// Bytes kept of each stream when the program sets no `tool.output`.
    static let defaultOutputLimit = 1 << 20
    /// The most `max_output:` or `tool.output` may ask for.
    static let maximumOutputLimit = 64 << 20
    /// Variables a command always gets from spak's environment, when set there.
    static let inheritedVariables = ["PATH", "HOME", "LANG"]
    /// The search path when spak's environment has none.
    static let fallbackPath = "/usr/local/bin:/usr/bin:/bin"

    /// The workspace: the commands' working directory and where they may write.
    let workspace: String
    /// The Landlock ruleset commands run under (`nil` where the kernel has no Landlock).
    let confinement: Confinement?
    /// spak's own environment.
    let environment: [String: String]
    let secrets: Secrets
    let folder: RunFolder
    /// The program's budgets (`tool.timeout`, `tool.output`, `tool.cpu`, `tool.memory`).
    let budgets: [String: Double]

    /// A command could not be run as asked (a bad `env:` entry or limit); the run fails.
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// A runner for a run's commands; the confinement is built now, once for the run.
    init(workspace: String, extraWritableRoots: [String], environment: [String: String], secrets: Secrets,
         folder: RunFolder, budgets: [String: Double]) throws(ChildProcess.SpawnFailure) {
        self.workspace = workspace
        confinement = try Confinement.make(writableRoots: [workspace] + extraWritableRoots)
        self.environment = environment
        self.secrets = secrets
        self.folder = folder
        self.budgets = budgets
    }

    /// Runs one command and returns its answer: the result with its streams stored in
    /// `tools/`, and what the trace records of how it ran.
    func run(_ argv: [String], request: Value) throws -> Answer {
        let environmentEntries = try childEnvironment(request.fields["env"])
        let timeout = try limit(request.fields["timeout"]?.number, budget: "tool.timeout", fallback: Self.defaultTimeout,
                                what: "timeout")
        let requestedOutput = try limit(request.fields["max_output"]?.number, budget: "tool.output",
                                        fallback: Double(Self.defaultOutputLimit), what: "max_output")
        guard requestedOutput <= Double(Self.maximumOutputLimit) else {
            throw Problem(description: "max_output \(String(format: "%.0f", requestedOutput)) is more than the most spak keeps of a stream (\(Self.maximumOutputLimit) bytes)")
        }
        let outputLimit = Int(requestedOutput)
        if let memory = budgets["tool.memory"], memory >= 0x1p62 {
            throw Problem(description: "budget tool.memory <= \(String(format: "%.0f", memory)) is more than any machine has")
        }
        if let cpu = budgets["tool.cpu"], cpu >= 0x1p40 {
            throw Problem(description: "budget tool.cpu is longer than any command can run")
        }
        var details: [String: Value] = [
            "cwd": .string("workspace"),
            "limits": .map(["timeout_s": .float(timeout), "output_bytes": .int(outputLimit)]
                .merging(budgets["tool.cpu"].map { ["cpu_s": .float($0)] } ?? [:]) { first, _ in first }
                .merging(budgets["tool.memory"].map { ["memory_bytes": .int(Int($0))] } ?? [:]) { first, _ in first }),
        ]
        // The executable is found on spak's own PATH, so an `env:` PATH entry cannot point an
        // allowed name at another program.
        let searchPath = environment["PATH"] ?? Self.fallbackPath
        guard let executable = ExecutableSearch.find(argv[0], path: searchPath, directory: workspace) else {
            details["error"] = .string("command not found")
            let message = "spak: `\(argv[0])`: no such executable (searched \(argv[0].contains("/") ? "the workspace" : "PATH=\(searchPath)"))\n"
            return try answer(ChildProcess.Outcome(
                exitStatus: 127, signal: nil, timedOut: false, duration: 0, stdout: .init(),
                stderr: .init(bytes: Array(message.utf8), seen: message.utf8.count), confinement: 0), details: details)
        }
        details["executable"] = .string(executable)
        var spec = ChildProcess.Spec(executable: executable, arguments: argv, environment: environmentEntries,
                                     directory: workspace, timeout: timeout, outputLimit: outputLimit)
        spec.cpuSeconds = budgets["tool.cpu"].map { Int($0.rounded(.up)) }
        spec.memoryBytes = budgets["tool.memory"].map { Int($0) }
        spec.confinement = confinement
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(spec)
        } catch {
            throw Problem(description: "cannot start `\(argv[0])`: \(error)")
        }
        details["confinement"] = .string(outcome.confinement > 0 ? "landlock-\(outcome.confinement)" : "none")
        return try answer(outcome, details: details)
    }

    /// The answer for an outcome: streams redacted and stored, text bound.
    private func answer(_ outcome: ChildProcess.Outcome, details: [String: Value]) throws(RecordError) -> Answer {
        var recorded: [String: Value] = [
            "exit_code": .int(Int(outcome.exitStatus ?? (128 + (outcome.signal ?? 0)))),
            "signal": .int(Int(outcome.signal ?? 0)),
            "timed_out": .bool(outcome.timedOut),
            "duration_ms": .int(Int((outcome.duration * 1000).rounded())),
            "truncated": .bool(outcome.stdout.truncated || outcome.stderr.truncated),
        ]
        var binding = recorded
        for (name, capture) in zip(ToolCaptures.streams, [outcome.stdout, outcome.stderr]) {
            let bytes = secrets.redact(capture.bytes, truncated: capture.truncated)
            recorded[name] = try ToolCaptures.store(bytes, seen: capture.seen, in: folder)
            binding[name] = .string(String(decoding: bytes, as: UTF8.self))
        }
        var answer = Answer(value: .map(binding), answeredBy: "live")
        answer.recorded = .map(recorded)
        answer.details = details
        return answer
    }

    /// A limit: the call's own value, else the program's budget, else the default; never
    /// more than the budget.
    private func limit(_ requested: Double?, budget: String, fallback: Double, what: String) throws -> Double {
        let cap = budgets[budget]
        let value = min(requested ?? cap ?? fallback, cap ?? .infinity)
        guard value > 0 else { throw Problem(description: "\(what) must be positive, not \(requested ?? value)") }
        return value
    }

    /// The command's environment: PATH, HOME and LANG from spak's, TMPDIR in the
    /// workspace, then the call's `env:` entries (`NAME` passes spak's value of NAME,
    /// `NAME=VALUE` sets one).
    private func childEnvironment(_ requested: Value?) throws -> [String] {
        var variables: [(String, String)] = Self.inheritedVariables.compactMap { name in environment[name].map { (name, $0) } }
        if environment["PATH"] == nil { variables.append(("PATH", Self.fallbackPath)) }
        let temporary = workspace + "/.tmp"
        // Not intermediate: a workspace a command deleted is not silently made again.
        try? FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        variables.append(("TMPDIR", temporary))
        for entry in ToolRunner.environmentEntries(requested) {
            let name = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            guard Self.isVariableName(name) else {
                throw Problem(description: "env entry `\(secrets.redact(entry))` is not NAME or NAME=VALUE")
            }
            let value = entry.contains("=") ? String(entry.dropFirst(name.count + 1)) : environment[String(name)]
            if let value {
                variables.removeAll { $0.0 == name }
                variables.append((String(name), value))
            }
        }
        return variables.map { "\($0.0)=\($0.1)" }
    }

    /// The entries of an `env:` argument.
    static func environmentEntries(_ requested: Value?) -> [String] {
        guard case .list(let items)? = requested else { return [] }
        return items.map(\.text)
    }

    /// The names an `env:` argument sets or passes: what the trace records of it.
    static func environmentNames(_ requested: Value?) -> [Value] {
        environmentEntries(requested).map { .string(String($0.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0])) }
    }

    private static func isVariableName(_ name: Substring) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || (first | 0x20) >= 97 && (first | 0x20) <= 122 else {
            return false
        }
        return name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 | 0x20) >= 97 && ($0 | 0x20) <= 122 || $0 >= 48 && $0 <= 57 }
    }
}

/// Where a command's program is: a name is looked up on PATH, a path with a `/` is taken
/// relative to the working directory.
public enum ExecutableSearch {
    /// The executable file a command's first word names, or `nil`.
    public static func find(_ command: String, path: String, directory: String) -> String? {
        guard !command.isEmpty else { return nil }
        if command.contains("/") {
            let candidate = command.hasPrefix("/") ? command : directory + "/" + command
            return isExecutableFile(candidate) ? candidate : nil
        }
        for entry in path.split(separator: ":", omittingEmptySubsequences: true) where entry.hasPrefix("/") {
            let candidate = entry + "/" + command
            if isExecutableFile(candidate) { return candidate }
        }
        return nil
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && access(path, X_OK) == 0
    }
}
