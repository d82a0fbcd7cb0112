import SPAKKernel

/// Decodes a streamed reply piece by piece: server-sent events (`data: {…}` lines, then
/// `data: [DONE]`) for OpenAI, one JSON object per line for Ollama. Feeding it the whole
/// body at once gives the same reply as feeding it in pieces.
struct StreamDecoder {
    let kind: BackendSettings.Kind
    /// Bounds the bytes one line may take before its end comes (`nil`: no bound).
    let limit: ReplyLimit?
    private(set) var reply = ChatReply()
    /// Whether the server said the reply is complete (`[DONE]`, or `"done": true`).
    private(set) var done = false
    private var partial: [UInt8] = []

    init(kind: BackendSettings.Kind, limit: ReplyLimit? = nil) {
        self.kind = kind
        self.limit = limit
    }

    /// Takes the next bytes; returns the text they completed (for showing as it comes).
    @discardableResult
    mutating func feed(_ bytes: ArraySlice<UInt8>) throws(ReplyFault) -> String {
        var text = ""
        var start = bytes.startIndex
        // Only the new bytes are searched for line ends, so a long stream costs linear time.
        while let newline = bytes[start...].firstIndex(of: 0x0A) {
            partial.append(contentsOf: bytes[start..<newline])
            try checkLineLength()
            text += try line(partial[...])
            partial.removeAll(keepingCapacity: true)
            start = newline + 1
        }
        partial.append(contentsOf: bytes[start...])
        try checkLineLength()
        return text
    }

    /// The reply, once the stream has ended; throws if it ended before the server said it
    /// was complete (a stream cut short).
    mutating func finish() throws(ReplyFault) -> ChatReply {
        if !partial.isEmpty {
            // A last line without its line break: whole, or what a cut left of it.
            _ = try? line(partial[...])
            partial = []
        }
        guard done else {
            throw ReplyFault(.cut, "the reply stream ended before the server said it was complete "
                             + "(\(reply.text.utf8.count) bytes of text received)")
        }
        return reply
    }

    private func checkLineLength() throws(ReplyFault) {
        if let limit, partial.count > limit.document { throw limit.documentTooLarge }
    }

    private mutating func line(_ raw: ArraySlice<UInt8>) throws(ReplyFault) -> String {
        var content = raw
        if content.last == 0x0D { content = content.dropLast() }
        guard !content.isEmpty, !done else { return "" }
        switch kind {
        case .openai:
            // Only `data:` fields carry chunks; comments (`:`), `event:` and `id:` are skipped.
            guard content.starts(with: Self.dataField) else { return "" }
            content = content.dropFirst(Self.dataField.count)
            if content.first == 0x20 { content = content.dropFirst() }
            if content.elementsEqual(Self.doneMarker) {
                done = true
                return ""
            }
            return try ChatDialect.apply(try ChatDialect.parse(content, what: "a stream chunk"), kind: kind, to: &reply, complete: false)
        case .ollama:
            let value = try ChatDialect.parse(content, what: "a stream line")
            let piece = try ChatDialect.apply(value, kind: kind, to: &reply, complete: false)
            if value.fields["done"] == .bool(true) { done = true }
            return piece
        }
    }

    private static let dataField = Array("data:".utf8)
    private static let doneMarker = Array("[DONE]".utf8)
}
