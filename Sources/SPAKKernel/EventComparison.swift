/// Which part of a recorded event the program determines. Two executions of one program
/// with the same answers produce the same essences; what differs between them (when an event
/// happened, how long a step took, who supplied an answer and how) is left out. Replay,
/// forks and `spak trace diff` compare events this way.
public enum EventComparison {
    /// Events about how answers arrived and the process's life, not about what the program did.
    public static let circumstantialTypes: Set<String> = [
        "run.suspended", "run.resumed", "recovery", "effect.attempt", "effect.unanswered", "run.forked",
    ]

    /// Whether an event is about what the program did (not circumstantial).
    public static func isEssential(_ event: [String: Value]) -> Bool {
        guard case .string(let type)? = event["type"] else { return false }
        return !circumstantialTypes.contains(type)
    }

    /// Whether two events have the same essence, without building either (a replay compares
    /// every event, so this is its hot path).
    public static func sameEssence(_ a: [String: Value], _ b: [String: Value]) -> Bool {
        var compared = 0
        for (key, value) in a where !isIncidental(key) {
            guard b[key] == value else { return false }
            compared += 1
        }
        var inB = 0
        for key in b.keys where !isIncidental(key) { inB += 1 }
        return compared == inB
    }

    /// Whether a field is incidental: it measures time, says who answered and how, or where in
    /// the source a request was made (a comment added above it moves it), so it differs between
    /// two executions of the same program with the same answers. (A `switch` over short
    /// strings: a replay asks this for every field of every event.)
    public static func isIncidental(_ key: String) -> Bool {
        switch key {
        case "seq", "time", "duration_ms", "reexecuted", "program_hash", "answered_by", "answers_used", "execution", "usage",
             "location": true
        default: false
        }
    }

    /// The event without its incidental fields; `nil` for a circumstantial event.
    public static func essence(of event: [String: Value]) -> [String: Value]? {
        guard case .string(let type)? = event["type"], !circumstantialTypes.contains(type) else { return nil }
        return event.filter { !isIncidental($0.key) }
    }
}
