/// Which part of a recorded event the program determines. Two executions of one program
/// with the same answers produce the same essences; what differs between them (when an event
/// happened, how long a step took, who supplied an answer and how) is left out. Replay,
/// forks and `spak trace diff` compare events this way.
public enum EventComparison {
    /// Events about how answers arrived and the process's life, not about what the program did.
    public static let circumstantialTypes: Set<String> = [
        "run.suspended", "run.resumed", "recovery", "effect.attempt", "effect.unanswered", "run.forked",
    ]

    /// Fields that measure time, say who answered and how, or where in the source a request
    /// was made (a comment added above it moves it): they differ between two executions of
    /// the same program with the same answers.
    public static let incidentalFields: Set<String> = [
        "seq", "time", "duration_ms", "reexecuted", "program_hash", "answered_by", "answers_used", "execution", "usage",
        "location",
    ]

    /// The event without its incidental fields; `nil` for a circumstantial event.
    public static func essence(of event: [String: Value]) -> [String: Value]? {
        guard case .string(let type)? = event["type"], !circumstantialTypes.contains(type) else { return nil }
        return event.filter { !incidentalFields.contains($0.key) }
    }
}
