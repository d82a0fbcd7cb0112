import SPAKKernel

/// A model's reply, decoded from either protocol.
public struct ChatReply: Sendable, Equatable {
    /// The reply text.
    public var text = ""
    /// Why the model stopped (`stop`, `length`, …), when the server says.
    public var finishReason: String?
    /// The prompt's tokens, as the server counted them, when it says.
    public var promptTokens: Int?
    /// The reply's tokens, as the server counted them, when it says.
    public var completionTokens: Int?

    /// The most tokens one count may claim: anything beyond is not a count, and is dropped.
    static let maxTokenCount = 1_000_000_000_000
    /// The model the server says answered.
    public var model: String?
}

/// How an OpenAI-compatible server is asked for a reply of a JSON schema's shape.
enum SchemaStyle: Sendable {
    /// OpenAI's `{"type": "json_schema", "json_schema": {"name", "schema"}}` (OpenAI, vLLM,
    /// llama.cpp's server).
    case jsonSchema
    /// `{"type": "json_object", "schema": …}`, for servers that know only JSON mode with a
    /// schema beside it (llama-cpp-python).
    case jsonObject
}

/// How each protocol spells a chat request and its reply.
enum ChatDialect {
    /// The HTTP body for an `llm.query` request: the program's options, else deterministic
    /// defaults (temperature 0 and a fixed seed).
    static func body(for request: Value, kind: BackendSettings.Kind, model: String, stream: Bool,
                     schemaStyle: SchemaStyle = .jsonSchema) -> Value {
        let fields = request.fields
        var messages: [Value] = []
        if let system = fields["system"]?.text, !system.isEmpty {
            messages.append(.map(["role": .string("system"), "content": .string(system)]))
        }
        messages.append(.map(["role": .string("user"), "content": .string(fields["prompt"]?.text ?? "")]))
        let temperature = fields["temperature"].flatMap(\.number) ?? BackendSettings.defaultTemperature
        let seed = fields["seed"] ?? .int(BackendSettings.defaultSeed)
        var body: [String: Value] = ["model": .string(model), "messages": .list(messages), "stream": .bool(stream)]
        switch kind {
        case .ollama:
            var options: [String: Value] = ["temperature": .float(temperature), "seed": seed]
            if let limit = fields["max_tokens"] { options["num_predict"] = limit }
            if let stop = fields["stop"] { options["stop"] = stop }
            body["options"] = .map(options)
            if let schema = fields["schema"] { body["format"] = schema } else if fields["format"] == .string("json") {
                body["format"] = .string("json")
            }
        case .openai:
            body["temperature"] = .float(temperature)
            body["seed"] = seed
            if let limit = fields["max_tokens"] { body["max_tokens"] = limit }
            if let stop = fields["stop"] { body["stop"] = stop }
            if stream { body["stream_options"] = .map(["include_usage": .bool(true)]) }
            if let schema = fields["schema"] {
                body["response_format"] = switch schemaStyle {
                case .jsonSchema: .map(["type": .string("json_schema"), "json_schema": .map(["name": .string("reply"), "schema": schema])])
                case .jsonObject: .map(["type": .string("json_object"), "schema": schema])
                }
            } else if fields["format"] == .string("json") {
                body["response_format"] = .map(["type": .string("json_object")])
            }
        }
        return .map(body)
    }

    /// Decodes a whole (unstreamed) reply body: one JSON object.
    static func decode(_ body: [UInt8], kind: BackendSettings.Kind) throws(ReplyFault) -> ChatReply {
        let value = try parse(body[...], what: "the reply")
        var reply = ChatReply()
        _ = try apply(value, kind: kind, to: &reply, complete: true)
        return reply
    }

    /// The message in a server's error body (`{"error": {"message": …}}` or
    /// `{"error": "…"}`), or the body's start when it has none.
    static func errorMessage(in body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(4096), as: UTF8.self)
        if let value = try? JSON.parse(text), let message = reportedError(in: value) { return message }
        return excerpt(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The error a reply object reports (`{"error": {"message": …}}` or `{"error": "…"}`);
    /// `nil` when it reports none (no `error`, or `null`).
    private static func reportedError(in value: Value) -> String? {
        guard let error = value.fields["error"], error != .null else { return nil }
        return excerpt(error.fields["message"]?.text ?? error.text)
    }

    /// A token count a server sent, if it is one.
    private static func count(_ value: Value?) -> Int? {
        guard case .int(let count)? = value, (0...ChatReply.maxTokenCount).contains(count) else { return nil }
        return count
    }

    /// At most 200 characters of a text, on one line.
    static func excerpt(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count > 200 ? String(line.prefix(197)) + "..." : line
    }

    /// Folds one JSON object of a reply (whole, or one chunk of a stream) into `reply`;
    /// returns the text it added.
    static func apply(_ value: Value, kind: BackendSettings.Kind, to reply: inout ChatReply,
                      complete: Bool) throws(ReplyFault) -> String {
        let fields = value.fields
        if let error = reportedError(in: value) { throw ReplyFault(.errorReply, "the server reported an error: \(error)") }
        if case .string(let model)? = fields["model"] { reply.model = model }
        var piece = ""
        switch kind {
        case .ollama:
            if let message = fields["message"]?.fields, case .string(let content)? = message["content"] {
                piece = content
            } else if fields["done"] != .bool(true) {
                throw ReplyFault(.malformed, "the reply has no `message.content`")
            }
            if fields["done"] == .bool(true) {
                reply.finishReason = fields["done_reason"]?.textIfString ?? "stop"
                reply.promptTokens = count(fields["prompt_eval_count"])
                reply.completionTokens = count(fields["eval_count"])
            }
        case .openai:
            if let usage = fields["usage"]?.fields, let completion = count(usage["completion_tokens"]) {
                reply.promptTokens = count(usage["prompt_tokens"])
                reply.completionTokens = completion
            }
            guard case .list(let choices)? = fields["choices"], let choice = choices.first?.fields else {
                // The last chunk of a stream with `include_usage` has no choices.
                if !complete, case .list? = fields["choices"] { break }
                throw ReplyFault(.malformed, "the reply has no `choices`")
            }
            let message = complete ? choice["message"]?.fields : choice["delta"]?.fields
            if case .string(let content)? = message?["content"] {
                piece = content
            } else if complete {
                throw ReplyFault(.malformed, "the reply has no `choices[0].message.content`")
            }
            if case .string(let reason)? = choice["finish_reason"] { reply.finishReason = reason }
        }
        reply.text += piece
        return piece
    }

    static func parse(_ bytes: ArraySlice<UInt8>, what: String) throws(ReplyFault) -> Value {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ReplyFault(.malformed, "\(what) is not UTF-8 text")
        }
        do {
            return try JSON.parse(text)
        } catch {
            throw ReplyFault(.malformed, "\(what) is not JSON (\(error)): \(excerpt(text))")
        }
    }
}
