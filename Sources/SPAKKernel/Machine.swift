import Foundation
import SPAKDiagnostics
import SPAKSyntax

/// The step machine: executes a lowered program from a snapshot, recording every state
/// change, request and result in the event log. It is a pure function of the program, the
/// parameters and the effects' results; effects are the only doors to the world.
public final class Machine {
    /// Why `run` returned.
    public enum Stop: Sendable, Equatable {
        /// `singleStep` was asked and one step finished; the run is ready for the next.
        case paused
        /// An effect waits for an answer from outside.
        case suspended(PendingRequest)
        case completed
        case failed(reason: String)
    }

    let program: LoweredProgram
    let source: SourceFile
    var folder: RunFolder
    let log: EventLog
    /// The door of `tool.read` and `tool.write`.
    var workspace: any FileDoor
    /// The door of time.
    let clock: any Clock
    /// The secret values removed from everything the run records.
    let secrets: Secrets
    /// Runs `tool.run` commands; `nil` unless the run was opened `--live`, in which case
    /// commands are asked of the answer sources like `llm.query`.
    var toolRunner: ToolRunner?
    let programHash: String
    /// The snapshot being advanced. (Only this machine's thread touches it; runtime
    /// exclusivity checks on it cost more per step than the step's own work.)
    @exclusivity(unchecked) public internal(set) var state: MachineState
    /// Answers the log held past the last snapshot (a crash came before the snapshot).
    var recoveredAnswers: [Int: Answer] = [:]
    /// Effects requested before a crash that never got an answer: they are asked again.
    var interruptedEffects: Set<Int> = []
    /// Snapshots before steps, for forks; `nil` in a replay, which writes nothing.
    var snapshots: SnapshotLog?
    /// Answers recorded by content (`--cassette`): played back before any other source.
    var cassette: Cassette?
    /// Set for a replay: events are checked against the record and effects answered from it.
    var replay: ReplaySession?
    /// Where template files are read from, when not from the run folder's copies (a replay
    /// of an edited program reads the program's own).
    var templateDirectory: String?
    /// Renders prompts and commands (keeping each template parsed).
    let templates = TemplateRenderer()
    /// The metrics computed when the run completed.
    public private(set) var finalMetrics: [String: Value] = [:]
    /// The run folder's path.
    public var folderPath: String { folder.path }
    /// The run folder.
    public var runFolder: RunFolder { folder }
    /// The workspace's folder (absolute, symbolic links resolved).
    public var workspaceRoot: String { workspace.root }
    /// The command that resumes the run, as the message of an answer source's failure shows
    /// it; a command line sets one that works pasted as it is (`nil`: `spak step --resume ID`).
    public var resumeCommand: String?
    /// In a replay, the instruction the machine halted at (where a divergence shows).
    private(set) var haltedAt: Int?
    private var segmentStart = 0.0
    private var stepStart = 0.0

    init(program: LoweredProgram, source: SourceFile, folder: RunFolder, log: EventLog, workspace: any FileDoor,
         clock: any Clock = SystemClock(), secrets: Secrets = .none, programHash: String, state: MachineState) {
        self.clock = clock
        self.secrets = secrets
        segmentStart = clock.now()
        stepStart = segmentStart
        self.program = program
        self.source = source
        self.folder = folder
        self.log = log
        self.workspace = workspace
        self.programHash = programHash
        self.state = state
    }

    // MARK: - Running

    /// Runs until the program ends, an effect must wait for an answer, or (with
    /// `singleStep`) one step has finished. Effects the kernel does not perform are asked of
    /// `answers`. Throws only when the record itself cannot be written.
    public func run(answers: inout some AnswerSource, singleStep: Bool = false) throws(RecordError) -> Stop {
        segmentStart = clock.now()
        while true {
            switch state.status {
            case .completed: return .completed
            case .failed(let reason): return .failed(reason: reason)
            case .suspended(let pending): return .suspended(pending)
            case .ready: break
            }
            guard state.pc < program.instructions.count else {
                try finish()
                continue
            }
            let stepFinished: Bool
            let position = state.pc
            do {
                stepFinished = try execute(program.instructions[state.pc], answers: &answers)
            } catch let error as RuntimeError {
                try fail(error.message, at: error.range)
                continue
            } catch let error as RecordError {
                throw error
            } catch let error as AnswerFailure {
                // The source failed, not the run: it stays suspended at the request.
                throw unanswered(error)
            } catch {
                try fail("\(error)", at: nil)
                continue
            }
            if let replay, replay.halted {
                haltedAt = position
                return .paused
            }
            if singleStep, stepFinished, state.status == .ready {
                try checkpoint()
                return .paused
            }
        }
    }

    /// Lets this machine execute `tool.run` commands (`--live`), in its workspace, writing
    /// only there and beneath `writableRoots`. Throws when the run folder is inside the workspace (commands could rewrite the record)
    /// or the kernel has Landlock but the confinement cannot be built.
    public func enableLiveTools(writableRoots: [String] = [], environment: [String: String]) throws(RecordError) {
        let record = URL(fileURLWithPath: folder.path).resolvingSymlinksInPath().path
        let root = workspace.root
        if record == root || record.hasPrefix(root + "/") {
            throw RecordError("the run folder \(folder.path) is inside the workspace \(root); commands could rewrite the run's record. "
                              + "Keep --runs-dir outside --workspace", kind: .wrongState)
        }
        do {
            toolRunner = try ToolRunner(workspace: root, extraWritableRoots: writableRoots, environment: environment,
                                        secrets: secrets, folder: folder, budgets: program.budgets)
        } catch {
            throw RecordError("cannot confine commands to the workspace: \(error)")
        }
    }

    /// Plays back (and, when recording, fills) a cassette for this run's `llm.query` and
    /// `tool.run` requests; a `tool.run` it answers is not executed. The answers the run
    /// already has count as used, so a resumed run takes the next answer to a repeated request.
    public func attach(_ cassette: Cassette) throws(RecordError) {
        cassette.secrets = secrets
        let reader = try RecordedEventReader(path: folder.eventsFile, offset: 0)
        var requests: [Int: (String, Value)] = [:]
        while let event = try reader.next() {
            guard case .int(let index)? = event["index"], let effect = event["effect"]?.textIfString,
                  effect == "llm.query" || effect == "tool.run" else { continue }
            switch event["type"]?.textIfString {
            case "effect.requested": requests[index] = (effect, event["request"] ?? .null)
            case "effect.answered": if let (effect, request) = requests[index] { cassette.noteAnswered(effect, request: request) }
            default: break
            }
        }
        self.cassette = cassette
    }

    /// The cassette's answer to the request the run waits on (`nil`: it has none and records).
    public func cassetteAnswerForPending() throws(RecordError) -> Answer? {
        guard case .suspended(let pending) = state.status, let cassette else { return nil }
        return try cassette.answer(for: pending)
    }

    /// Answers the request the run is suspended on, then goes on like `run`.
    public func resume(with answer: Answer, answers: inout some AnswerSource, singleStep: Bool = false) throws(RecordError) -> Stop {
        guard case .suspended(let pending) = state.status else { throw RecordError("run \(folder.id) is not waiting for an answer", kind: .wrongState) }
        state.status = .ready
        log.append("run.resumed", ["index": .int(pending.index)])
        do {
            try apply(answer, to: pending)
        } catch let error as RuntimeError {
            try fail(error.message, at: error.range)
        } catch let error as RecordError {
            throw error
        } catch {
            try fail("\(error)", at: nil)
        }
        clearPending()
        return try run(answers: &answers, singleStep: singleStep)
    }

    /// The answer to the request the run waits on that a crash left recorded in the log, if
    /// any: it is used before any other source, and nobody is asked again.
    public func recoveredAnswerForPending() -> Answer? {
        guard case .suspended(let pending) = state.status else { return nil }
        return recoveredAnswers.removeValue(forKey: pending.index)
    }

    /// Asks a source for the answer to the request the run waits on, keeping the run's place
    /// in an answers file.
    /// A failure is recorded (its attempts and an `effect.unanswered` event) and the run stays
    /// suspended.
    public func askPending(_ source: inout some AnswerSource) throws(RecordError) -> Answer? {
        guard case .suspended(let pending) = state.status else { return nil }
        do {
            return try source.answer(pending, answersUsed: &state.answersUsed)
        } catch {
            record(error, for: pending)
            try checkpoint()
            throw unanswered(error)
        }
    }

    /// Logs a source's failure to answer: each attempt it made, then why it gave up.
    func record(_ failure: AnswerFailure, for pending: PendingRequest) {
        logAttempts(failure.attempts, for: pending)
        log.append("effect.unanswered", ["index": .int(pending.index), "effect": .string(pending.effect),
                                         "reason": .string(failure.description)])
    }

    /// Logs the tries a source made at one request.
    func logAttempts(_ attempts: [Value], for pending: PendingRequest) {
        for attempt in attempts {
            log.append("effect.attempt", attempt.fields.merging(["index": .int(pending.index)]) { _, index in index })
        }
    }

    /// What a command reports when a source failed: the cause, and that the run waits.
    private func unanswered(_ failure: AnswerFailure) -> RecordError {
        RecordError("\(secrets.redact(failure.description)); the run stays suspended at this request "
                    + "(resume it with `\(resumeCommand ?? "spak step --resume \(folder.id)")` once the cause is fixed)",
                    kind: .unanswered)
    }

    /// Executes one instruction; returns whether it finished a step.
    private func execute(_ instruction: Instruction, answers: inout some AnswerSource) throws -> Bool {
        let evaluator = Evaluator(variables: state.variables)
        switch instruction {
        case .startStep(let name):
            let occurrence = (state.counters.stepTimes[name]?.starts ?? 0) + 1
            if let replay, replay.haltsBefore(step: name, occurrence: occurrence) { return false }
            if let snapshots {
                var snapshot = state
                snapshot.counters.activeSeconds = activeSeconds
                snapshots.takeIfDue(snapshot, programHash: programHash, eventCount: log.count, logLength: log.length)
            }
            if let limit = program.budgets["wall_time"],
               replay.map({ $0.recordedBudgetExceeded("wall_time") != nil }) ?? (activeSeconds > limit) {
                try exceed("wall_time", limit: limit, used: activeSeconds)
                return false
            }
            state.counters.stepTimes[name, default: .init()].starts = occurrence
            state.currentStep = name
            state.boundInStep = []
            stepStart = clock.now()
            log.append("step.started", ["step": .string(name)])
            state.pc += 1
        case .assign(let name, let value):
            bind(name, try evaluator.evaluate(value))
            state.pc += 1
        case .effect(let call):
            try perform(call, answers: &answers)
        case .endStep(let name, let policy):
            try endStep(name, binds: state.boundInStep, policy: policy)
            return true
        case .branch(let condition, let elseTarget):
            state.pc = try evaluator.condition(condition, what: "the condition of `if`") ? state.pc + 1 : elseTarget
        case .jump(let target):
            state.pc = target
        case .loopStart(let id, let iteration):
            switch iteration {
            case .range(let from, let to):
                let first = try evaluator.evaluate(from)
                let last = try evaluator.evaluate(to)
                guard case .int(let start) = first, case .int(let end) = last else {
                    throw RuntimeError("a `FROM...TO` loop needs whole numbers, not \(first.kindName) and \(last.kindName)",
                                       at: from.range.union(to.range))
                }
                state.loops[id] = .range(next: start, last: end)
            case .each(let list):
                let value = try evaluator.evaluate(list)
                guard case .list(let items) = value else {
                    throw RuntimeError("a loop runs over a list, not \(value.kindName)", at: list.range)
                }
                state.loops[id] = .items(items, next: 0)
            }
            state.pc += 1
        case .loopNext(let id, let variable, let exit):
            switch state.loops[id] {
            case .range(let next, let last)? where next <= last:
                state.loops[id] = .range(next: next + 1, last: last)
                bind(variable, .int(next))
                state.pc += 1
            case .items(let items, let next)? where next < items.count:
                state.loops[id] = .items(items, next: next + 1)
                bind(variable, items[next])
                state.pc += 1
            default:
                state.loops[id] = nil
                state.pc = exit
            }
        case .loopEnd(let id, let until, let next, let exit):
            if let until, try evaluator.condition(until, what: "the `until` condition") {
                state.loops[id] = nil
                state.pc = exit
            } else {
                state.pc = next
            }
        }
        return false
    }

    func bind(_ name: String, _ value: Value) {
        let value = secrets.redact(value)
        state.variables[name] = value
        if state.currentStep != nil { state.boundInStep.insert(name) }
        log.append("var.bound", ["name": .string(name), "value": value])
    }

    var activeSeconds: Double { state.counters.activeSeconds + clock.now() - segmentStart }

    // MARK: - Steps, invariants and policies

    private func endStep(_ name: String, binds: Set<String>, policy: OnFailPolicy?) throws {
        var violation: String?
        // An invariant is checked after a step that bound a variable it reads, once every
        // variable it reads has a value (it may name one that a later step binds).
        for invariant in program.invariants where !invariant.names.isDisjoint(with: binds)
            && invariant.names.allSatisfy({ state.variables[$0] != nil }) {
            let holds: Bool
            var detail = ""
            do {
                holds = try Evaluator(variables: state.variables).condition(invariant.condition, what: "invariant `\(invariant.name)`")
            } catch {
                holds = false
                detail = ": " + error.message
            }
            var fields: [String: Value] = ["name": .string(invariant.name), "step": .string(name), "ok": .bool(holds)]
            if !detail.isEmpty { fields["error"] = .string(String(detail.dropFirst(2))) }
            log.append("invariant.checked", fields)
            if !holds, violation == nil {
                let text = source.text(in: invariant.condition.range)
                let values = invariant.names.sorted().compactMap { name -> String? in
                    guard let value = state.variables[name] else { return nil }
                    let shown = JSON.serialize(value)
                    return "\(name) = \(shown.count > 120 ? String(shown.prefix(117)) + "..." : shown)"
                }
                violation = "invariant `\(invariant.name)` (\(text)) does not hold after step `\(name)`\(detail)"
                    + (values.isEmpty || !detail.isEmpty ? "" : "; " + values.joined(separator: ", "))
            }
        }
        if let violation {
            try violate(step: name, policy: policy, message: violation)
            return
        }
        finishStep(name, outcome: "completed")
        if policy != nil {
            state.retries[name] = nil
            if state.variables["feedback"] != .string("") { bind("feedback", .string("")) }
        }
        state.pc += 1
    }

    /// A step broke an invariant (or got an unusable answer): retry as its policy says, or fail.
    func violate(step: String, policy: OnFailPolicy?, message: String) throws {
        guard case .retry(let target, let bound)? = policy, case .integer(let spelling) = bound.kind,
              let limit = Int(spelling) else {
            finishStep(step, outcome: "violated")
            try fail(message, at: nil)
            return
        }
        let used = state.retries[step] ?? 0
        guard used < limit, let targetStart = program.stepStarts[target.name] else {
            finishStep(step, outcome: "violated")
            try fail("\(message); step `\(step)` was retried \(used) time\(used == 1 ? "" : "s") (max \(limit))", at: nil)
            return
        }
        state.retries[step] = used + 1
        finishStep(step, outcome: "violated")
        log.append("retry", ["step": .string(step), "target": .string(target.name), "attempt": .int(used + 1),
                             "max": .int(limit), "feedback": .string(message)])
        bind("feedback", .string(message))
        state.pc = targetStart
    }

    private func finishStep(_ name: String, outcome: String) {
        let seconds = clock.now() - stepStart
        state.counters.steps += 1
        state.counters.stepTimes[name, default: .init()].runs += 1
        state.counters.stepTimes[name, default: .init()].seconds += seconds
        state.currentStep = nil
        log.append("step.finished", ["step": .string(name), "outcome": .string(outcome),
                                     "duration_ms": .float((seconds * 1e6).rounded() / 1000)])
    }

    // MARK: - Ending

    private func finish() throws(RecordError) {
        let alreadyCompleted = state.status == .completed
        var metrics: [String: Value] = [:]
        var errors: [String: Value] = [:]
        for metric in program.metrics {
            do {
                metrics[metric.name.name] = try Evaluator(variables: state.variables).evaluate(metric.value)
            } catch {
                metrics[metric.name.name] = .null
                errors[metric.name.name] = .string(error.message)
            }
        }
        state.status = .completed
        finalMetrics = metrics
        var fields: [String: Value] = ["metrics": .map(metrics)]
        if !errors.isEmpty { fields["metric_errors"] = .map(errors) }
        if !alreadyCompleted { log.append("run.completed", fields) }
        try close(metrics: metrics, metricErrors: errors)
    }

    func fail(_ reason: String, at range: SourceRange?) throws(RecordError) {
        var message = secrets.redact(reason)
        var fields: [String: Value] = [:]
        if let range {
            let location = source.location(of: range.start)
            message = "program.spak:\(location): \(message)"
            fields["location"] = .string(location.description)
        }
        if let step = state.currentStep { fields["step"] = .string(step) }
        fields["reason"] = .string(message)
        state.status = .failed(reason: message)
        log.append("run.failed", fields)
        try close(metrics: [:], metricErrors: [:])
    }

    /// In a replay: ends the run the way the record says it ended, where what ended it (a
    /// command that could not be started) is not re-enacted.
    func failAsRecorded(_ event: [String: Value]) throws(RecordError) {
        let reason = event["reason"]?.textIfString ?? "failed"
        state.status = .failed(reason: reason)
        log.append("run.failed", event.filter { ["reason", "step", "location"].contains($0.key) })
        try close(metrics: [:], metricErrors: [:])
    }

    /// The source of the instruction at `pc`, for a divergence report: an invariant's or a
    /// metric's own text when `event` is about one.
    func sourceRange(ofInstructionAt pc: Int, event: [String: Value]?) -> SourceRange? {
        let name = event?["name"]?.textIfString
        switch event?["type"]?.textIfString {
        case "invariant.checked"?: return program.invariants.first { $0.name == name }?.condition.range
        default: break
        }
        guard pc < program.instructions.count else { return nil }
        switch program.instructions[pc] {
        case .effect(let call): return call.range
        case .assign(_, let value): return value.range
        case .branch(let condition, _): return condition.range
        case .loopEnd(_, let until?, _, _): return until.range
        case .startStep(let step), .endStep(let step, _): return ProgramOutline(source).steps[step]
        default: return nil
        }
    }

    func exceed(_ budget: String, limit: Double, used measured: Double) throws(RecordError) {
        let used = replay?.recordedBudgetExceeded(budget)?["used"]?.number ?? measured
        log.append("budget.exceeded", ["budget": .string(budget), "limit": .float(limit), "used": .float(used)])
        let shown = budget == "wall_time" ? String(format: "%.1fs", used) : String(Int(used))
        let written = budget == "wall_time" ? "\(Int(limit))s" : String(Int(limit))
        try fail("budget `\(budget) <= \(written)` exceeded (used: \(shown))", at: nil)
    }

    /// Writes the final snapshot, the trace and the metrics.
    private func close(metrics: [String: Value], metricErrors: [String: Value]) throws(RecordError) {
        try checkpoint()
        guard replay == nil else { return }
        try cassette?.finish()
        try RunRecord.export(folder: folder, state: state, programHash: programHash, metrics: metrics, metricErrors: metricErrors)
    }

    /// Writes the trace and metrics of an ended run again if a crash came between the final
    /// snapshot and them; returns whether it had to.
    public func exportIfMissing() throws(RecordError) -> Bool {
        guard state.status.isFinal else { return false }
        let fileManager = FileManager.default
        guard !fileManager.fileExists(atPath: folder.traceFile) || !fileManager.fileExists(atPath: folder.metricsFile) else {
            return false
        }
        if case .completed = state.status {
            try finish()
        } else {
            try RunRecord.export(folder: folder, state: state, programHash: programHash, metrics: [:], metricErrors: [:])
        }
        return true
    }

    /// Makes everything so far durable: the log is synced, then the snapshot replaced.
    func checkpoint() throws(RecordError) {
        state.counters.activeSeconds = activeSeconds
        segmentStart = clock.now()
        guard replay == nil else { return }
        try snapshots?.flush()
        try log.sync()
        state.eventCount = log.count
        state.logLength = log.length
        try RunFolder.writeAtomically(JSON.serialize(state.encoded(programHash: programHash)) + "\n",
                                      to: folder.stateFile, durable: true)
    }

    /// Removes the answered request's files (its prompt, request and consumed answer).
    private func clearPending() {
        try? FileManager.default.removeItem(atPath: folder.pendingDirectory)
    }
}
