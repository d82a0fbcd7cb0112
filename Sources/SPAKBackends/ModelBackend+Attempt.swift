import Foundation
import SPAKKernel

extension ModelBackend {
    /// Why one attempt failed, and whether another may do better.
    struct AttemptFailure: Error, CustomStringConvertible {
        var description: String
        /// What happened, as the trace names it (`http 503`, `cut`, `malformed`, …).
        let outcome: AttemptOutcome
        var status: Int?
        var retryAfter: Double?

        init(_ fault: ReplyFault, status: Int? = nil) {
            description = fault.description
            outcome = fault.outcome
            self.status = status
        }
    }

    /// One HTTP request and the decoding of its reply. A streamed reply is decoded as it
    /// comes (and shown, where someone watches); a whole one once it is complete. Either way
    /// only the reply's text counts against the cap.
    func attempt(_ body: [UInt8], headers: [(String, String)], timeout: Double)
        -> Result<(reply: ChatReply, status: Int, firstByte: Double), AttemptFailure>
    {
        let stream = ReplyStream(kind: settings.kind, limit: limit, requested: settings.stream,
                                 liveOutput: settings.stream ? liveOutput : nil)
        let result = transport.post(settings.endpoint, headers: headers, body: body, timeout: timeout, limit: limit, stream: stream)
        stream.endDisplay()
        let reply: HTTPReply
        switch result {
        case .failure(let fault):
            return .failure(AttemptFailure(fault))
        case .success(let value):
            reply = value
        }
        guard (200..<300).contains(reply.status) else {
            var failure = AttemptFailure(ReplyFault(.http(reply.status), "HTTP \(reply.status) \(reply.reason)"), status: reply.status)
            if (300..<400).contains(reply.status) {
                failure.description += ": the server redirects to \(reply.location ?? "another address"); give that as the base URL"
            } else {
                let message = ChatDialect.errorMessage(in: reply.body)
                if !message.isEmpty { failure.description += ": \(message)" }
            }
            failure.retryAfter = reply.retryAfter.flatMap { RetryPolicy.retryAfter($0, now: Date()) }
            return .failure(failure)
        }
        do throws(ReplyFault) {
            // A server may answer a request to stream with a whole reply: its type said which came.
            let decoded = reply.streamed ? try stream.finish() : try ChatDialect.decode(reply.body, kind: settings.kind)
            try limit.check(decoded)
            return .success((decoded, reply.status, reply.firstByte))
        } catch {
            return .failure(AttemptFailure(error, status: reply.status))
        }
    }
}
