/// Tokens one `llm.query` used: as the model's server counted them, or estimated from the
/// text's length when the answer came from elsewhere (a person, a responder, an answers file).
public struct TokenUsage: Sendable, Equatable {
    /// Tokens of the prompt (the system message included).
    public var prompt: Int
    /// Tokens of the reply.
    public var completion: Int
    /// Whether the counts are an estimate rather than the server's.
    public var estimated: Bool

    /// Both together: what the `llm.tokens` budget counts.
    public var total: Int { prompt + completion }

    /// Counts a server reported.
    public init(prompt: Int, completion: Int, estimated: Bool = false) {
        self.prompt = prompt
        self.completion = completion
        self.estimated = estimated
    }

    /// An estimate for text no server counted: a quarter of its UTF-8 bytes, rounded up.
    public static func estimate(prompt: String, reply: String) -> TokenUsage {
        TokenUsage(prompt: (prompt.utf8.count + 3) / 4, completion: (reply.utf8.count + 3) / 4, estimated: true)
    }

    /// The usage as `effect.answered` records it.
    public var value: Value {
        .map(["prompt_tokens": .int(prompt), "completion_tokens": .int(completion), "total_tokens": .int(total),
              "estimated": .bool(estimated)])
    }

    /// Reads what `value` wrote; `nil` for anything else.
    public init?(_ value: Value) {
        let fields = value.fields
        guard case .int(let prompt)? = fields["prompt_tokens"], case .int(let completion)? = fields["completion_tokens"],
              prompt >= 0, completion >= 0 else { return nil }
        self.init(prompt: prompt, completion: completion, estimated: fields["estimated"] == .bool(true))
    }
}
