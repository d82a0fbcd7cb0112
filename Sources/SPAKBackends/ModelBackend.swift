import Foundation
import SPAKKernel

/// A model server that answers `llm.query`: Ollama's `/api/chat` or an OpenAI-compatible
/// `/v1/chat/completions`. Each query is one chat request with the program's options
/// (deterministic by default), retried on 408, 429, 5xx and connection faults with backoff
/// and jitter, honouring `Retry-After`, up to a bounded number of attempts. Every attempt is
/// returned for the record; when it gives up, the error names the server and the cause.
public final class ModelBackend {
    /// How to reach the server and how patiently.
    public let settings: BackendSettings
    /// Where a streamed reply is shown as it comes (`nil`: shown nowhere).
    let liveOutput: (@Sendable (String) -> Void)?
    let transport: HTTPTransport
    private let retry: RetryPolicy
    /// The API key, removed from every message (a server may echo it in an error).
    private let key: Secrets
    /// Waits between attempts (tests pass one that records instead of sleeping).
    private let sleep: (Double) -> Void
    /// How a reply of a schema's shape is asked of an OpenAI-compatible server; it changes
    /// once if the server refuses the standard spelling.
    private var schemaStyle = SchemaStyle.jsonSchema

    /// The largest reply accepted, in bytes of its text (UTF-8), streamed or not: the same
    /// cap as any other answer.
    public static let replyLimit = 64 << 20
    /// This backend's cap (tests lower it to try both sides of it cheaply).
    var limit = ReplyLimit(text: ModelBackend.replyLimit)

    /// A backend for `settings`. `liveOutput` receives a streamed reply's text as it arrives
    /// (pass one only when a person watches a terminal).
    public init(settings: BackendSettings, liveOutput: (@Sendable (String) -> Void)? = nil,
                sleep: @escaping (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        self.settings = settings
        if let liveOutput {
            self.liveOutput = { text in liveOutput(Self.printable(text)) }
        } else {
            self.liveOutput = nil
        }
        self.sleep = sleep
        // A whole reply's first byte comes only once it is complete: only the total timeout applies.
        transport = HTTPTransport(connectTimeout: settings.connectTimeout,
                                  firstByteTimeout: settings.stream ? settings.firstByteTimeout : nil)
        retry = RetryPolicy(maxAttempts: settings.maxAttempts, baseDelay: settings.retryDelay, maxDelay: settings.maxRetryDelay)
        key = settings.apiKey.map { Secrets(environment: [settings.apiKeyVariable: $0], declared: [settings.apiKeyVariable]) } ?? .none
    }

    /// The environment variables whose values must never be recorded (the API key's).
    public var secretVariables: Set<String> { [settings.apiKeyVariable] }

    /// Asks the server for the reply to an `llm.query` request; throws, with every attempt,
    /// when it gives up.
    public func answer(_ pending: PendingRequest) throws(AnswerFailure) -> Answer {
        let request = pending.request
        guard let model = request.fields["model"]?.textIfString ?? settings.model else {
            throw AnswerFailure("the \(settings.kind.rawValue) backend needs a model: pass --model NAME, set SPAK_MODEL, "
                                + "or give the query `model:`")
        }
        let timeout = request.fields["timeout"]?.number ?? settings.totalTimeout
        var headers = [("Content-Type", "application/json"), ("User-Agent", "spak/0.1"),
                       ("Accept", settings.stream ? (settings.kind == .openai ? "text/event-stream" : "application/x-ndjson") : "application/json")]
        if let key = settings.apiKey { headers.append(("Authorization", "Bearer " + key)) }

        var attempts: [Value] = []
        var failures = 0
        let started = Self.now()
        while true {
            let number = attempts.count + 1
            let body = ChatDialect.body(for: request, kind: settings.kind, model: model, stream: settings.stream, schemaStyle: schemaStyle)
            let attemptStarted = Self.now()
            let outcome = attempt(Array(JSON.serialize(body).utf8), headers: headers, timeout: timeout)
            let duration = Self.milliseconds(Self.now() - attemptStarted)
            switch outcome {
            case .success(let (reply, status, firstByte)):
                attempts.append(.map(["attempt": .int(number), "outcome": .string(AttemptOutcome.ok.description),
                                      "status": .int(status), "duration_ms": .float(duration),
                                      "first_byte_ms": .float(Self.milliseconds(firstByte))]))
                var answer = Answer(value: .string(reply.text), answeredBy: "\(settings.kind.rawValue): \(model) at \(settings.serverName)")
                answer.usage = usage(of: reply, request: request)
                answer.attempts = attempts
                answer.details = details(model: model, body: body, reply: reply, firstByte: firstByte,
                                         latency: Self.now() - started, attempts: number)
                return answer
            case .failure(let failure):
                var record: [String: Value] = ["attempt": .int(number), "outcome": .string(failure.outcome.description),
                                               "error": .string(key.redact(failure.description)), "duration_ms": .float(duration)]
                if let status = failure.status { record["status"] = .int(status) }
                failures += 1
                func givingUp(_ why: String) -> AnswerFailure {
                    attempts.append(.map(record))
                    let tries = "\(number) attempt\(number == 1 ? "" : "s")"
                    return AnswerFailure(key.redact("no reply from the \(settings.kind.rawValue) server at \(settings.serverName) "
                                                    + "(model \(model)): \(failure.description) (\(tries); \(why))"),
                                         attempts: attempts)
                }
                let refusedSchema = refusedSchemaFormat(failure, request: request)
                guard failure.outcome.isRetryable || refusedSchema else { throw givingUp("not retried: asking again would not help") }
                guard failures < retry.maxAttempts else { throw givingUp("the most --max-attempts allows") }
                if refusedSchema {
                    // Not a fault of the moment: the server knows only the other spelling, which
                    // is asked at once and used from now on.
                    schemaStyle = .jsonObject
                    record["fallback"] = .string("asked again with response_format json_object and the schema")
                    attempts.append(.map(record))
                    continue
                }
                switch retry.wait(afterFailures: failures, retryAfter: failure.retryAfter, random: Double.random(in: 0..<1)) {
                case .tooLong(let asked):
                    throw givingUp("the server asked to retry after \(seconds(asked)) s, longer than the longest wait, "
                                   + "\(seconds(retry.maxDelay)) s")
                case .seconds(let seconds):
                    record["retry_in_ms"] = .float(Self.milliseconds(seconds))
                    if let asked = failure.retryAfter { record["retry_after_s"] = .float(asked) }
                    attempts.append(.map(record))
                    liveOutput?("\n[spak: attempt \(number) failed: \(key.redact(failure.description)); "
                                + "retrying in \(String(format: "%.1f", seconds)) s]\n")
                    sleep(seconds)
                }
            }
        }
    }

    /// Whether an OpenAI-compatible server refused OpenAI's `json_schema` response format as
    /// an invalid request (llama-cpp-python knows only `json_object`, and answers 500 for
    /// that), so the query can be asked the other way.
    private func refusedSchemaFormat(_ failure: AttemptFailure, request: Value) -> Bool {
        guard settings.kind == .openai, schemaStyle == .jsonSchema, request.fields["schema"] != nil,
              let status = failure.status, [400, 422, 500].contains(status) else { return false }
        return failure.description.contains("response_format") && failure.description.contains("json_schema")
    }

    /// The reply's token counts; a part the server left out (Ollama omits the prompt's count
    /// when the prompt was cached) is estimated, and the usage marked so.
    private func usage(of reply: ChatReply, request: Value) -> TokenUsage? {
        guard let completion = reply.completionTokens else { return nil }
        if let prompt = reply.promptTokens { return TokenUsage(prompt: prompt, completion: completion) }
        let text = (request.fields["system"]?.text ?? "") + (request.fields["prompt"]?.text ?? "")
        return TokenUsage(prompt: TokenUsage.estimate(prompt: text, reply: "").prompt, completion: completion, estimated: true)
    }

    /// How the reply was produced, for the trace's `execution`: the options sent (the
    /// messages are the request's prompt and system message, recorded with it).
    private func details(model: String, body: Value, reply: ChatReply, firstByte: Double, latency: Double,
                         attempts: Int) -> [String: Value] {
        var details: [String: Value] = [
            "backend": .string(settings.kind.rawValue), "server": .string(settings.serverName), "model": .string(model),
            "latency_ms": .float(Self.milliseconds(latency)), "first_byte_ms": .float(Self.milliseconds(firstByte)),
            "attempts": .int(attempts), "streamed": .bool(settings.stream),
            "sent": .map(body.fields.filter { $0.key != "messages" }),
        ]
        if let name = reply.model { details["reply_model"] = .string(name) }
        if let reason = reply.finishReason { details["finish_reason"] = .string(reason) }
        return details
    }

    /// Text from a server made safe for a terminal: control characters other than line
    /// breaks and tabs (escape sequences among them) are shown as U+FFFD.
    private static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" || $0.value == 0x7F }) else {
            return text
        }
        return String(String.UnicodeScalarView(text.unicodeScalars.map {
            ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || $0.value == 0x7F ? "\u{FFFD}" : $0
        }))
    }

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    private static func milliseconds(_ seconds: Double) -> Double { (seconds * 1e6).rounded() / 1000 }
}

/// Seconds as messages show them: whole numbers without a fraction (`2`, `0.5`).
func seconds(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(format: "%.0f", value) : String(format: "%g", value)
}
