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
    /// The whole body.
    var body: [UInt8]
    /// Seconds from sending the request to receiving the reply's head.
    var firstByte: Double
}

/// Why an attempt brought back no whole reply: the connection, a timeout, TLS, the size cap.
struct TransportFault: Error, CustomStringConvertible {
    let description: String
    /// Whether asking again may help: yes for connection faults and timeouts; no for TLS
    /// failures, a request the client refuses to send, or a reply over the size cap.
    let retryable: Bool
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

    /// POSTs `body` to `url` and waits for the whole reply, at most `timeout` seconds. Bytes
    /// of a successful reply are passed to `onBytes` as they arrive (for showing a stream
    /// live); a reply of more than `limit` bytes is cut off with a fault.
    func post(_ url: String, headers: [(String, String)], body: [UInt8], timeout: Double, limit: Int,
              onBytes: (@Sendable (ArraySlice<UInt8>) -> Void)?) -> Result<HTTPReply, TransportFault> {
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url, method: .POST, headers: HTTPHeaders(headers), body: .bytes(body))
        } catch {
            return .failure(TransportFault(description: "the URL \(url) cannot be used (\(error))", retryable: false))
        }
        let collector = ReplyCollector(limit: limit, onBytes: onBytes)
        let task = client.execute(request: request, delegate: collector, deadline: .now() + Self.amount(timeout))
        do {
            return .success(try task.futureResult.wait())
        } catch {
            return .failure(fault(error, headReceived: collector.headReceived, timeout: timeout))
        }
    }

    /// A failure in words a user can act on.
    private func fault(_ error: any Error, headReceived: Bool, timeout: Double) -> TransportFault {
        if let tooLarge = error as? ReplyTooLarge {
            return TransportFault(description: "the reply is larger than \(tooLarge.limit / (1 << 20)) MiB", retryable: false)
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout:
                return TransportFault(description: "could not connect within \(seconds(connectTimeout)) s (connect timeout)", retryable: true)
            case .readTimeout:
                let limit = seconds(firstByteTimeout ?? timeout)
                let text = headReceived
                    ? "the reply stalled: no bytes came for \(limit) s"
                    : "no reply within \(limit) s (first-byte timeout)"
                return TransportFault(description: text, retryable: true)
            case .deadlineExceeded:
                return TransportFault(description: "the reply was not complete within \(seconds(timeout)) s (timeout)", retryable: true)
            case .remoteConnectionClosed:
                return TransportFault(description: "the server closed the connection before the reply was complete", retryable: true)
            case .writeTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout:
                return TransportFault(description: "HTTP error: \(error)", retryable: true)
            default:
                // The client refused the request itself (a header it cannot send, say): the
                // same request would fail the same way.
                return TransportFault(description: "HTTP error: \(error)", retryable: false)
            }
        }
        if let error = error as? NIOSSLError {
            return TransportFault(description: "TLS failed: \(error)", retryable: false)
        }
        if let error = error as? BoringSSLError {
            return TransportFault(description: "TLS failed: \(error)", retryable: false)
        }
        if let error = error as? HTTPParserError {
            if case .invalidEOFState = error {
                return TransportFault(description: "the server closed the connection before the reply was complete", retryable: true)
            }
            return TransportFault(description: "the reply is not valid HTTP (\(error))", retryable: true)
        }
        if let error = error as? NIOConnectionError {
            if let dns = error.dnsAError ?? error.dnsAAAAError { return TransportFault(description: "cannot resolve \(error.host): \(dns)", retryable: true) }
            let causes = Set(error.connectionErrors.map { Self.cause($0.error) }).sorted()
            return TransportFault(description: "cannot connect: \(causes.isEmpty ? "no address" : causes.joined(separator: "; "))", retryable: true)
        }
        return TransportFault(description: Self.cause(error), retryable: true)
    }

    /// The system's words for a socket error (`connection refused`), else the error itself.
    private static func cause(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if let error = error as? ChannelError, case .connectTimeout = error { return "connect timeout" }
        return String(describing: error)
    }

    /// Seconds as NIO's nanoseconds, held between 1 ms and about 31 years.
    private static func amount(_ seconds: Double) -> TimeAmount {
        .nanoseconds(Int64(min(max(seconds.isNaN ? 0 : seconds, 0.001), 1e9) * 1e9))
    }
}

/// A reply over the size cap.
struct ReplyTooLarge: Error {
    let limit: Int
}

/// Gathers one reply: status, the headers that matter, the body (up to a cap), and when its
/// head came. AsyncHTTPClient calls it on one event loop, one call at a time.
private final class ReplyCollector: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = HTTPReply

    private let limit: Int
    private let onBytes: (@Sendable (ArraySlice<UInt8>) -> Void)?
    private let started = DispatchTime.now().uptimeNanoseconds
    private var head: HTTPResponseHead?
    private var firstByte = 0.0
    private var body: [UInt8] = []
    private let lock = NSLock()
    private var receivedHead = false

    init(limit: Int, onBytes: (@Sendable (ArraySlice<UInt8>) -> Void)?) {
        self.limit = limit
        self.onBytes = onBytes
    }

    /// Whether the reply's head had come (read by the waiting thread after a failure).
    var headReceived: Bool { lock.withLock { receivedHead } }

    func didReceiveHead(task: HTTPClient.Task<HTTPReply>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        self.head = head
        firstByte = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        lock.withLock { receivedHead = true }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<HTTPReply>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard body.count + buffer.readableBytes <= limit else {
            return task.eventLoop.makeFailedFuture(ReplyTooLarge(limit: limit))
        }
        let start = body.count
        body.append(contentsOf: buffer.readableBytesView)
        if let onBytes, let status = head?.status.code, (200..<300).contains(status) { onBytes(body[start...]) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<HTTPReply>) throws -> HTTPReply {
        guard let head else { throw HTTPClientError.remoteConnectionClosed }
        return HTTPReply(status: Int(head.status.code), reason: head.status.reasonPhrase,
                         retryAfter: head.headers.first(name: "retry-after"), location: head.headers.first(name: "location"),
                         contentType: head.headers.first(name: "content-type"), body: body, firstByte: firstByte)
    }
}
