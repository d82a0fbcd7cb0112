import Foundation
@testable import SPAKKernel
import SPAKTestSupport
import Testing
@testable import SPAKBackends

/// Waits recorded instead of slept, so retries cost no time in tests.
final class RecordedWaits: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Double] = []
    var waits: [Double] { lock.withLock { recorded } }
    func wait(_ seconds: Double) { lock.withLock { recorded.append(seconds) } }
}

@Suite("The model backend against a real HTTP server")
struct ModelBackendTests {
    private let query = PendingRequest(index: 0, effect: "llm.query", step: "ask",
                                       request: .map(["prompt": .string("Say hi.")]), location: "3:5")

    private func backend(_ server: ScriptedServer, waits: RecordedWaits, configure: (inout BackendSettings) -> Void = { _ in })
        -> ModelBackend
    {
        var settings = BackendSettings(kind: .openai, baseURL: server.openAIBaseURL, model: "tiny", apiKeyVariable: "TEST_API_KEY",
                                       apiKey: "sk-secret-value-1")
        settings.stream = false
        settings.retryDelay = 0.25
        configure(&settings)
        return ModelBackend(settings: settings, sleep: { waits.wait($0) })
    }

    @Test("a reply comes back with its usage, latency, the options sent and one attempt")
    func reply() throws {
        let server = try ScriptedServer([.map(["reply": .string("Hi there")])])
        let answer = try backend(server, waits: RecordedWaits()).answer(query)
        #expect(answer.value == .string("Hi there") && answer.usage == TokenUsage(prompt: 11, completion: 2))
        #expect(answer.answeredBy == "openai: tiny at http://127.0.0.1:\(server.port)")
        #expect(answer.attempts.count == 1 && answer.attempts[0].fields["outcome"] == .string("ok"))
        #expect(answer.details["sent"]?.fields["temperature"] == .float(0) && answer.details["finish_reason"] == .string("stop"))
        let received = try server.requests()
        #expect(received.count == 1 && received[0]["path"] == .string("/v1/chat/completions"))
        #expect(received[0]["headers"]?.fields["Authorization"] == .string("Bearer sk-secret-value-1"))
        #expect(received[0]["body"]?.fields["seed"] == .int(0))
    }

    @Test("a 500 and a 429 with Retry-After are retried, the wait honoured, each attempt recorded")
    func retries() throws {
        let server = try ScriptedServer([
            .map(["status": .int(500), "error": .string("boom")]),
            .map(["status": .int(429), "headers": .map(["Retry-After": .string("3")])]),
            .map(["reply": .string("ok")]),
        ])
        let waits = RecordedWaits()
        let answer = try backend(server, waits: waits).answer(query)
        #expect(answer.value == .string("ok") && answer.attempts.count == 3)
        #expect(answer.attempts.map { $0.fields["outcome"] } == [.string("http 500"), .string("http 429"), .string("ok")])
        #expect(answer.attempts[0].fields["error"] == .string("HTTP 500 Internal Server Error: boom"))
        #expect(waits.waits.count == 2 && (0.125..<0.25).contains(waits.waits[0]) && waits.waits[1] == 3)
        #expect(answer.details["attempts"] == .int(3))
    }

    @Test("giving up names the server and the cause, and keeps every attempt")
    func givingUp() throws {
        let server = try ScriptedServer([.map(["status": .int(503), "error": .string("overloaded")])])
        let waits = RecordedWaits()
        #expect {
            try backend(server, waits: waits) { $0.maxAttempts = 3 }.answer(query)
        } throws: { error in
            guard let failure = error as? AnswerFailure else { return false }
            return failure.description.contains("no reply from the openai server at http://127.0.0.1:\(server.port) (model tiny)")
                && failure.description.contains("HTTP 503 Service Unavailable: overloaded (3 attempts")
                && failure.attempts.count == 3
        }
        #expect(waits.waits.count == 2)
    }

    @Test("a Retry-After of any size gives up cleanly, and a notice shown on a terminal hides the key")
    func hugeRetryAfter() throws {
        let server = try ScriptedServer([
            .map(["status": .int(503), "error": .string("busy sk-secret-value-1 \u{1B}[31m")]),
            .map(["status": .int(429), "headers": .map(["Retry-After": .string("1e300")])]),
        ])
        let shown = CapturedIO()
        var settings = BackendSettings(kind: .openai, baseURL: server.openAIBaseURL, model: "tiny", apiKeyVariable: "TEST_API_KEY",
                                       apiKey: "sk-secret-value-1")
        settings.retryDelay = 0
        let backend = ModelBackend(settings: settings, liveOutput: { shown.io.err($0) }, sleep: { _ in })
        #expect {
            try backend.answer(query)
        } throws: { error in
            "\(error)".contains("the server asked to retry after 31536000 s, longer than the longest wait, 60 s")
        }
        #expect(shown.err.contains("[redacted TEST_API_KEY]") && !shown.err.contains("sk-secret-value-1"))
        #expect(!shown.err.contains("\u{1B}"), "control characters from a server never reach the terminal")
    }

    @Test("the json_object fallback counts as an attempt")
    func fallbackCounts() throws {
        let server = try ScriptedServer([.map(["status": .int(400), "error": .string("response_format json_schema unsupported")])])
        let schemaQuery = PendingRequest(index: 0, effect: "llm.query", step: "ask",
                                         request: .map(["prompt": .string("Rate."), "schema": .map(["type": .string("object")])]),
                                         location: "1:1")
        #expect {
            try backend(server, waits: RecordedWaits()) { $0.maxAttempts = 1 }.answer(schemaQuery)
        } throws: { error in
            "\(error)".contains("(1 attempt; the most --max-attempts allows)")
        }
        #expect(try server.requests().count == 1)
    }

    @Test("a client error is not retried, and a key the server echoes is redacted")
    func clientError() throws {
        let server = try ScriptedServer([.map(["status": .int(401), "error": .string("bad key sk-secret-value-1")])])
        #expect {
            try backend(server, waits: RecordedWaits()).answer(query)
        } throws: { error in
            guard let failure = error as? AnswerFailure else { return false }
            return failure.attempts.count == 1 && failure.description.contains("[redacted TEST_API_KEY]")
                && !failure.description.contains("sk-secret-value-1") && failure.description.contains("not retried")
        }
    }

    @Test("a refused connection is retried, then reported as refused")
    func refused() throws {
        var settings = BackendSettings(kind: .ollama, baseURL: "http://127.0.0.1:\(try closedPort())", model: "tiny",
                                       apiKeyVariable: "K")
        settings.maxAttempts = 2
        settings.retryDelay = 0
        settings.stream = false
        let waits = RecordedWaits()
        #expect {
            try ModelBackend(settings: settings, sleep: { waits.wait($0) }).answer(query)
        } throws: { error in
            guard let failure = error as? AnswerFailure else { return false }
            return failure.description.contains("connection refused") && failure.attempts.count == 2
        }
    }

    @Test("a streamed reply is shown as it comes and recorded whole")
    func streamed() throws {
        let server = try ScriptedServer([.map(["reply": .string("one two three")])])
        let shown = CapturedIO()
        var settings = BackendSettings(kind: .openai, baseURL: server.openAIBaseURL, model: "tiny", apiKeyVariable: "K")
        settings.stream = true
        let answer = try ModelBackend(settings: settings, liveOutput: { shown.io.err($0) }).answer(query)
        #expect(answer.value == .string("one two three") && answer.details["streamed"] == .bool(true))
        #expect(shown.err == "one two three\n" && answer.usage?.completion == 3)
    }

    @Test("a whole reply is waited for as long as the total timeout, not the first-byte one")
    func wholeReplyTimeout() throws {
        let server = try ScriptedServer([.map(["reply": .string("slow"), "delay": .float(1.5)])])
        let answer = try backend(server, waits: RecordedWaits()) {
            $0.stream = false
            $0.firstByteTimeout = 0.5
            $0.totalTimeout = 10
        }.answer(query)
        #expect(answer.value == .string("slow"))
    }
}

/// A port on 127.0.0.1 that nothing listens on: bound once to learn a free one, then closed.
func closedPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
        }
    }
    guard bound else { throw ScriptedServer.ServerDidNotStart() }
    return Int(UInt16(bigEndian: address.sin_port))
}
