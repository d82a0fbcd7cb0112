import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKKernel
import SPAKSyntax
import SPAKTrace

/// What the MCP tools do, as plain synchronous calls on the run folders under one root:
/// the same kernel operations as `spak check`, `run`, `status`, `step --resume`, `trace
/// show`, `fork` and `runs`. Programs and runs outside the root are refused.
public final class RunService: @unchecked Sendable {
    /// A tool's result: text for people, and the same facts as structured JSON.
    public struct Output: Sendable {
        /// What a person reads.
        public let text: String
        /// The same as JSON, for the client's `structuredContent`.
        public let structured: Value
    }

    /// Why a call cannot be done.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// How the failure reaches the client.
        public enum Kind: Sendable {
            /// A bad argument: no such run or program, a path outside the root (a JSON-RPC error).
            case invalidArguments
            /// The call was understood and could not be done: a program with errors, a run
            /// not waiting (a tool result with `isError`).
            case toolError
            /// A failure inside the server, such as a disk that cannot be written.
            case internalError
            /// A resource that does not exist (now).
            case resourceNotFound
        }
        /// How it reaches the client.
        public let kind: Kind
        /// What went wrong, for the client to show.
        public let description: String

        init(_ description: String, kind: Kind = .toolError) {
            self.kind = kind
            self.description = description
        }
    }

    /// The folder everything happens under (absolute, symlinks resolved).
    public let root: String
    /// Where runs are: ROOT/.spak/runs.
    public let runsDirectory: String
    /// Whether `tool.run` commands that the programs' allow lines admit are executed (granted
    /// when the server starts, never by a client).
    public let live: Bool
    private let lock = NSLock()
    private var clientName = "mcp: a client that did not initialize"

    /// A service over `root`.
    public init(root: String, live: Bool) throws(Failure) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure("the root \(root) is not a folder", kind: .invalidArguments)
        }
        self.root = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        self.runsDirectory = self.root + "/.spak/runs"
        self.live = live
    }

    /// Names the client in `answered_by` of the answers it gives ("mcp: NAME VERSION").
    public func setClient(name: String, version: String) {
        lock.withLock { clientName = "mcp: \(name) \(version)" }
    }

    private var answeredBy: String { lock.withLock { clientName } }

    // MARK: - Tools

    /// `spak check PATH`: every diagnostic.
    public func check(path: String) throws(Failure) -> Output {
        let file = try program(path)
        let checked: CheckedProgram
        do { checked = try Frontend.check(path: file) } catch { throw Failure("\(error)") }
        let bag = checked.bag
        let text = DiagnosticRenderer().render(bag) + (bag.hasErrors ? "" : "\(path): no errors\n")
        let diagnostics = (try? JSON.parse(DiagnosticJSON(bag).encoded())) ?? .null
        return Output(text: text, structured: .map(["ok": .bool(!bag.hasErrors), "diagnostics": diagnostics]))
    }

    /// `spak run PROGRAM`: checks it, starts a run and goes on until the run ends or waits
    /// for an answer (or after one step, with `step`).
    public func start(path: String, parameters: [String: String], workspace: String?, step: Bool) throws(Failure) -> Output {
        let file = try program(path)
        let workspaceFolder = try workspace.map(self.workspace)
        let checked: CheckedProgram
        do { checked = try Frontend.check(path: file) } catch { throw Failure("\(error)") }
        guard !checked.hasErrors, let task = checked.parse.program.task else {
            throw Failure("the program has errors:\n" + DiagnosticRenderer().render(checked.bag))
        }
        let programFolder = (file as NSString).deletingLastPathComponent
        for call in Bindings.effectCalls(in: task.body) {
            for argument in call.arguments where argument.label?.name == "template" {
                guard case .string(let template) = argument.value.kind else { continue }
                let full = URL(fileURLWithPath: template, relativeTo: URL(fileURLWithPath: programFolder + "/")).standardizedFileURL
                    .resolvingSymlinksInPath().path
                guard isInside(full) else {
                    throw Failure("the template \(template) is outside the server's root \(root)", kind: .invalidArguments)
                }
            }
        }
        let values: [String: Value]
        do {
            values = try Parameters.resolve(parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, for: task)
        } catch {
            throw Failure("\(error)", kind: .invalidArguments)
        }
        return try translatingKernelErrors {
            let started = try RunStore.start(checked, parameters: values, runsDirectory: runsDirectory, workspace: workspaceFolder)
            return try withExtendedLifetime(started.lock) { () throws(Failure) -> Output in
                try drive(started.machine) { machine, source throws(RecordError) in try machine.run(answers: &source, singleStep: step) }
            }
        }
    }

    /// `spak status RUN`.
    public func status(run: String) throws(Failure) -> Output {
        let view = try self.view(run)
        return Output(text: view.text, structured: (try? JSON.parse(view.json)) ?? .null)
    }

    /// The request a run waits at: the rendered prompt (or command), and the whole request.
    public func pending(run: String) throws(Failure) -> Output {
        let view = try self.view(run)
        guard case .suspended(let pending) = view.state.status else {
            throw Failure("run \(view.folder.id) is not waiting for an answer (it is \(view.state.status.name))")
        }
        return Output(text: Self.describe(pending, program: view.programName),
                      structured: Self.pendingValue(pending, program: view.programName))
    }

    /// `spak step --resume RUN`: records `answer` to the request the run waits at, and goes
    /// on until the run ends or waits again.
    public func respond(run: String, answer text: String, index: Int?) throws(Failure) -> Output {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw Failure("the answer is empty", kind: .invalidArguments)
        }
        return try open(run) { machine throws(Failure) -> Output in
            guard case .suspended(let pending) = machine.state.status else {
                throw Failure("run \(machine.runFolder.id) is not waiting for an answer (it is \(machine.state.status.name))")
            }
            if let index, index != pending.index {
                throw Failure("run \(machine.runFolder.id) waits at request \(pending.index), not \(index): nothing was recorded")
            }
            let answer = Answer(value: .string(text), answeredBy: answeredBy)
            return try drive(machine) { machine, source throws(RecordError) in try machine.resume(with: answer, answers: &source) }
        }
    }

    /// `spak step RUN`: executes the next step of a run that is ready, then pauses.
    public func step(run: String) throws(Failure) -> Output {
        try open(run) { machine throws(Failure) -> Output in
            switch machine.state.status {
            case .suspended(let pending):
                throw Failure("run \(machine.runFolder.id) waits for an answer to \(pending.effect): use respond")
            case let status where status.isFinal:
                throw Failure("run \(machine.runFolder.id) has already \(status.name)")
            default:
                return try drive(machine) { machine, source throws(RecordError) in try machine.run(answers: &source, singleStep: true) }
            }
        }
    }

    /// `spak trace show RUN`: the run as a timeline.
    public func trace(run: String, full: Bool) throws(Failure) -> Output {
        let folder = try runFolder(run)
        do {
            let traced = try TracedRun(folder, runsDirectory: runsDirectory)
            let text = try TraceTimeline(traced, full: full).text()
            return Output(text: text, structured: .map(["run": .string(traced.id), "timeline": .string(text)]))
        } catch {
            throw Failure("\(error)")
        }
    }

    /// `spak fork RUN --at STEP[#N]`: a new run from the state before that step, answered
    /// with `answer` at its first request when one is given.
    public func fork(run: String, at: String, answer: String?) throws(Failure) -> Output {
        let folder = try runFolder(run)
        return try translatingKernelErrors {
            let point = try Fork.Point(at)
            let started = try Fork.start(folder, at: point, runsDirectory: runsDirectory, workspace: try recordedWorkspace(of: folder))
            return try withExtendedLifetime(started.lock) { () throws(Failure) -> Output in
                let first = answer.map { Answer(value: .string($0), answeredBy: answeredBy) }
                return try drive(started.machine, first: first) { machine, source throws(RecordError) in
                    try machine.run(answers: &source)
                }
            }
        }
    }

    /// `spak runs`: every run under the root.
    public func listRuns() -> Output {
        let runs = RunStore.list(runsDirectory: runsDirectory)
        let text = runs.isEmpty ? "no runs\n" : runs.map { "\($0.id)  \($0.task)  \($0.status)  \($0.steps) steps\n" }.joined()
        let values: [Value] = runs.map { summary in
            .map(["id": .string(summary.id), "task": .string(summary.task), "status": .string(summary.status),
                  "created": .string(summary.created), "steps": .int(summary.steps),
                  "parent": summary.parent.map(Value.string) ?? .null])
        }
        return Output(text: text, structured: .map(["runs": .list(values)]))
    }

    /// The run folders' files a client can read: trace.json, metrics.json, the pending prompt.
    public func resources() -> [(uri: String, name: String, mimeType: String)] {
        RunStore.list(runsDirectory: runsDirectory).flatMap { summary -> [(uri: String, name: String, mimeType: String)] in
            let folder = runsDirectory + "/" + summary.id
            return [("trace.json", "application/json"), ("metrics.json", "application/json"), ("pending/prompt.md", "text/markdown")]
                .filter { FileManager.default.fileExists(atPath: folder + "/" + $0.0) }
                .map { (uri: "spak://runs/\(summary.id)/\($0.0)", name: "\(summary.id)/\($0.0)", mimeType: $0.1) }
        }
    }

    /// The text of a resource listed by `resources()`.
    public func read(uri: String) throws(Failure) -> (text: String, mimeType: String) {
        let prefix = "spak://runs/"
        guard uri.hasPrefix(prefix) else {
            throw Failure("unknown resource \(uri): resources are spak://runs/ID/FILE", kind: .invalidArguments)
        }
        let parts = uri.dropFirst(prefix.count).split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["trace.json", "metrics.json", "pending/prompt.md"].contains(parts[1]) else {
            throw Failure("unknown resource \(uri): a run has trace.json, metrics.json and pending/prompt.md", kind: .invalidArguments)
        }
        let folder = try runFolder(parts[0])
        guard let data = FileManager.default.contents(atPath: folder + "/" + parts[1]) else {
            throw Failure("run \(parts[0]) has no \(parts[1]) now (trace.json and metrics.json are written whenever a run stops, "
                + "pending/prompt.md while it waits)", kind: .resourceNotFound)
        }
        return (String(decoding: data, as: UTF8.self), parts[1].hasSuffix(".md") ? "text/markdown" : "application/json")
    }

    // MARK: - Running

    /// Runs `body` on a machine until it stops, with no source of answers but the client:
    /// a request suspends the run, and the result says what it waits for.
    private func drive(_ machine: Machine, first: Answer? = nil,
                       _ body: (Machine, inout ClientAnswers) throws(RecordError) -> Machine.Stop) throws(Failure) -> Output {
        do {
            if live { try machine.enableLiveTools(environment: ProcessInfo.processInfo.environment) }
            var source = ClientAnswers(first: first)
            let stop = try body(machine, &source)
            return Self.outcome(stop, machine: machine)
        } catch {
            throw Failure("\(error)", kind: Self.kind(of: error))
        }
    }

    /// Opens a run (locked while `body` works on it).
    private func open(_ run: String, _ body: (Machine) throws(Failure) -> Output) throws(Failure) -> Output {
        let folder = try runFolder(run)
        return try translatingKernelErrors {
            let opened = try RunStore.open(folder, runsDirectory: runsDirectory, workspace: try recordedWorkspace(of: folder))
            return try withExtendedLifetime(opened.lock) { () throws(Failure) -> Output in try body(opened.machine) }
        }
    }

    /// Runs `body`, passing its failures on and turning a kernel error into a failure of its kind.
    private func translatingKernelErrors(_ body: () throws -> Output) throws(Failure) -> Output {
        do { return try body() } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("\(error)", kind: (error as? RecordError).map(Self.kind) ?? .toolError)
        }
    }

    private func view(_ run: String) throws(Failure) -> RunView {
        do { return try RunView(try runFolder(run), runsDirectory: runsDirectory) } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("\(error)")
        }
    }

    /// How a kernel error reaches the client.
    static func kind(of error: RecordError) -> Failure.Kind {
        switch error.kind {
        case .io: .internalError
        case .unknownRun, .invalidRequest: .invalidArguments
        default: .toolError
        }
    }

    // MARK: - Paths under the root

    /// A program's absolute path, which must be a file under the root.
    private func program(_ path: String) throws(Failure) -> String {
        let full = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: root + "/")).standardizedFileURL.resolvingSymlinksInPath().path
        guard isInside(full) else { throw Failure("\(path) is outside the server's root \(root)", kind: .invalidArguments) }
        guard FileManager.default.fileExists(atPath: full) else { throw Failure("no such program: \(path)", kind: .invalidArguments) }
        return full
    }

    /// Whether an absolute, resolved path is the root or beneath it.
    private func isInside(_ path: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }

    /// A workspace's absolute path: a folder under the root that neither holds nor lies in
    /// ROOT/.spak, where the run records are.
    private func workspace(_ path: String) throws(Failure) -> String {
        let full = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: root + "/")).standardizedFileURL.resolvingSymlinksInPath().path
        guard isInside(full) else { throw Failure("the workspace \(path) is outside the server's root \(root)", kind: .invalidArguments) }
        let records = root + "/.spak"
        guard !(records + "/").hasPrefix(full + "/"), !full.hasPrefix(records + "/"), full != records else {
            throw Failure("the workspace \(path) holds or lies in \(records), where the run records are; give a folder beside it",
                          kind: .invalidArguments)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure("no such folder: \(path)", kind: .invalidArguments)
        }
        return full
    }

    /// The workspace a run recorded (`nil`: its own), checked like a client's: a relative one
    /// is taken from the root.
    private func recordedWorkspace(of folder: String) throws(Failure) -> String? {
        let info: Value
        do { info = try JSON.parse(bytes: Array(FileManager.default.contents(atPath: folder + "/run.json") ?? Data())) } catch {
            throw Failure("the run's run.json cannot be read: \(error)")
        }
        guard let recorded = info.fields["workspace"]?.textIfString else { return nil }
        return try workspace(recorded)
    }

    /// A run's folder under the runs directory; `run` is its id.
    private func runFolder(_ run: String) throws(Failure) -> String {
        guard !run.isEmpty, !run.contains("/"), !run.hasPrefix(".") else {
            throw Failure("`\(run)` is not a run id (see list_runs)", kind: .invalidArguments)
        }
        let folder = runsDirectory + "/" + run
        guard FileManager.default.fileExists(atPath: folder + "/run.json") else {
            throw Failure("no run \(run) (see list_runs)", kind: .invalidArguments)
        }
        return folder
    }
}

/// The client answers through `respond`; during a call, only a fork's first answer is given.
struct ClientAnswers: AnswerSource {
    var first: Answer?

    mutating func answer(_ request: PendingRequest, answersUsed: inout Int) throws(AnswerFailure) -> Answer? {
        defer { first = nil }
        return first
    }
}
