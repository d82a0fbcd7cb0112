@testable import SPAKBackends
@testable import SPAKKernel
import Testing

/// The reply cap counts the reply's text, streamed or not: a text of exactly the cap is
/// accepted and one byte more refused, whatever the framing (a stream of one-character
/// events, JSON escapes) adds on the wire.
@Suite("The reply size cap")
struct ReplyLimitTests {
    private static let cap = 1000
    private let query = PendingRequest(index: 0, effect: "llm.query", step: "ask", request: .map(["prompt": .string("Long.")]),
                                       location: "1:1")

    /// Asks a server that sends `count` times `fill`, in events of one character when streamed.
    private func ask(_ kind: BackendSettings.Kind, stream: Bool, fill: String, count: Int) throws -> Result<Answer, AnswerFailure> {
        let server = try ScriptedServer([.map(["reply_bytes": .int(count), "fill": .string(fill), "chunk_bytes": .int(1)])])
        let base = kind == .openai ? server.openAIBaseURL : "http://127.0.0.1:\(server.port)"
        var settings = BackendSettings(kind: kind, baseURL: base, model: "tiny", apiKeyVariable: "K")
        settings.stream = stream
        settings.maxAttempts = 2
        let backend = ModelBackend(settings: settings, sleep: { _ in })
        backend.limit = ReplyLimit(text: Self.cap)
        do throws(AnswerFailure) { return .success(try backend.answer(query)) } catch { return .failure(error) }
    }

    @Test("a reply of exactly the cap is accepted, one byte more refused at once", arguments: [
        (BackendSettings.Kind.openai, true), (.openai, false), (.ollama, true), (.ollama, false),
    ])
    func bothSides(kind: BackendSettings.Kind, stream: Bool) throws {
        // "x" goes on the wire as it is; `"` escaped as two bytes; "é" (two bytes of UTF-8) as
        // six (`\u00e9`, Python's default); in a stream each character is an event of its own.
        for (fill, size) in [("x", 1), ("\"", 1), ("é", 2)] {
            let atCap = try ask(kind, stream: stream, fill: fill, count: Self.cap / size)
            guard case .success(let answer) = atCap else {
                Issue.record("a reply of \(Self.cap) bytes of \(fill) was refused: \(atCap)")
                continue
            }
            #expect(answer.value.text.utf8.count == Self.cap && answer.details["streamed"] == .bool(stream))
            let over = try ask(kind, stream: stream, fill: fill, count: Self.cap / size + 1)
            guard case .failure(let failure) = over else {
                Issue.record("a reply over the cap was accepted")
                continue
            }
            #expect(failure.description.contains("the reply is larger than 1000 bytes (1 attempt; not retried"))
            #expect(failure.attempts.map { $0.fields["outcome"] } == [.string("too large")])
        }
    }

    @Test("a whole reply whose JSON is larger than any reply within the cap takes is refused unread")
    func document() throws {
        let padding = String(repeating: "p", count: ReplyLimit(text: Self.cap).document)
        let server = try ScriptedServer([.map(["body": .string(#"{"choices":[{"message":{"content":"ok"}}],"pad":"\#(padding)"}"#)])])
        var settings = BackendSettings(kind: .openai, baseURL: server.openAIBaseURL, model: "tiny", apiKeyVariable: "K")
        settings.stream = false
        let backend = ModelBackend(settings: settings, sleep: { _ in })
        backend.limit = ReplyLimit(text: Self.cap)
        #expect {
            try backend.answer(query)
        } throws: { error in
            "\(error)".contains("one JSON document of it takes more than 71536 bytes") && (error as? AnswerFailure)?.attempts.count == 1
        }
    }
}
