/// The `llm.query` calls of a run, gathered from its events while the trace is exported:
/// each call's step, who answered, tokens and (for a model backend) latency and attempts,
/// for `metrics.json`.
struct LLMCalls {
    private var steps: [Int: String] = [:]
    private var calls: [[String: Value]] = []

    /// Whether any call's tokens are the kernel's estimate (no server counted them).
    private(set) var anyEstimated = false

    /// An `effect.requested` line of an `llm.query` starts with this (keys are sorted).
    private static let requestedPrefix = Array(#"{"effect":"llm.query","index":"#.utf8)
    /// Only `effect.answered` events have `answered_by`, their first key.
    private static let answeredPrefix = Array(#"{"answered_by":"#.utf8)
    /// What a call's `execution` contributes to its line in `metrics.json`.
    private static let executionFields = ["backend", "model", "latency_ms", "first_byte_ms", "attempts"]

    /// Looks at one event line; only the few lines that can be about a query are parsed.
    mutating func notice(_ line: [UInt8]) {
        if line.starts(with: Self.requestedPrefix) {
            guard let event = try? JSON.parse(String(decoding: line, as: UTF8.self)).fields,
                  event["type"] == .string("effect.requested"), case .int(let index)? = event["index"] else { return }
            steps[index] = event["step"]?.textIfString ?? ""
        } else if line.starts(with: Self.answeredPrefix) {
            guard let event = try? JSON.parse(String(decoding: line, as: UTF8.self)).fields,
                  event["effect"] == .string("llm.query"), case .int(let index)? = event["index"] else { return }
            var call: [String: Value] = ["index": .int(index), "step": .string(steps[index] ?? ""),
                                         "answered_by": event["answered_by"] ?? .string("")]
            if let usage = event["usage"].flatMap(TokenUsage.init) {
                call["prompt_tokens"] = .int(usage.prompt)
                call["completion_tokens"] = .int(usage.completion)
                call["tokens_estimated"] = .bool(usage.estimated)
                anyEstimated = anyEstimated || usage.estimated
            }
            let execution = event["execution"]?.fields ?? [:]
            for name in Self.executionFields { if let value = execution[name] { call[name] = value } }
            calls.append(call)
        }
    }

    /// The `llm` object of `metrics.json`: every call, and the totals.
    var summary: Value {
        func total(_ key: String) -> Value {
            let numbers = calls.compactMap { $0[key]?.number }
            return numbers.contains(where: { $0 != $0.rounded() }) ? .float(numbers.reduce(0, +)) : .int(Int(numbers.reduce(0, +)))
        }
        return .map([
            "calls": .list(calls.map(Value.map)),
            "prompt_tokens": total("prompt_tokens"), "completion_tokens": total("completion_tokens"),
            "latency_ms": total("latency_ms"),
        ])
    }
}
