import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Why an attempt brought back no usable reply: the connection, a timeout, TLS, the size
/// cap, a reply that is not the protocol's or was cut short. Its outcome is what the trace
/// records, and says whether another attempt may do better.
struct ReplyFault: Error, CustomStringConvertible {
    /// What happened, in words a user can act on.
    let description: String
    /// The outcome's name in the trace.
    let outcome: AttemptOutcome

    init(_ outcome: AttemptOutcome, _ description: String) {
        self.outcome = outcome
        self.description = description
    }

    /// A failed request, named: `headReceived` tells a connection closed before the reply
    /// began (dropped) from one closed in the middle of it (cut), and a reply that never
    /// began from one that stalled. The timeouts are the attempt's, in seconds.
    static func transport(_ error: any Error, headReceived: Bool, connectTimeout: Double, firstByteTimeout: Double?,
                          timeout: Double) -> ReplyFault {
        if let fault = error as? ReplyFault { return fault }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout:
                return ReplyFault(.connectTimeout, "could not connect within \(seconds(connectTimeout)) s (connect timeout)")
            case .readTimeout:
                let limit = seconds(firstByteTimeout ?? timeout)
                return headReceived
                    ? ReplyFault(.stalled, "the reply stalled: no bytes came for \(limit) s")
                    : ReplyFault(.firstByteTimeout, "no reply within \(limit) s (first-byte timeout)")
            case .deadlineExceeded:
                return ReplyFault(.timeout, "the reply was not complete within \(seconds(timeout)) s (timeout)")
            case .remoteConnectionClosed, .uncleanShutdown:
                return closed(headReceived: headReceived)
            case .writeTimeout:
                return ReplyFault(.transport, "HTTP error: \(error)")
            default:
                // The client refused the request itself (a header it cannot send, say): the
                // same request would fail the same way.
                return ReplyFault(.unsendable, "HTTP error: \(error)")
            }
        }
        if let error = error as? NIOSSLError {
            if case .uncleanShutdown = error { return closed(headReceived: headReceived) }
            return ReplyFault(.tls, "TLS failed: \(error)")
        }
        if let error = error as? BoringSSLError {
            return ReplyFault(.tls, "TLS failed: \(error)")
        }
        if let error = error as? HTTPParserError {
            if case .invalidEOFState = error { return closed(headReceived: headReceived) }
            return ReplyFault(.invalidHTTP, "the reply is not valid HTTP (\(error))")
        }
        if let error = error as? NIOConnectionError {
            if let dns = error.dnsAError ?? error.dnsAAAAError { return ReplyFault(.unreachable, "cannot resolve \(error.host): \(dns)") }
            let causes = Set(error.connectionErrors.map { cause($0.error) }).sorted()
            return ReplyFault(.unreachable, "cannot connect: \(causes.isEmpty ? "no address" : causes.joined(separator: "; "))")
        }
        if let error = error as? IOError {
            if [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH].contains(error.errnoCode) {
                return ReplyFault(.unreachable, "cannot connect: \(cause(error))")
            }
            // A socket error once connected (a reset): the server went away.
            return closed(headReceived: headReceived, cause: cause(error))
        }
        return ReplyFault(.transport, cause(error))
    }

    /// The server closed the connection: before its reply began, or in the middle of it.
    private static func closed(headReceived: Bool, cause: String? = nil) -> ReplyFault {
        let detail = cause.map { " (\($0))" } ?? ""
        return headReceived
            ? ReplyFault(.cut, "the server closed the connection before the reply was complete\(detail)")
            : ReplyFault(.dropped, "the server closed the connection before replying\(detail)")
    }

    /// The system's words for a socket error (`connection refused`), else the error itself.
    private static func cause(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if let error = error as? ChannelError, case .connectTimeout = error { return "connect timeout" }
        return String(describing: error)
    }
}
