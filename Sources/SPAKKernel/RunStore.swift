import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKSyntax

/// Creates, opens and lists runs under a runs folder (`.spak/runs` by default).
public enum RunStore {
    /// What recovery found when a run was opened after a crash.
    public struct Recovery: Sendable, CustomStringConvertible {
        /// Events after the last snapshot, dropped to be recomputed.
        public let discardedEvents: Int
        /// Answers among them, kept and used again without asking.
        public let reusedAnswers: Int
        /// Bytes of a torn last line, if a crash cut one short.
        public let tornBytes: Int?

        public var description: String {
            var text = "recovered from an interrupted run: \(discardedEvents) event\(discardedEvents == 1 ? "" : "s") after the last snapshot will be recomputed"
            if reusedAnswers > 0 { text += ", \(reusedAnswers) recorded answer\(reusedAnswers == 1 ? "" : "s") reused" }
            if let tornBytes { text += "; a torn last event (\(tornBytes) bytes) was discarded" }
            return text
        }
    }

    /// Starts a run of a checked program: creates its folder, copies the program and its
    /// templates, records the start, and returns the machine at the first instruction.
    /// `secretVariables` names environment variables whose values are secret besides those
    /// the program declares (a backend's API key variable).
    public static func start(
        _ checked: CheckedProgram, parameters: [String: Value], runsDirectory: String, workspace: String?,
        secretVariables: Set<String> = []
    ) throws(RecordError) -> (machine: Machine, lock: RunLock) {
        guard let task = checked.parse.program.task else { throw RecordError("the program has no task", kind: .corrupt) }
        let program = LoweredProgram(task)
        let secrets = Secrets(environment: ProcessInfo.processInfo.environment,
                              declared: program.secretNames.union(secretVariables))
        let parameters = parameters.mapValues { secrets.redact($0) }
        // The folder is built under a hidden name and renamed into place once run.json,
        // state.json and the first event exist, so a crash never leaves half a run.
        let id = newID(task: task.name.name)
        let finalPath = runsDirectory + "/" + id
        let folder = RunFolder(path: runsDirectory + "/.creating-" + id)
        try FileManager.default.createDirectoryIfNeeded(folder.path)
        // The lock file moves with the folder, so the run is locked before anyone can see it.
        let lock = try folder.lock()
        try RunFolder.writeAtomically(checked.parse.file.text, to: folder.programFile, durable: true)
        let sourceDirectory = (checked.parse.file.path as NSString).deletingLastPathComponent
        for path in templatePaths(in: task.body) {
            let source = path.hasPrefix("/") ? path : (sourceDirectory.isEmpty ? path : sourceDirectory + "/" + path)
            let target = folder.templatesDirectory + "/" + TemplateFiles.storedPath(path)
            try FileManager.default.createDirectoryIfNeeded((target as NSString).deletingLastPathComponent)
            guard let data = FileManager.default.contents(atPath: source) else { throw RecordError("cannot read the template \(source)") }
            try RunFolder.writeAtomically(String(decoding: data, as: UTF8.self), to: target, durable: true)
        }
        let hash = folder.contentHash()
        var info: [String: Value] = [
            "format": .string("spak-run"), "version": .int(1), "id": .string(id), "task": .string(task.name.name),
            "source": .string(Self.relativeSource(checked.parse.file.path)), "program_hash": .string(hash),
            "parameters": .map(parameters),
            "created": .string(ISO8601DateFormatter().string(from: Date())),
        ]
        if let workspace { info["workspace"] = .string(workspace) }
        try RunFolder.writeAtomically(JSON.serialize(.map(info)) + "\n", to: folder.runFile, durable: true)
        let log = try EventLog(path: folder.eventsFile, count: 0, length: 0)
        log.secrets = secrets
        let finalFolder = RunFolder(path: finalPath)
        let machine = Machine(
            program: program, source: checked.parse.file, folder: folder, log: log,
            workspace: try Workspace(path: workspace ?? folder.defaultWorkspace), secrets: secrets, programHash: hash,
            state: MachineState(parameters: parameters))
        machine.programName = Self.relativeSource(checked.parse.file.path)
        machine.workspaceGiven = workspace
        try machine.begin(task: task.name.name, parameters: parameters)
        try machine.checkpoint()
        guard rename(folder.path, finalPath) == 0 else {
            throw RecordError("cannot create \(finalPath): \(String(cString: strerror(errno)))")
        }
        machine.folder = finalFolder
        machine.snapshots = SnapshotLog(folder: finalFolder, stepNames: program.stepNames)
        // The default workspace moved with the folder; open it where it now is.
        machine.workspace = try Workspace(path: workspace ?? finalFolder.defaultWorkspace)
        return (machine, lock)
    }

    /// Opens a run to go on with it: takes its lock, checks its program is the one it
    /// started with, loads the snapshot and, if a crash left events after it, recovers.
    public static func open(
        _ reference: String, runsDirectory: String, workspace: String?, secretVariables: Set<String> = []
    ) throws(RecordError) -> (machine: Machine, lock: RunLock, recovery: Recovery?) {
        let folder = try resolve(reference, runsDirectory: runsDirectory)
        let lock = try folder.lock()
        let info = try folder.readJSON(folder.runFile).fields
        guard case .string(let recordedHash)? = info["program_hash"] else {
            throw RecordError("\(folder.runFile) has no program hash", kind: .corrupt)
        }
        let hash = folder.contentHash()
        guard hash == recordedHash else {
            throw RecordError("""
                the program in \(folder.path) was edited after the run started (its hash is \(hash.prefix(19))…, \
                the run recorded \(recordedHash.prefix(19))…); restore program.spak, or start a new run of the \
                changed program (forking a run at a step comes with `spak fork`)
                """, kind: .programChanged)
        }
        guard let data = FileManager.default.contents(atPath: folder.programFile) else {
            throw RecordError("\(folder.programFile) is missing", kind: .corrupt)
        }
        let file = SourceFile(path: folder.programFile, validatedBytes: Array(data))
        let parse = SPAKParser.parse(file)
        guard let task = parse.program.task, !parse.hasErrors else {
            throw RecordError("\(folder.programFile) no longer parses", kind: .corrupt)
        }
        guard let state = MachineState(decoding: try folder.readJSON(folder.stateFile)) else {
            throw RecordError("\(folder.stateFile) is not a state this version of spak wrote; the event log is untouched",
                              kind: .corrupt)
        }
        let program = LoweredProgram(task)
        guard state.pc <= program.instructions.count else {
            throw RecordError("\(folder.stateFile) points past the end of the program (pc \(state.pc))", kind: .corrupt)
        }
        let (recovered, interrupted, recovery) = try recover(folder, state: state)
        let recorded = info["workspace"]?.textIfString
        if workspace == nil, let recorded, !FileManager.default.fileExists(atPath: recorded) {
            throw RecordError("the run's workspace `\(recorded)` does not exist here; pass --workspace DIR", kind: .wrongState)
        }
        let workspacePath = workspace ?? recorded ?? folder.defaultWorkspace
        let secrets = Secrets(environment: ProcessInfo.processInfo.environment,
                              declared: program.secretNames.union(secretVariables))
        let log = try EventLog(path: folder.eventsFile, count: state.eventCount, length: state.logLength)
        log.secrets = secrets
        let machine = Machine(program: program, source: file, folder: folder, log: log,
                              workspace: try Workspace(path: workspacePath), secrets: secrets, programHash: hash, state: state)
        machine.snapshots = SnapshotLog(folder: folder, stepNames: program.stepNames)
        machine.programName = info["source"]?.textIfString ?? "program.spak"
        machine.workspaceGiven = workspace ?? recorded
        machine.recoveredAnswers = recovered
        machine.interruptedEffects = interrupted
        machine.unsettledRecovery = Machine.UnsettledRecovery(recovery: recovery)
        return (machine, lock, recovery)
    }

    /// Events past the snapshot: answers to keep and effects to ask again. Nothing is changed
    /// here: the log is cut back when the machine first records something
    /// (`Machine.settleRecovery`), so a command refused after opening the run loses nothing.
    private static func recover(_ folder: RunFolder, state: MachineState)
        throws(RecordError) -> ([Int: Answer], Set<Int>, Recovery?)
    {
        let size = ((try? FileManager.default.attributesOfItem(atPath: folder.eventsFile))?[.size] as? Int) ?? 0
        guard size != state.logLength else { return ([:], [], nil) }
        guard size > state.logLength else {
            throw RecordError("\(folder.eventsFile) is shorter than the snapshot says (\(size) < \(state.logLength) bytes)",
                              kind: .corrupt)
        }
        let tail = try EventLog.tail(of: folder.eventsFile, after: state.logLength)
        var answers: [Int: Answer] = [:]
        var requested: Set<Int> = []
        var attempts: [Int: [Value]] = [:]
        for event in tail.events {
            let fields = event.fields
            guard case .int(let index)? = fields["index"] else { continue }
            switch fields["type"] {
            case .string("effect.requested")?:
                requested.insert(index)
            case .string("effect.attempt")?:
                attempts[index, default: []].append(.map(fields.filter { !["index", "seq", "time", "type"].contains($0.key) }))
            case .string("effect.answered")?:
                if case .string(let effect)? = fields["effect"], effect == "llm.query" || effect == "tool.run",
                   let result = fields["result"], case .string(let by)? = fields["answered_by"] {
                    var answer = Answer(value: result, answeredBy: by)
                    if effect == "tool.run" {
                        // An answer whose output file a crash lost is asked again (or run again).
                        guard let binding = try? ToolCaptures.binding(of: result, from: folder) else { continue }
                        answer = Answer(value: binding, answeredBy: by)
                        answer.recorded = result
                    }
                    answer.details = fields["execution"]?.fields ?? [:]
                    answer.usage = fields["usage"].flatMap(TokenUsage.init)
                    answer.attempts = attempts[index] ?? []
                    if case .int(let used)? = fields["answers_used"] { answer.answersUsed = used }
                    answers[index] = answer
                }
            default:
                break
            }
        }
        return (answers, requested.subtracting(answers.keys),
                Recovery(discardedEvents: tail.events.count, reusedAnswers: answers.count, tornBytes: tail.torn?.length))
    }

    /// The folder a reference names: a run id under the runs folder, or a run folder's path.
    public static func resolve(_ reference: String, runsDirectory: String) throws(RecordError) -> RunFolder {
        for candidate in [runsDirectory + "/" + reference, reference] {
            if FileManager.default.fileExists(atPath: candidate + "/run.json") { return RunFolder(path: candidate) }
        }
        throw RecordError("no run `\(reference)` in \(runsDirectory) (see `spak runs`)", kind: .unknownRun)
    }

    /// Folders of runs whose creation a crash cut short: no process holds their lock.
    private static func removeAbandonedCreations(in runsDirectory: String, names: [String]) {
        for name in names where name.hasPrefix(".creating-") {
            let folder = RunFolder(path: runsDirectory + "/" + name)
            if let lock = try? folder.lock() {
                withExtendedLifetime(lock) { try? FileManager.default.removeItem(atPath: folder.path) }
            }
        }
    }

    /// One line of `spak runs`.
    public struct Summary: Sendable {
        public let id: String
        public let task: String
        public let status: String
        public let created: String
        public let steps: Int
        /// For a forked run: the run it was forked from, and the step.
        public let parent: String?
        public let forkedAt: String?
    }

    /// The runs in a runs folder, oldest first.
    public static func list(runsDirectory: String) -> [Summary] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runsDirectory)) ?? []
        removeAbandonedCreations(in: runsDirectory, names: names)
        return names.filter { !$0.hasPrefix(".") }.compactMap { name -> Summary? in
            let folder = RunFolder(path: runsDirectory + "/" + name)
            guard let info = try? folder.readJSON(folder.runFile).fields else { return nil }
            let state = (try? folder.readJSON(folder.stateFile)).flatMap(MachineState.init(decoding:))
            let fork = info["fork"]?.fields
            return Summary(id: name, task: info["task"]?.textIfString ?? "?", status: state?.status.name ?? "unreadable",
                           created: info["created"]?.textIfString ?? "", steps: state?.counters.steps ?? 0,
                           parent: fork?["parent"]?.textIfString, forkedAt: fork?["at"]?.textIfString)
        }.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
    }

    /// The program's path for `run.json`: as given when relative, else relative to the current
    /// folder (a run folder holds no absolute path), so messages name a file the user can open.
    static func relativeSource(_ path: String) -> String {
        guard path.hasPrefix("/") else { return path }
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.pathComponents
        let there = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        var shared = 0
        while shared < min(here.count, there.count), here[shared] == there[shared] { shared += 1 }
        return (Array(repeating: "..", count: here.count - shared) + there[shared...]).joined(separator: "/")
    }

    static func newID(task: String) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return "\(task)-\(formatter.string(from: Date()))-\(String(format: "%04x", Int(UInt16.random(in: 0...UInt16.max))))"
    }

    /// The template files a program's `llm.query(template: "...")` calls name.
    static func templatePaths(in statements: [Statement]) -> Set<String> {
        var paths: Set<String> = []
        for call in Bindings.effectCalls(in: statements) {
            for argument in call.arguments where argument.label?.name == "template" {
                if case .string(let path) = argument.value.kind { paths.insert(path) }
            }
        }
        return paths
    }
}

extension Value {
    /// The string inside, if this is a string.
    public var textIfString: String? { if case .string(let text) = self { text } else { nil } }
}
