import Foundation
import Testing
@testable import SPAKBackends

@Suite("Retries")
struct RetryPolicyTests {
    private let policy = RetryPolicy(maxAttempts: 5, baseDelay: 1, maxDelay: 10)

    @Test("backoff doubles, is capped, and is jittered within [half, whole)")
    func backoff() {
        #expect(policy.wait(afterFailures: 1, retryAfter: nil, random: 0) == .seconds(0.5))
        #expect(policy.wait(afterFailures: 1, retryAfter: nil, random: 1) == .seconds(1))
        #expect(policy.wait(afterFailures: 3, retryAfter: nil, random: 0) == .seconds(2))
        #expect(policy.wait(afterFailures: 30, retryAfter: nil, random: 1) == .seconds(10))
        #expect(policy.wait(afterFailures: 1000, retryAfter: nil, random: 0.5) == .seconds(7.5))
    }

    @Test("Retry-After is honoured as asked, in seconds or as an HTTP date, unless it asks too much")
    func retryAfter() {
        #expect(policy.wait(afterFailures: 1, retryAfter: 3, random: 0) == .seconds(3))
        #expect(policy.wait(afterFailures: 1, retryAfter: 30, random: 0) == .tooLong(asked: 30))
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        #expect(RetryPolicy.retryAfter(" 7 ", now: now) == 7)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        #expect(RetryPolicy.retryAfter(formatter.string(from: now.addingTimeInterval(42)), now: now) == 42)
        #expect(RetryPolicy.retryAfter("soon", now: now) == nil)
        #expect(RetryPolicy.retryAfter("-1", now: now) == nil)
    }

    @Test("408, 429 and 5xx are retried; other statuses are not")
    func statuses() {
        #expect([408, 429, 500, 502, 503, 504].allSatisfy(RetryPolicy.isRetryable))
        #expect(![200, 301, 400, 401, 404, 422].contains(where: RetryPolicy.isRetryable))
    }
}
