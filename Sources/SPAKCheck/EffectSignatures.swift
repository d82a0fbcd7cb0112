/// The contract of each effect: its arguments, which of them are Mustache templates, and
/// what it binds. The checker holds programs to it and the kernel implements it.
public struct EffectSignature: Sendable {
    /// A positional or named argument.
    public struct Parameter: Sendable {
        /// Its name (the label, for a named argument).
        public let name: String
        /// Its type.
        public let type: ValueType
        /// Whether a string literal written here is rendered as a Mustache template.
        public let isTemplate: Bool
    }

    /// `tool.read` and the like.
    public let name: String
    /// Positional parameters, in order.
    public let positional: [Parameter]
    /// How many positional arguments are required.
    public let requiredPositional: Int
    /// Named parameters.
    public let named: [Parameter]
    /// What `-> NAME` binds, or `nil` when the effect produces nothing to bind.
    public let result: ValueType?

    /// The named parameter with a label.
    public func namedParameter(_ label: String) -> Parameter? { named.first { $0.name == label } }
}

/// The four effects.
public enum Effects {
    /// The fields of what `tool.run(…) -> NAME` binds (without `as json`).
    public static let runResult = ValueType.record([
        RecordField("exit_code", .int), RecordField("signal", .int), RecordField("stdout", .string), RecordField("stderr", .string),
        RecordField("timed_out", .bool), RecordField("duration_ms", .int), RecordField("truncated", .bool),
    ])

    /// Every effect, by qualified name.
    public static let byName: [String: EffectSignature] = [
        "tool.read": EffectSignature(
            name: "tool.read",
            positional: [.init(name: "path", type: .string, isTemplate: true)], requiredPositional: 1,
            named: [.init(name: "max_bytes", type: .int, isTemplate: false)],
            result: .string),
        "tool.write": EffectSignature(
            name: "tool.write",
            positional: [.init(name: "path", type: .string, isTemplate: true),
                         .init(name: "content", type: .string, isTemplate: true)],
            requiredPositional: 2, named: [], result: nil),
        "tool.run": EffectSignature(
            name: "tool.run",
            positional: [.init(name: "command", type: .string, isTemplate: true)], requiredPositional: 1,
            named: [.init(name: "timeout", type: .duration, isTemplate: false),
                    .init(name: "shell", type: .bool, isTemplate: false),
                    .init(name: "env", type: .list(.string), isTemplate: false),
                    .init(name: "max_output", type: .int, isTemplate: false)],
            result: runResult),
        "llm.query": EffectSignature(
            name: "llm.query",
            positional: [.init(name: "prompt", type: .string, isTemplate: true)], requiredPositional: 0,
            named: [.init(name: "template", type: .string, isTemplate: false),
                    .init(name: "system", type: .string, isTemplate: true),
                    .init(name: "model", type: .string, isTemplate: false),
                    .init(name: "temperature", type: .float, isTemplate: false),
                    .init(name: "max_tokens", type: .int, isTemplate: false),
                    .init(name: "seed", type: .int, isTemplate: false),
                    .init(name: "stop", type: .list(.string), isTemplate: false),
                    .init(name: "timeout", type: .duration, isTemplate: false),
                    .init(name: "schema", type: .map(.any), isTemplate: false)],
            result: .string),
    ]
}
