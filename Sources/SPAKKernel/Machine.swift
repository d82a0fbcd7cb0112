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
        /// A stop request (Ctrl-C, SIGTERM; see `Interruption`) stopped the run between
        /// instructions; it goes on with `spak step --resume`.
        case interrupted(signal: Int32)
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
    /// What opening the run found past its snapshot, not yet acted on (see `settleRecovery`).
    var unsettledRecovery: UnsettledRecovery?

    /// A run opened after a crash (or an interruption) whose log may hold events past its
    /// snapshot: they are cut, and a `recovery` event says what was found, only when the
    /// machine first records something.
    struct UnsettledRecovery {
        /// What was found past the snapshot, if anything.
        let recovery: RunStore.Recovery?
    }
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
    public internal(set) var finalMetrics: [String: Value] = [:]
    /// The run folder's path.
    public var folderPath: String { folder.path }
    /// The run folder.
    public var runFolder: RunFolder { folder }
    /// The workspace's folder (absolute, symbolic links resolved).
    public var workspaceRoot: String { workspace.root }
    /// The workspace as messages name it: the folder given with `--workspace`, or the run's
    /// own `workspace/` folder.
    var workspaceLabel: String {
        workspaceGiven.map { "`\($0)`" } ?? "the run's own folder \(folder.path)/workspace"
    }
    /// The `--workspace` folder the run was started or opened with, if any.
    var workspaceGiven: String?
    /// The commands that go on with this run, as messages print them; the CLI sets ones that
    /// work when pasted where it runs (`nil`: `spak step --resume ID`).
    public var resumeCommands: ResumeCommands?
    /// The command that goes on with this run as the current command did.
    public var resumeCommand: String { resumeCommands?.asGiven ?? "spak step --resume \(folder.id)" }
    /// That command with `--live`: it executes a `tool.run` the run waits at.
    public var liveResumeCommand: String { resumeCommands?.live ?? "spak step --resume \(folder.id) --live" }
    /// That command without `--live`: it takes an answer written by hand.
    public var manualResumeCommand: String { resumeCommands?.manual ?? "spak step --resume \(folder.id)" }

    /// The commands that go on with a run, each as one line to paste into a shell.
    public struct ResumeCommands: Sendable {
        public let asGiven, live, manual: String

        public init(asGiven: String, live: String, manual: String) {
            self.asGiven = asGiven
            self.live = live
            self.manual = manual
        }
    }

    /// Whether the program file the run was started with (`programName`, from the current
    /// folder) still holds the run's program (`true`), holds another (`false`), or is not
    /// there (`nil`): locations point at its lines only when it still holds the run's.
    public var programFileMatchesRun: Bool? {
        FileManager.default.contents(atPath: programName).map { Array($0) == Array(source.text.utf8) }
    }
    /// In a replay, the instruction the machine halted at (where a divergence shows).
    private(set) var haltedAt: Int?
    var segmentStart = 0.0
    /// When the step in progress began (by `clock`).
    var stepStart = 0.0
    /// The program's file as the user named it to `spak run` (`run.json`'s `source`), for
    /// the locations in messages; the run itself executes its own copy, `program.spak`.
    public internal(set) var programName = "program.spak"

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
        try settleRecovery()
        segmentStart = clock.now()
        while true {
            switch state.status {
            case .completed: return .completed
            case .failed(let reason): return .failed(reason: reason)
            case .suspended(let pending): return .suspended(pending)
            case .ready: break
            }
            if replay == nil, let signal = Interruption.requested {
                try checkpoint()
                try exportStanding(interruptedBy: Interruption.name(of: signal))
                return .interrupted(signal: signal)
            }
            guard state.pc < program.instructions.count else {
                try finish()
                continue
            }
            let stepsBefore = state.counters.steps
            let position = state.pc
            let instruction = program.instructions[position]
            var beforeEffect: (state: MachineState, events: Int, length: Int)?
            if case .effect = instruction { beforeEffect = (state, log.count, log.length) }
            do {
                try execute(instruction, answers: &answers)
            } catch is Interrupted {
                guard let beforeEffect, let signal = Interruption.requested else { throw RecordError("an interruption came from nowhere") }
                try checkpoint(rolledBackTo: beforeEffect)
                try exportStanding(interruptedBy: Interruption.name(of: signal))
                return .interrupted(signal: signal)
            } catch let error as RuntimeError {
                try failStep(error)
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
            // A step ends at its end, or when a failure sends the run back (a retry): either way
            // `spak step` pauses there.
            if singleStep, state.counters.steps > stepsBefore, state.status == .ready {
                try checkpoint()
                try exportStanding()
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
        cassette.programName = programName
        let reader = try RecordedEventReader(path: folder.eventsFile, offset: 0)
        var requests: [Int: (String, Value)] = [:]
        while let event = try reader.next() {
            // Events past the snapshot are a crash's, recomputed (and their answers reused) later.
            if case .int(let seq)? = event["seq"], seq >= state.eventCount { break }
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
        try settleRecovery()
        state.status = .ready
        log.append("run.resumed", ["index": .int(pending.index)])
        do {
            try apply(answer, to: pending)
        } catch let error as RuntimeError {
            try failStep(error)
        } catch let error as RecordError {
            throw error
        } catch {
            try fail("\(error)", at: nil)
        }
        clearPending()
        return try run(answers: &answers, singleStep: singleStep)
    }

    /// Whether a crash left the answer to the request the run waits on recorded in the log:
    /// it is used before any other source, and nobody is asked again.
    public var hasRecoveredAnswerForPending: Bool {
        guard case .suspended(let pending) = state.status else { return false }
        return recoveredAnswers[pending.index] != nil
    }

    /// The answer to the request the run waits on that a crash left recorded in the log, if
    /// any (taken: it answers once).
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
            if let signal = Interruption.requested, Interruption.killedCommand {
                throw RecordError("run \(folder.id) was interrupted (\(Interruption.name(of: signal))) while it waited for an answer; "
                                  + "it still waits: \(resumeCommand)", kind: .interrupted)
            }
            try settleRecovery()
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
                    + "(resume it with `\(resumeCommand)` once the cause is fixed)", kind: .unanswered)
    }

    /// Executes one instruction.
    private func execute(_ instruction: Instruction, answers: inout some AnswerSource) throws {
        let evaluator = Evaluator(variables: state.variables)
        switch instruction {
        case .startStep(let name):
            let occurrence = (state.counters.stepTimes[name]?.starts ?? 0) + 1
            if let replay, replay.haltsBefore(step: name, occurrence: occurrence) { return }
            if let snapshots {
                var snapshot = state
                snapshot.counters.activeSeconds = activeSeconds
                snapshots.takeIfDue(snapshot, programHash: programHash, eventCount: log.count, logLength: log.length)
            }
            if let limit = program.budgets["wall_time"],
               replay.map({ $0.recordedBudgetExceeded("wall_time") != nil }) ?? (activeSeconds > limit) {
                try exceed("wall_time", limit: limit, used: activeSeconds)
                return
            }
            state.counters.stepTimes[name, default: .init()].starts = occurrence
            state.currentStep = name
            state.boundInStep = []
            if program.retries {
                state.stepTick += 1
                state.startedAt[name] = state.stepTick
                // Entered afresh (not by a retry), the steps that retry back to it have all their retries again.
                if state.enteringRetry {
                    state.enteringRetry = false
                } else {
                    for retrier in program.retriers[name] ?? [] { state.retries[retrier] = nil }
                }
            }
            stepStart = clock.now()
            log.append("step.started", ["step": .string(name)])
            state.pc += 1
        case .assign(let name, let value, let site):
            bind(name, try evaluator.evaluate(value))
            state.pc += 1
            if state.currentStep == nil { try checkInvariants(afterBinding: name, at: site, loop: false) }
        case .effect(let call):
            try perform(call, answers: &answers)
        case .endStep(let name, let policy):
            try endStep(name, policy: policy)
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
                bind(variable.name, .int(next))
                state.pc += 1
                try checkInvariants(afterBinding: variable.name, at: variable.range, loop: true)
            case .items(let items, let next)? where next < items.count:
                state.loops[id] = .items(items, next: next + 1)
                bind(variable.name, items[next])
                state.pc += 1
                try checkInvariants(afterBinding: variable.name, at: variable.range, loop: true)
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
    }

    /// Binds a variable: it becomes current (see `Machine.violate`), and the step in progress
    /// counts it among what it bound.
    func bind(_ name: String, _ value: Value) {
        let value = secrets.redact(value)
        state.variables[name] = value
        if program.retries { state.boundAt[name] = state.stepTick }  // only a retry makes a value stale
        if !state.stale.isEmpty { state.stale.remove(name) }
        if state.currentStep != nil { state.boundInStep.insert(name) }
        log.append("var.bound", ["name": .string(name), "value": value])
    }

    var activeSeconds: Double { state.counters.activeSeconds + clock.now() - segmentStart }

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
        case .assign(_, let value, _): return value.range
        case .branch(let condition, _): return condition.range
        case .loopEnd(_, let until?, _, _): return until.range
        case .startStep(let step), .endStep(let step, _): return ProgramOutline(source).steps[step]
        default: return nil
        }
    }

    /// A stop request killed the command of an effect in progress: the snapshot is the state
    /// before the effect began, and the events logged since stay in the log past it, where
    /// the next open finds them as it finds a crash's (the effect is asked again, marked
    /// `reexecuted`).
    private func checkpoint(rolledBackTo saved: (state: MachineState, events: Int, length: Int)) throws(RecordError) {
        let seconds = activeSeconds
        state = saved.state
        state.counters.activeSeconds = seconds
        segmentStart = clock.now()
        try writeSnapshot(eventCount: saved.events, logLength: saved.length)
    }

    /// Acts on what opening the run found past its snapshot, before anything is recorded: the
    /// log (and the snapshot index, and an export that went further) is cut back to the
    /// snapshot, and a `recovery` event says what was found. Until then, nothing the previous
    /// process left is changed.
    func settleRecovery() throws(RecordError) {
        guard let unsettled = unsettledRecovery, replay == nil else { return }
        unsettledRecovery = nil
        try EventLog.truncate(folder.eventsFile, to: state.logLength)
        try SnapshotLog.truncate(folder, stepCount: program.stepNames.count, toLogLength: state.logLength)
        if snapshots != nil { snapshots = SnapshotLog(folder: folder, stepNames: program.stepNames) }  // sized anew
        RunRecord.forgetExport(beyond: state.logLength, in: folder)
        guard let recovery = unsettled.recovery else { return }
        var fields: [String: Value] = ["discarded_events": .int(recovery.discardedEvents), "reused_answers": .int(recovery.reusedAnswers)]
        if let torn = recovery.tornBytes { fields["torn_bytes"] = .int(torn) }
        log.append("recovery", fields)
    }

    /// Makes everything so far durable: the log is synced, then the snapshot replaced.
    func checkpoint() throws(RecordError) {
        state.counters.activeSeconds = activeSeconds
        segmentStart = clock.now()
        guard replay == nil else { return }
        try writeSnapshot(eventCount: log.count, logLength: log.length)
    }

    /// Syncs the snapshots and the log, then replaces `state.json` with the state as of the
    /// log's first `eventCount` events (`logLength` bytes).
    private func writeSnapshot(eventCount: Int, logLength: Int) throws(RecordError) {
        try snapshots?.flush()
        try log.sync()
        state.eventCount = eventCount
        state.logLength = logLength
        try RunFolder.writeAtomically(JSON.serialize(state.encoded(programHash: programHash)) + "\n",
                                      to: folder.stateFile, durable: true)
    }

    /// Removes the answered request's files (its prompt, request and consumed answer).
    func clearPending() {
        try? FileManager.default.removeItem(atPath: folder.pendingDirectory)
    }
}
