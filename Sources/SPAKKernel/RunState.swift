/// Where a run stands: ready (or paused between steps), suspended on a request, completed,
/// or failed with a reason.
public enum RunStatus: Sendable, Equatable {
    case ready
    case suspended(PendingRequest)
    case completed
    case failed(reason: String)

    /// `ready`, `suspended`, `completed` or `failed`.
    public var name: String {
        switch self {
        case .ready: "ready"
        case .suspended: "suspended"
        case .completed: "completed"
        case .failed: "failed"
        }
    }

    /// Whether the run has ended.
    public var isFinal: Bool {
        switch self {
        case .completed, .failed: true
        default: false
        }
    }
}

/// An effect waiting for an answer from outside (a person, a responder, an answers file).
public struct PendingRequest: Sendable, Equatable {
    /// The effect's ordinal in the run (0, 1, 2…): the key its answer is recorded under.
    public let index: Int
    /// `llm.query` or `tool.run`.
    public let effect: String
    /// The step it belongs to.
    public let step: String
    /// What is asked: the rendered prompt and options, or the argument vector.
    public let request: Value
    /// `LINE:COLUMN` of the effect in the program.
    public let location: String

    /// The request as one JSON object (what `pending/request.json` and a responder get).
    public var value: Value {
        .map(["index": .int(index), "effect": .string(effect), "step": .string(step), "request": request,
              "location": .string(location)])
    }

    init(index: Int, effect: String, step: String, request: Value, location: String) {
        self.index = index
        self.effect = effect
        self.step = step
        self.request = request
        self.location = location
    }

    init?(_ value: Value) {
        guard case .map(let fields) = value, case .int(let index)? = fields["index"], case .string(let effect)? = fields["effect"],
              case .string(let step)? = fields["step"], let request = fields["request"],
              case .string(let location)? = fields["location"] else { return nil }
        self.init(index: index, effect: effect, step: step, request: request, location: location)
    }
}

/// The state of a loop in progress.
enum LoopState: Sendable, Equatable {
    /// `FROM...TO`: the next value and the last.
    case range(next: Int, last: Int)
    /// A list: its items and the index of the next one.
    case items([Value], next: Int)
}

/// Everything the machine needs to go on: a snapshot in `state.json`. Counters, variables
/// and loop positions are exact; nothing here refers to the machine it ran on.
public struct MachineState: Sendable, Equatable {
    /// The format of `state.json`. Version 1 (before binding stamps) is still read.
    public static let formatVersion = 2

    public var status: RunStatus = .ready
    /// The next instruction.
    var pc = 0
    /// Every variable, `feedback` included.
    public var variables: [String: Value] = [:]
    var loops: [Int: LoopState] = [:]
    /// Retries used, per step that has an `on_fail retry` policy: counted from the time its
    /// target last began other than by a retry.
    var retries: [String: Int] = [:]
    /// Whether the step about to begin begins because a retry went back to it.
    var enteringRetry = false
    /// The step in progress, if any.
    public var currentStep: String?
    /// The names the step in progress has bound so far (its invariants are checked on these).
    var boundInStep: Set<String> = []
    /// Step starts so far, all steps together: the stamp of every binding, and of every start.
    var stepTick = 0
    /// For each variable, `stepTick` when it was last bound.
    var boundAt: [String: Int] = [:]
    /// For each step, `stepTick` when it last began.
    var startedAt: [String: Int] = [:]
    /// Variables bound in the pass a retry abandoned: they have values, but no invariant reads
    /// them until they are bound again (see `Machine.retry`).
    var stale: Set<String> = []
    /// Counters for budgets and metrics.
    public var counters = Counters()
    /// The number of events in the log when this snapshot was taken, and the log's length then.
    public var eventCount = 0
    public var logLength = 0
    /// Answers taken from an `--answers` file so far.
    public var answersUsed = 0

    /// Creates the state of a fresh run.
    init(parameters: [String: Value]) {
        variables = parameters
        for name in Feedback.names { variables[name] = .string("") }
    }

    /// Counts that budgets and metrics read.
    public struct Counters: Sendable, Equatable {
        public var steps = 0
        public var llmCalls = 0
        public var toolRuns = 0
        public var tokens = 0
        /// The part of `tokens` that the kernel estimated (answers no server counted).
        public var estimatedTokens = 0
        /// Effects requested so far (the next effect's ordinal).
        public var effects = 0
        /// Seconds the kernel has spent executing (not waiting for answers).
        public var activeSeconds = 0.0
        /// Per step name: how many times it ran and the seconds it took in all.
        public var stepTimes: [String: StepTime] = [:]

        /// Runs and time of one step name.
        public struct StepTime: Sendable, Equatable {
            /// Times the step finished (completed or violated).
            public var runs = 0
            public var seconds = 0.0
            /// Times the step began, a run in progress included: `spak fork --at STEP#N` counts these.
            public var starts = 0
        }

        /// The counters as JSON, as `state.json` and `metrics.json` hold them.
        var value: Value {
            .map([
                "steps": .int(steps), "llm_calls": .int(llmCalls), "tool_runs": .int(toolRuns), "tokens": .int(tokens),
                "estimated_tokens": .int(estimatedTokens),
                "effects": .int(effects), "active_seconds": .float(activeSeconds),
                "step_times": .map(stepTimes.mapValues {
                    .map(["runs": .int($0.runs), "seconds": .float($0.seconds), "starts": .int($0.starts)])
                }),
            ])
        }
    }
}

extension MachineState {
    /// The snapshot as JSON.
    func encoded(programHash: String) -> Value {
        var status: [String: Value] = ["name": .string(self.status.name)]
        switch self.status {
        case .suspended(let pending): status["pending"] = pending.value
        case .failed(let reason): status["reason"] = .string(reason)
        default: break
        }
        let loops = Dictionary(uniqueKeysWithValues: self.loops.map { id, loop -> (String, Value) in
            switch loop {
            case .range(let next, let last): (String(id), .map(["next": .int(next), "last": .int(last)]))
            case .items(let items, let next): (String(id), .map(["items": .list(items), "next": .int(next)]))
            }
        })
        return .map([
            "format": .string("spak-state"), "version": .int(Self.formatVersion), "program_hash": .string(programHash),
            "status": .map(status), "pc": .int(pc), "variables": .map(variables), "loops": .map(loops),
            "retries": .map(retries.mapValues(Value.int)), "current_step": currentStep.map(Value.string) ?? .null,
            "bound_in_step": .list(boundInStep.sorted().map(Value.string)),
            "step_tick": .int(stepTick), "entering_retry": .bool(enteringRetry), "bound_at": .map(boundAt.mapValues(Value.int)),
            "started_at": .map(startedAt.mapValues(Value.int)), "stale": .list(stale.sorted().map(Value.string)),
            "counters": counters.value,
            "event_count": .int(eventCount), "log_length": .int(logLength), "answers_used": .int(answersUsed),
        ])
    }

    /// Reads a snapshot; `nil` when it is not one this version wrote.
    init?(decoding value: Value) {
        guard case .map(let fields) = value, fields["format"] == .string("spak-state"),
              case .int(let version)? = fields["version"], (1...Self.formatVersion).contains(version),
              case .map(let status)? = fields["status"], case .string(let statusName)? = status["name"],
              case .int(let pc)? = fields["pc"], case .map(let variables)? = fields["variables"],
              case .map(let loops)? = fields["loops"], case .map(let retries)? = fields["retries"],
              case .map(let counters)? = fields["counters"], case .int(let eventCount)? = fields["event_count"],
              case .int(let logLength)? = fields["log_length"], case .int(let answersUsed)? = fields["answers_used"]
        else { return nil }
        switch statusName {
        case "ready": self.status = .ready
        case "completed": self.status = .completed
        case "failed":
            guard case .string(let reason)? = status["reason"] else { return nil }
            self.status = .failed(reason: reason)
        case "suspended":
            guard let pending = status["pending"].flatMap(PendingRequest.init) else { return nil }
            self.status = .suspended(pending)
        default: return nil
        }
        self.pc = pc
        self.variables = variables
        var decodedLoops: [Int: LoopState] = [:]
        for (key, loop) in loops {
            guard let id = Int(key), case .map(let loopFields) = loop, case .int(let next)? = loopFields["next"] else { return nil }
            if case .int(let last)? = loopFields["last"] {
                decodedLoops[id] = .range(next: next, last: last)
            } else if case .list(let items)? = loopFields["items"] {
                decodedLoops[id] = .items(items, next: next)
            } else {
                return nil
            }
        }
        self.loops = decodedLoops
        self.retries = retries.compactMapValues { if case .int(let count) = $0 { count } else { nil } }
        if case .string(let step)? = fields["current_step"] { currentStep = step }
        if case .list(let names)? = fields["bound_in_step"] { boundInStep = Set(names.compactMap(\.textIfString)) }
        // Version 1 had no stamps: nothing is stale, and `feedback_kind` did not exist yet.
        if case .int(let tick)? = fields["step_tick"] { stepTick = tick }
        enteringRetry = fields["entering_retry"] == .bool(true)
        boundAt = Self.integers(fields["bound_at"])
        startedAt = Self.integers(fields["started_at"])
        if case .list(let names)? = fields["stale"] { stale = Set(names.compactMap(\.textIfString)) }
        if self.variables[Feedback.kind] == nil { self.variables[Feedback.kind] = .string("") }
        guard pc >= 0, eventCount >= 0, logLength >= 0, answersUsed >= 0 else { return nil }
        func int(_ key: String) -> Int { if case .int(let value)? = counters[key] { value } else { 0 } }
        self.counters.steps = int("steps")
        self.counters.llmCalls = int("llm_calls")
        self.counters.toolRuns = int("tool_runs")
        self.counters.tokens = int("tokens")
        self.counters.estimatedTokens = int("estimated_tokens")
        self.counters.effects = int("effects")
        self.counters.activeSeconds = counters["active_seconds"]?.number ?? 0
        if case .map(let times)? = counters["step_times"] {
            for (name, time) in times {
                guard case .map(let timeFields) = time, case .int(let runs)? = timeFields["runs"] else { continue }
                var starts = runs
                if case .int(let count)? = timeFields["starts"] { starts = count }
                self.counters.stepTimes[name] = Counters.StepTime(runs: runs, seconds: timeFields["seconds"]?.number ?? 0,
                                                                  starts: starts)
            }
        }
        self.eventCount = eventCount
        self.logLength = logLength
        self.answersUsed = answersUsed
    }

    /// The whole-number entries of a JSON object (none for anything else).
    private static func integers(_ value: Value?) -> [String: Int] {
        value?.fields.compactMapValues { if case .int(let number) = $0 { number } else { nil } } ?? [:]
    }
}
