/// How large a reply may be. The cap counts the reply's text (its UTF-8 bytes, as it is
/// recorded), streamed or not: the protocol's framing (server-sent events, NDJSON lines, JSON
/// escapes, token counts) does not count, so a reply is accepted or refused alike however it
/// comes.
struct ReplyLimit: Sendable {
    /// The most bytes of reply text.
    let text: Int

    /// The most bytes one JSON document of a reply may take (a whole reply, or one line of a
    /// stream) before it is decoded: what the largest text within the cap takes when every
    /// byte of it is escaped (`\u0001`: 6 bytes), and 64 KiB for the rest of the document.
    var document: Int { text * 6 + (64 << 10) }

    /// Checks a decoded reply's text against the cap.
    func check(_ reply: ChatReply) throws(ReplyFault) {
        guard reply.text.utf8.count <= text else { throw tooLarge }
    }

    /// The fault of a reply whose text is over the cap.
    var tooLarge: ReplyFault { ReplyFault(.tooLarge, "the reply is larger than \(byteCount(text))") }

    /// The fault of a JSON document over `document`.
    var documentTooLarge: ReplyFault {
        ReplyFault(.tooLarge, "the reply is larger than \(byteCount(text)): one JSON document of it takes more than "
                   + "\(byteCount(document)), which no reply within the cap needs")
    }
}

/// A size as messages show it: `64 MiB` when it is a whole number of MiB, else in bytes.
func byteCount(_ bytes: Int) -> String {
    bytes > 0 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
}
