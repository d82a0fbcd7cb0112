/// The `llm.query` calls of a run, gathered from its events as the export passes them: each
/// call's step, who answered, tokens and (for a model backend) latency and attempts, for
/// `metrics.json`. It keeps only totals and the queries still unanswered, so the export can
/// go on from where it stopped without reading the log again.
struct LLMCalls: Equatable {
    /// The step of each query asked and not yet answered.
    private var pendingSteps: [Int: String] = [:]
    private var promptTokens = 0
    private var completionTokens = 0
    private var latency = 0.0
    private var latencyIsWhole = true

    /// Whether any call's tokens are the kernel's estimate (no server counted them).
    private(set) var anyEstimated = false

    /// An `effect.requested` line of an `llm.query` starts with this (keys are sorted).
    private static let requestedPrefix = Array(#"{"effect":"llm.query","index":"#.utf8)
    /// Only `effect.answered` events have `answered_by`, their first key.
    private static let answeredPrefix = Array(#"{"answered_by":"#.utf8)
    /// What a call's `execution` contributes to its line in `metrics.json`.
    private static let executionFields = ["backend", "model", "latency_ms", "first_byte_ms", "attempts"]

    init() {}

    /// Looks at one event line (only the few that can be about a query are parsed); returns
    /// the call it completes, for the `calls` list of `metrics.json`.
    mutating func notice(_ line: ArraySlice<UInt8>) -> Value? {
        if line.starts(with: Self.requestedPrefix) {
            guard let event = try? JSON.parse(bytes: Array(line)).fields,
                  event["type"] == .string("effect.requested"), case .int(let index)? = event["index"] else { return nil }
            pendingSteps[index] = event["step"]?.textIfString ?? ""
        } else if line.starts(with: Self.answeredPrefix) {
            guard let event = try? JSON.parse(bytes: Array(line)).fields,
                  event["effect"] == .string("llm.query"), case .int(let index)? = event["index"] else { return nil }
            var call: [String: Value] = ["index": .int(index), "step": .string(pendingSteps.removeValue(forKey: index) ?? ""),
                                         "answered_by": event["answered_by"] ?? .string("")]
            if let usage = event["usage"].flatMap(TokenUsage.init) {
                call["prompt_tokens"] = .int(usage.prompt)
                call["completion_tokens"] = .int(usage.completion)
                call["tokens_estimated"] = .bool(usage.estimated)
                promptTokens += usage.prompt
                completionTokens += usage.completion
                anyEstimated = anyEstimated || usage.estimated
            }
            let execution = event["execution"]?.fields ?? [:]
            for name in Self.executionFields { if let value = execution[name] { call[name] = value } }
            if let milliseconds = call["latency_ms"]?.number {
                latency += milliseconds
                latencyIsWhole = latencyIsWhole && milliseconds == milliseconds.rounded()
            }
            return .map(call)
        }
        return nil
    }

    /// The totals of the `llm` object of `metrics.json` (its `calls` are written one by one).
    var totals: [String: Value] {
        ["prompt_tokens": .int(promptTokens), "completion_tokens": .int(completionTokens),
         "latency_ms": latencyIsWhole ? .int(Int(latency)) : .float(latency)]
    }

    /// What the export keeps between stops.
    var value: Value {
        .map(["pending_steps": .map(Dictionary(uniqueKeysWithValues: pendingSteps.map { (String($0.key), Value.string($0.value)) })),
              "prompt_tokens": .int(promptTokens), "completion_tokens": .int(completionTokens), "latency_ms": .float(latency),
              "latency_whole": .bool(latencyIsWhole), "estimated": .bool(anyEstimated)])
    }

    /// Reads what `value` wrote; `nil` for anything else.
    init?(_ value: Value) {
        let fields = value.fields
        guard case .int(let prompt)? = fields["prompt_tokens"], case .int(let completion)? = fields["completion_tokens"],
              let latency = fields["latency_ms"]?.number, case .bool(let whole)? = fields["latency_whole"],
              case .bool(let estimated)? = fields["estimated"], case .map(let pending)? = fields["pending_steps"] else { return nil }
        for (key, step) in pending {
            guard let index = Int(key), let name = step.textIfString else { return nil }
            pendingSteps[index] = name
        }
        promptTokens = prompt
        completionTokens = completion
        self.latency = latency
        latencyIsWhole = whole
        anyEstimated = estimated
    }
}
