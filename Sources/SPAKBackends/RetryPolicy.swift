import Foundation

/// When to ask a server again and how long to wait first: exponential backoff with jitter,
/// or what the server's `Retry-After` asks for.
struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    var maxAttempts: Int
    /// The wait after the first failure, before jitter; it doubles after each further one.
    var baseDelay: Double
    /// The longest wait; a `Retry-After` asking for more ends the retries instead.
    var maxDelay: Double

    /// Whether an HTTP status is worth another attempt: overloaded (429), timed out (408)
    /// or failed on the server's side (5xx).
    static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status)
    }

    /// What the wait before the next attempt is, after `failures` failed attempts.
    enum Wait: Equatable {
        /// Wait this many seconds.
        case seconds(Double)
        /// The server asked for a longer wait than `maxDelay`: give up now.
        case tooLong(asked: Double)
    }

    /// The wait after the `failures`-th failed attempt. A `Retry-After` is honoured as asked;
    /// otherwise the backoff is `baseDelay × 2^(failures−1)`, capped at `maxDelay`, times a
    /// random factor in [0.5, 1) so that clients that failed together do not return together.
    func wait(afterFailures failures: Int, retryAfter: Double?, random: Double) -> Wait {
        if let retryAfter {
            return retryAfter > maxDelay ? .tooLong(asked: retryAfter) : .seconds(max(0, retryAfter))
        }
        let exponential = baseDelay * pow(2, Double(min(max(failures - 1, 0), 62)))
        return .seconds(min(maxDelay, exponential) * (0.5 + 0.5 * min(max(random, 0), 1)))
    }

    /// The longest `Retry-After` taken as it is: a year. Longer ones are read as this.
    static let longestRetryAfter = 365 * 86400.0

    /// The seconds a `Retry-After` header asks for: a number of seconds, or an HTTP date
    /// (`Wed, 21 Oct 2026 07:28:00 GMT`) counted from `now`; `nil` when it is neither.
    static func retryAfter(_ header: String, now: Date) -> Double? {
        let text = header.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 { return min(seconds, longestRetryAfter) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return min(max(0, date.timeIntervalSince(now)), longestRetryAfter)
    }
}
