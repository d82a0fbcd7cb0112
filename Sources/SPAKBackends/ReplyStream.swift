/// A streamed reply read as it arrives: decoded line by line (so only its text is kept, and
/// only its text counts against the cap), and shown live where someone watches. A server
/// that answers a request to stream with a whole reply (`Content-Type: application/json`) is
/// left to the transport, which keeps that body whole.
final class ReplyStream: StreamedBody, @unchecked Sendable {
    // AsyncHTTPClient calls `receive` on one event loop, one piece at a time; the waiting
    // thread reads the reply only after the request's future has completed.
    private var decoder: StreamDecoder
    private let limit: ReplyLimit
    private let requested: Bool
    private let liveOutput: (@Sendable (String) -> Void)?
    private var shown = false

    /// A stream of `kind`'s protocol. `requested`: whether the request asked for a stream
    /// (what a reply without a content type is taken to be). `liveOutput` shows the text as
    /// it comes.
    init(kind: BackendSettings.Kind, limit: ReplyLimit, requested: Bool, liveOutput: (@Sendable (String) -> Void)?) {
        decoder = StreamDecoder(kind: kind, limit: limit)
        self.limit = limit
        self.requested = requested
        self.liveOutput = liveOutput
    }

    func isStream(contentType: String?) -> Bool {
        contentType.map { !$0.lowercased().hasPrefix("application/json") } ?? requested
    }

    func receive(_ bytes: ArraySlice<UInt8>) throws(ReplyFault) {
        let text = try decoder.feed(bytes)
        guard decoder.reply.text.utf8.count <= limit.text else { throw limit.tooLarge }
        if !text.isEmpty, let liveOutput {
            liveOutput(text)
            shown = true
        }
    }

    /// The reply, once the stream has ended; a stream that ended before the server said it
    /// was complete is cut.
    func finish() throws(ReplyFault) -> ChatReply { try decoder.finish() }

    /// Ends the line the reply was shown on.
    func endDisplay() { if shown { liveOutput?("\n") } }
}
