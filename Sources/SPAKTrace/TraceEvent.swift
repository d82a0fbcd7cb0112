import SPAKKernel

/// One recorded event of a run, as read from `events.jsonl` (see docs/trace-format.md).
public struct TraceEvent: Sendable, Equatable {
    /// All of the event's fields, `type`, `seq` and `time` included.
    public let fields: [String: Value]

    /// Wraps an event's fields.
    public init(_ fields: [String: Value]) { self.fields = fields }

    /// The event's type (`step.started`, `effect.answered`, …); empty when it has none.
    public var type: String { fields["type"]?.textIfString ?? "" }

    /// Its position in its run's log.
    public var seq: Int? { if case .int(let seq)? = fields["seq"] { seq } else { nil } }

    /// A field.
    public subscript(_ key: String) -> Value? { fields[key] }

    /// A string field.
    public func string(_ key: String) -> String? { fields[key]?.textIfString }

    /// An integer field (also a float with no fraction).
    public func int(_ key: String) -> Int? {
        switch fields[key] {
        case .int(let value)?: value
        case .float(let value)? where value == value.rounded() && abs(value) < 1e15: Int(value)
        default: nil
        }
    }

    /// The part of the event the program determines (`nil` for a circumstantial event); see
    /// `EventComparison`.
    public var essence: [String: Value]? { EventComparison.essence(of: fields) }
}
