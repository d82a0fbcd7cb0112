import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// What one HTTP attempt brought back (any status).
struct HTTPReply: Sendable {
    /// The status code.
    var status: Int
    /// The status line's reason phrase.
    var reason: String
    /// The `Retry-After` header, if any.
    var retryAfter: String?
    /// The `Location` header of a redirect, if any.
    var location: String?
    /// The `Content-Type` header, if any.
    var contentType: String?
    /// The whole body; empty when it went to a `StreamedBody` instead.
    var body: [UInt8]
    /// Whether the body went to a `StreamedBody`.
    var streamed: Bool
    /// Seconds from sending the request to receiving the reply's head.
    var firstByte: Double
}

/// Takes the body of a streamed reply as it arrives, instead of the transport keeping it:
/// what is kept and counted is the reply's text, not the stream's framing. AsyncHTTPClient
/// calls it on one event loop, one piece at a time.
protocol StreamedBody: AnyObject, Sendable {
    /// Whether a 2xx reply of this content type is read as a stream (else it is kept whole).
    func isStream(contentType: String?) -> Bool
    /// Takes the next bytes of the stream; a fault ends the attempt.
    func receive(_ bytes: ArraySlice<UInt8>) throws(ReplyFault)
}

/// The HTTP client of a run's queries, built on AsyncHTTPClient. One connection is kept and
/// reused across the run's queries; the machine is synchronous, so each request blocks its
/// caller (never an event-loop thread) until the reply is complete.
final class HTTPTransport {
    private let client: HTTPClient
    private let connectTimeout: Double
    private let firstByteTimeout: Double?

    /// A client with a connect timeout and a first-byte (read) timeout, in seconds (`nil`: no
    /// read timeout; each request's deadline still applies). It never retries on its own (the
    /// backend does, and records each attempt) and never follows a redirect (a credential
    /// must not travel to another host).
    init(connectTimeout: Double, firstByteTimeout: Double?) {
        self.connectTimeout = connectTimeout
        self.firstByteTimeout = firstByteTimeout
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: Self.amount(connectTimeout), read: firstByteTimeout.map(Self.amount))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    deinit { try? client.syncShutdown() }

    /// POSTs `body` to `url` and waits for the whole reply, at most `timeout` seconds. A
    /// successful reply that `stream` takes as a stream goes to it as it arrives; any other
    /// body is kept, and one larger than `limit` allows a JSON document is cut off with a fault.
    func post(_ url: String, headers: [(String, String)], body: [UInt8], timeout: Double, limit: ReplyLimit,
              stream: (any StreamedBody)?) -> Result<HTTPReply, ReplyFault> {
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url, method: .POST, headers: HTTPHeaders(headers), body: .bytes(body))
        } catch {
            return .failure(ReplyFault(.unsendable, "the URL \(url) cannot be used (\(error))"))
        }
        let collector = ReplyCollector(limit: limit, stream: stream)
        let task = client.execute(request: request, delegate: collector, deadline: .now() + Self.amount(timeout))
        do {
            return .success(try task.futureResult.wait())
        } catch {
            return .failure(ReplyFault.transport(error, headReceived: collector.headReceived, connectTimeout: connectTimeout,
                                                 firstByteTimeout: firstByteTimeout, timeout: timeout))
        }
    }

    /// Seconds as NIO's nanoseconds, held between 1 ms and about 31 years.
    private static func amount(_ seconds: Double) -> TimeAmount {
        .nanoseconds(Int64(min(max(seconds.isNaN ? 0 : seconds, 0.001), 1e9) * 1e9))
    }
}

/// Gathers one reply: status, the headers that matter, the body (up to a cap, or handed to
/// a stream), and when its head came. AsyncHTTPClient calls it on one event loop, one call
/// at a time.
private final class ReplyCollector: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = HTTPReply

    private let limit: ReplyLimit
    private let stream: (any StreamedBody)?
    private let started = DispatchTime.now().uptimeNanoseconds
    private var head: HTTPResponseHead?
    private var firstByte = 0.0
    private var body: [UInt8] = []
    /// Whether the body goes to `stream`, decided when the head comes.
    private var streaming = false
    private let lock = NSLock()
    private var receivedHead = false
    /// How much of an error reply's body is kept.
    private static let errorBodyLimit = 64 << 10

    init(limit: ReplyLimit, stream: (any StreamedBody)?) {
        self.limit = limit
        self.stream = stream
    }

    /// Whether the reply's head had come (read by the waiting thread after a failure).
    var headReceived: Bool { lock.withLock { receivedHead } }

    func didReceiveHead(task: HTTPClient.Task<HTTPReply>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        self.head = head
        firstByte = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if let stream, (200..<300).contains(head.status.code) {
            streaming = stream.isStream(contentType: head.headers.first(name: "content-type"))
        }
        lock.withLock { receivedHead = true }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<HTTPReply>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        if streaming, let stream {
            do {
                try stream.receive(Array(buffer.readableBytesView)[...])
            } catch {
                return task.eventLoop.makeFailedFuture(error)
            }
            return task.eventLoop.makeSucceededVoidFuture()
        }
        if let status = head?.status.code, !(200..<300).contains(status) {
            // Only an error body's start is ever shown: the rest is read and dropped.
            body.append(contentsOf: buffer.readableBytesView.prefix(max(0, Self.errorBodyLimit - body.count)))
            return task.eventLoop.makeSucceededVoidFuture()
        }
        guard body.count + buffer.readableBytes <= limit.document else {
            return task.eventLoop.makeFailedFuture(limit.documentTooLarge)
        }
        body.append(contentsOf: buffer.readableBytesView)
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<HTTPReply>) throws -> HTTPReply {
        guard let head else { throw HTTPClientError.remoteConnectionClosed }
        return HTTPReply(status: Int(head.status.code), reason: head.status.reasonPhrase,
                         retryAfter: head.headers.first(name: "retry-after"), location: head.headers.first(name: "location"),
                         contentType: head.headers.first(name: "content-type"), body: body, streamed: streaming, firstByte: firstByte)
    }
}
