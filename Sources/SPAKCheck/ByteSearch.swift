/// Byte-level searches, faster than `String` ones on the checker's hot paths.
extension [UInt8] {
    /// The first occurrence of `needle` within `range`.
    public func firstRange(of needle: [UInt8], in range: Range<Int>) -> Range<Int>? {
        guard !needle.isEmpty, range.count >= needle.count else { return nil }
        var start = range.lowerBound
        while start + needle.count <= range.upperBound {
            if self[start] == needle[0], self[start..<start + needle.count].elementsEqual(needle) {
                return start..<start + needle.count
            }
            start += 1
        }
        return nil
    }
}

extension String {
    /// Whether the text holds `{{`, the start of a Mustache tag (a fast byte scan).
    public var containsTemplateTag: Bool {
        var previous: UInt8 = 0
        for byte in utf8 {
            if byte == UInt8(ascii: "{"), previous == byte { return true }
            previous = byte
        }
        return false
    }
}
