import AsyncHTTPClient
import Foundation
import NIOCore
@testable import SPAKBackends
@testable import SPAKKernel
import Testing

/// Each outcome an attempt can have, named as the trace records it, and whether it is tried
/// again: every behaviour is played to a backend that may try twice.
@Suite("What became of an attempt")
struct AttemptOutcomeTests {
    private let query = PendingRequest(index: 0, effect: "llm.query", step: "ask", request: .map(["prompt": .string("Hi.")]),
                                       location: "1:1")

    /// The outcomes of the attempts a backend made at a query the server answers with `behaviour`.
    private func outcomes(_ behaviour: [String: Value], kind: BackendSettings.Kind = .openai, stream: Bool = true,
                          scheme: String = "http", configure: (inout BackendSettings) -> Void = { _ in }) throws -> [String] {
        let server = try ScriptedServer([.map(behaviour)])
        var settings = BackendSettings(kind: kind, baseURL: "\(scheme)://127.0.0.1:\(server.port)\(kind == .openai ? "/v1" : "")",
                                       model: "tiny", apiKeyVariable: "K")
        settings.stream = stream
        settings.maxAttempts = 2
        configure(&settings)
        let attempts: [Value]
        do {
            attempts = try ModelBackend(settings: settings, sleep: { _ in }).answer(query).attempts
        } catch {
            attempts = error.attempts
        }
        return attempts.map { $0.fields["outcome"]?.text ?? "?" }
    }

    @Test("a reply is ok; a status other than 2xx is named by it, and retried only when it is 408, 429 or 5xx")
    func statuses() throws {
        #expect(try outcomes(["reply": .string("hi")]) == ["ok"])
        #expect(try outcomes(["status": .int(503)]) == ["http 503", "http 503"])
        #expect(try outcomes(["status": .int(404)]) == ["http 404"])
        #expect(try outcomes(["status": .int(301), "headers": .map(["Location": .string("http://elsewhere/")])]) == ["http 301"])
    }

    @Test("a connection that cannot be opened is unreachable, and tried again")
    func unreachable() throws {
        var settings = BackendSettings(kind: .ollama, baseURL: "http://127.0.0.1:\(try closedPort())", model: "tiny", apiKeyVariable: "K")
        settings.maxAttempts = 2
        #expect {
            try ModelBackend(settings: settings, sleep: { _ in }).answer(query)
        } throws: { error in
            (error as? AnswerFailure)?.attempts.map { $0.fields["outcome"] } == [.string("unreachable"), .string("unreachable")]
        }
    }

    @Test("timeouts are named by which one ran out: first byte, a stalled stream, the whole attempt")
    func timeouts() throws {
        #expect(try outcomes(["reply": .string("late"), "delay": .float(2)]) { $0.firstByteTimeout = 0.3 }
                == ["first-byte timeout", "first-byte timeout"])
        #expect(try outcomes(["reply": .string("one two three"), "chunk_delay": .float(2)]) { $0.firstByteTimeout = 0.3 }
                == ["stalled", "stalled"])
        #expect(try outcomes(["reply": .string("one two three four"), "chunk_delay": .float(0.3)]) { $0.totalTimeout = 0.5 }
                == ["timeout", "timeout"])
    }

    @Test("a connection closed before the reply began is dropped; one closed in the middle of it is cut", arguments: [true, false])
    func closed(stream: Bool) throws {
        #expect(try outcomes(["drop": .bool(true)], stream: stream) == ["dropped", "dropped"])
        let shortBody = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 99\r\n\r\n{\"choices\": "
        #expect(try outcomes(["raw": .string(shortBody)], stream: stream) == ["cut", "cut"])
    }

    @Test("a stream whose connection closes before its final event is cut", arguments: [BackendSettings.Kind.openai, .ollama])
    func streamClosed(kind: BackendSettings.Kind) throws {
        #expect(try outcomes(["reply": .string("one two three"), "cut_after": .int(2)], kind: kind) == ["cut", "cut"])
    }

    @Test("a stream that ends without its final event is cut", arguments: [BackendSettings.Kind.openai, .ollama])
    func ended(kind: BackendSettings.Kind) throws {
        #expect(try outcomes(["reply": .string("one two three"), "end_after": .int(2)], kind: kind) == ["cut", "cut"])
    }

    @Test("what is not HTTP, a TLS failure, a reply not the protocol's and a reported error are named so; only the first is retried")
    func replies() throws {
        #expect(try outcomes(["raw": .string("SSH-2.0-OpenSSH_9.6\r\n")]) == ["invalid http", "invalid http"])
        #expect(try outcomes(["reply": .string("hi")], scheme: "https") == ["tls"])
        #expect(try outcomes(["body": .string("{\"choices\": [")], stream: false) == ["malformed"])
        #expect(try outcomes(["body": .string(#"{"error": {"message": "model not loaded"}}"#)]) == ["error reply"])
    }

    @Test("faults no scripted server can cause are named from the client's errors")
    func clientErrors() {
        func named(_ error: any Error, headReceived: Bool = false) -> AttemptOutcome {
            ReplyFault.transport(error, headReceived: headReceived, connectTimeout: 1, firstByteTimeout: 1, timeout: 1).outcome
        }
        #expect(named(HTTPClientError.connectTimeout) == .connectTimeout)
        #expect(named(HTTPClientError.tlsHandshakeTimeout) == .connectTimeout)
        #expect(named(HTTPClientError.invalidURL) == .unsendable && !AttemptOutcome.unsendable.isRetryable)
        #expect(named(IOError(errnoCode: ECONNRESET, reason: "read")) == .dropped)
        #expect(named(IOError(errnoCode: ECONNRESET, reason: "read"), headReceived: true) == .cut)
        #expect(named(ChannelError.ioOnClosedChannel) == .transport && AttemptOutcome.transport.isRetryable)
    }
}

extension Error {
    /// The attempts of a backend's failure.
    fileprivate var attempts: [Value] { (self as? AnswerFailure)?.attempts ?? [] }
}
