import SPAKKernel
import Testing
@testable import SPAKBackends

@Suite("Chat requests and replies")
struct ChatDialectTests {
    private let request = Value.map(["prompt": .string("Hi"), "system": .string("Be brief."), "max_tokens": .int(5),
                                     "stop": .list([.string("\n")]), "format": .string("json")])

    @Test("deterministic defaults: temperature 0 and a fixed seed, unless the query says otherwise")
    func defaults() {
        let body = ChatDialect.body(for: .map(["prompt": .string("Hi")]), kind: .openai, model: "m", stream: false).fields
        #expect(body["temperature"] == .float(0) && body["seed"] == .int(0) && body["model"] == .string("m"))
        #expect(body["messages"] == .list([.map(["role": .string("user"), "content": .string("Hi")])]))
        let chosen = ChatDialect.body(for: .map(["prompt": .string("Hi"), "temperature": .float(0.7), "seed": .int(9)]),
                                      kind: .ollama, model: "m", stream: true).fields
        #expect(chosen["options"]?.fields["temperature"] == .float(0.7) && chosen["options"]?.fields["seed"] == .int(9))
        #expect(chosen["stream"] == .bool(true))
    }

    @Test("each protocol spells the options its own way")
    func options() {
        let openai = ChatDialect.body(for: request, kind: .openai, model: "m", stream: true).fields
        #expect(openai["max_tokens"] == .int(5) && openai["stop"] == .list([.string("\n")]))
        #expect(openai["response_format"] == .map(["type": .string("json_object")]))
        #expect(openai["stream_options"] == .map(["include_usage": .bool(true)]))
        guard case .list(let messages)? = openai["messages"] else { Issue.record("no messages"); return }
        #expect(messages.first?.fields["role"] == .string("system"))
        let ollama = ChatDialect.body(for: request, kind: .ollama, model: "m", stream: false).fields
        #expect(ollama["options"]?.fields["num_predict"] == .int(5) && ollama["format"] == .string("json"))
        let schema = Value.map(["type": .string("object")])
        let structured = Value.map(["prompt": .string("Hi"), "schema": schema, "format": .string("json")])
        #expect(ChatDialect.body(for: structured, kind: .ollama, model: "m", stream: false).fields["format"] == schema)
        let format = ChatDialect.body(for: structured, kind: .openai, model: "m", stream: false).fields["response_format"]
        #expect(format?.fields["type"] == .string("json_schema") && format?.fields["json_schema"]?.fields["schema"] == schema)
    }

    @Test("whole replies decode with their usage and finish reason")
    func wholeReplies() throws {
        let openai = Array(#"{"model":"m1","choices":[{"message":{"content":"Hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#.utf8)
        let reply = try ChatDialect.decode(openai, kind: .openai)
        #expect(reply.text == "Hello" && reply.model == "m1" && reply.finishReason == "stop")
        #expect(reply.promptTokens == 3 && reply.completionTokens == 1)
        let ollama = Array(#"{"model":"m2","message":{"content":"Hey"},"done":true,"prompt_eval_count":4,"eval_count":2}"#.utf8)
        let other = try ChatDialect.decode(ollama, kind: .ollama)
        #expect(other.text == "Hey" && other.promptTokens == 4 && other.completionTokens == 2 && other.finishReason == "stop")
    }

    @Test("counts that cannot be counts are dropped, and a null error is no error")
    func untrustedFields() throws {
        let body = Array(#"{"error":null,"choices":[{"message":{"content":"ok"}}],"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":-4}}"#.utf8)
        let reply = try ChatDialect.decode(body, kind: .openai)
        #expect(reply.text == "ok" && reply.promptTokens == nil && reply.completionTokens == nil)
        let cached = Array(#"{"message":{"content":"ok"},"done":true,"eval_count":2}"#.utf8)
        let ollama = try ChatDialect.decode(cached, kind: .ollama)
        #expect(ollama.promptTokens == nil && ollama.completionTokens == 2)
    }

    @Test("malformed replies and reported errors name what is wrong and are not worth retrying")
    func malformed() {
        for (body, words, outcome) in [("{\"choices\": [", "not JSON", AttemptOutcome.malformed),
                                       ("{\"object\": 1}", "no `choices`", .malformed),
                                       (#"{"error": {"message": "model not loaded"}}"#, "model not loaded", .errorReply)] {
            #expect {
                try ChatDialect.decode(Array(body.utf8), kind: .openai)
            } throws: { error in
                guard let error = error as? ReplyFault else { return false }
                return error.description.contains(words) && error.outcome == outcome && !error.outcome.isRetryable
            }
        }
        #expect(ChatDialect.errorMessage(in: Array(#"{"error":"no such model"}"#.utf8)) == "no such model")
        #expect(ChatDialect.errorMessage(in: Array("Bad Gateway\n".utf8)) == "Bad Gateway")
    }
}

@Suite("Streamed replies")
struct StreamDecoderTests {
    private let sse = """
        : a comment
        data: {"model":"m","choices":[{"delta":{"role":"assistant"}}]}

        data: {"choices":[{"delta":{"content":"Hel"}}]}

        data: {"choices":[{"delta":{"content":"lo"},"finish_reason":"stop"}]}

        data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}

        data: [DONE]

        """

    /// The reply of a whole stream fed at once.
    private func decode(_ stream: String, kind: BackendSettings.Kind) throws -> ChatReply {
        var decoder = StreamDecoder(kind: kind)
        try decoder.feed(Array(stream.utf8)[...])
        return try decoder.finish()
    }

    @Test("server-sent events give the same reply whole or a byte at a time")
    func piecewise() throws {
        let bytes = Array(sse.utf8)
        let whole = try decode(sse, kind: .openai)
        #expect(whole.text == "Hello" && whole.promptTokens == 5 && whole.completionTokens == 2 && whole.finishReason == "stop")
        var decoder = StreamDecoder(kind: .openai)
        var shown = ""
        for byte in bytes { shown += try decoder.feed([byte][...]) }
        #expect(shown == "Hello")
        #expect(try decoder.finish() == whole)
    }

    @Test("Ollama's lines end with done, and carry the counts")
    func ndjson() throws {
        let lines = """
            {"model":"m","message":{"content":"Hi "},"done":false}
            {"model":"m","message":{"content":"there"},"done":false}
            {"model":"m","message":{"content":""},"done":true,"done_reason":"length","prompt_eval_count":3,"eval_count":2}

            """
        let reply = try decode(lines, kind: .ollama)
        #expect(reply.text == "Hi there" && reply.finishReason == "length" && reply.promptTokens == 3 && reply.completionTokens == 2)
    }

    @Test("a stream that ends before its final event is cut, and worth retrying")
    func cut() {
        let cut = String(sse.utf8.prefix(120))!
        #expect {
            try decode(cut, kind: .openai)
        } throws: { error in
            (error as? ReplyFault)?.outcome == .cut && AttemptOutcome.cut.isRetryable && "\(error)".contains("ended before")
        }
    }

    @Test("a line longer than any reply within the cap is refused before its end comes")
    func longLine() {
        var decoder = StreamDecoder(kind: .ollama, limit: ReplyLimit(text: 10))
        #expect {
            try decoder.feed(Array(repeating: UInt8(ascii: " "), count: ReplyLimit(text: 10).document + 1)[...])
        } throws: { error in
            (error as? ReplyFault)?.outcome == .tooLarge
        }
    }
}
