/// An answer to an effect that the kernel does not perform itself: `llm.query`, and
/// `tool.run` when the run is not `--live` (or the result a live command produced).
public struct Answer: Sendable, Equatable {
    /// For `llm.query`: the reply text. For `tool.run`: the result (see `toolResult`).
    public let value: Value
    /// Who answered, as the trace records it: `response-file`, `stdin`, `responder: CMD`,
    /// `answers: FILE#N`.
    public let answeredBy: String
    /// For an answer recovered from the log: the answers-file position after it was taken.
    var answersUsed: Int?
    /// For `tool.run`: the result as the trace records it, its streams stored in `tools/`
    /// (see `ToolCaptures`), when they are already stored.
    var recorded: Value?
    /// How the answer was produced, for the trace's `execution`: for a command spak ran, its
    /// executable, limits and confinement; for a model's reply, the backend, server, model,
    /// latency and what was sent.
    public var details: [String: Value] = [:]
    /// For `llm.query`: the tokens the server counted (`nil`: the kernel estimates them).
    public var usage: TokenUsage?
    /// Each try at getting the answer (a backend's HTTP attempts), recorded as `effect.attempt`
    /// events before the answer.
    public var attempts: [Value] = []

    /// Creates an answer.
    public init(value: Value, answeredBy: String) {
        self.value = value
        self.answeredBy = answeredBy
    }

    /// A `tool.run` result from text a person or a program supplied: a JSON object with
    /// `exit_code` (and optionally `signal`, `stdout`, `stderr`, `timed_out`, `duration_ms`,
    /// `truncated`), or plain
    /// text, taken as the standard output of a command that exited 0.
    public static func toolResult(from text: String) -> Value {
        var result: [String: Value] = [
            "exit_code": .int(0), "signal": .int(0), "stdout": .string(text), "stderr": .string(""),
            "timed_out": .bool(false), "duration_ms": .int(0), "truncated": .bool(false),
        ]
        if case .map(let fields)? = try? JSON.parse(text), case .int? = fields["exit_code"] {
            for key in result.keys { if let value = fields[key] { result[key] = value } }
            if fields["stdout"] == nil { result["stdout"] = .string("") }
        }
        return .map(result)
    }
}

/// Where answers come from while a run goes on: `nil` means nobody can answer now, and
/// the run suspends for a person.
public protocol AnswerSource {
    /// The answer to a request, or `nil` to suspend. `answersUsed` is the run's position in
    /// an answers file, kept in the snapshot so a resumed run goes on where it stopped.
    mutating func answer(_ request: PendingRequest, answersUsed: inout Int) throws(AnswerFailure) -> Answer?
}

/// An answer source that failed (a responder that crashed, an unreadable answers file).
/// The run stays suspended at the request, and nothing recorded is lost.
public struct AnswerFailure: Error, Sendable, CustomStringConvertible {
    public let description: String
    /// The tries made before giving up, recorded as `effect.attempt` events.
    public var attempts: [Value]

    /// Creates a failure.
    public init(_ description: String, attempts: [Value] = []) {
        self.description = description
        self.attempts = attempts
    }
}

/// No automatic answers: every request suspends the run.
public struct SuspendForPerson: AnswerSource {
    /// Creates the source.
    public init() {}

    public mutating func answer(_ request: PendingRequest, answersUsed: inout Int) throws(AnswerFailure) -> Answer? { nil }
}
