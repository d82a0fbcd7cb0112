/// What became of one HTTP attempt at a query, as the trace's `effect.attempt` names it
/// (`outcome`), and whether another attempt may do better. docs/backends.md lists them.
enum AttemptOutcome: Sendable, Equatable, CustomStringConvertible {
    /// A whole reply came and was decoded.
    case ok
    /// The server answered with a status other than 2xx.
    case http(Int)
    /// No connection could be opened: refused, an unknown host, no route.
    case unreachable
    /// No connection (TLS included) within the connect timeout.
    case connectTimeout
    /// The reply did not begin within the first-byte timeout.
    case firstByteTimeout
    /// A reply that had begun stopped: no bytes for the first-byte timeout.
    case stalled
    /// The attempt was not over within its total timeout.
    case timeout
    /// The server closed the connection before its reply began.
    case dropped
    /// The reply began but was cut short: the connection closed before its end, or a
    /// stream ended before its final event (`data: [DONE]`, `"done": true`).
    case cut
    /// What came back is not HTTP.
    case invalidHTTP
    /// TLS failed: a certificate, a handshake, a session.
    case tls
    /// The reply's text is larger than the cap (or one JSON document of it larger than any
    /// reply within the cap takes).
    case tooLarge
    /// The reply is not the protocol's: not UTF-8, not JSON, no message in it.
    case malformed
    /// A 2xx reply that reports an error instead of a message (`{"error": …}`).
    case errorReply
    /// The client could not send the request at all (a URL or a header it cannot use).
    case unsendable
    /// A fault of the connection that none of the above names; the error says which.
    case transport

    /// The name the trace records: `ok`, `http 503`, `connect timeout`, `cut`, ….
    var description: String {
        switch self {
        case .ok: "ok"
        case .http(let status): "http \(status)"
        case .unreachable: "unreachable"
        case .connectTimeout: "connect timeout"
        case .firstByteTimeout: "first-byte timeout"
        case .stalled: "stalled"
        case .timeout: "timeout"
        case .dropped: "dropped"
        case .cut: "cut"
        case .invalidHTTP: "invalid http"
        case .tls: "tls"
        case .tooLarge: "too large"
        case .malformed: "malformed"
        case .errorReply: "error reply"
        case .unsendable: "unsendable"
        case .transport: "transport"
        }
    }

    /// Whether asking again may help: yes for faults of the moment (408, 429 and 5xx, the
    /// connection, timeouts, a cut reply); no when the same request would fail the same way
    /// (other statuses, TLS, a reply too large or not the protocol's, an error the server
    /// reported, a request that cannot be sent).
    var isRetryable: Bool {
        switch self {
        case .http(let status): RetryPolicy.isRetryable(status: status)
        case .unreachable, .connectTimeout, .firstByteTimeout, .stalled, .timeout, .dropped, .cut, .invalidHTTP, .transport: true
        case .ok, .tls, .tooLarge, .malformed, .errorReply, .unsendable: false
        }
    }
}
