/// The meaning of a `"""…"""` literal's raw text.
///
/// - Text with no line break is taken as written: `"""say "hi" twice"""` is `say "hi" twice`.
/// - Otherwise a first line holding only spaces or tabs is dropped, and when the closing
///   `"""` stands on a line of its own, that line's indentation is removed from every line
///   (and that line, with the line break before it, is dropped). Lines indented less keep
///   their text as written, with a warning.
/// - There are no escapes inside `"""`; Mustache's `{{…}}` passes through untouched.
public enum MultilineString {
    /// The value, and the offsets (into the raw text) of lines indented less than the closer.
    public static func dedent(_ raw: String) -> (value: String, underIndentedLineOffsets: [Int]) {
        guard raw.utf8.contains(UInt8(ascii: "\n")) else { return (raw, []) }
        // Split on bytes: "\r\n" is one Character, so a Character split would miss it.
        var lines = raw.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        var lineOffsets: [Int] = []
        var offset = 0
        for line in lines {
            lineOffsets.append(offset)
            offset += line.utf8.count + 1
        }
        // Windows line endings mean the same as Unix ones inside the literal.
        lines = lines.map { $0.utf8.last == UInt8(ascii: "\r") ? String(decoding: $0.utf8.dropLast(), as: UTF8.self) : $0 }
        if let first = lines.first, first.allSatisfy(isBlank) {
            lines.removeFirst()
            lineOffsets.removeFirst()
        }
        guard let last = lines.last, last.allSatisfy(isBlank), lines.count >= 1 else {
            return (lines.joined(separator: "\n"), [])
        }
        let indentation = last
        lines.removeLast()
        lineOffsets.removeLast()
        var underIndented: [Int] = []
        let body = lines.enumerated().map { index, line -> String in
            if line.hasPrefix(indentation) { return String(line.dropFirst(indentation.count)) }
            if line.allSatisfy(isBlank) { return "" }
            underIndented.append(lineOffsets[index])
            return line
        }
        return (body.joined(separator: "\n"), underIndented)
    }

    private static func isBlank(_ character: Character) -> Bool { character == " " || character == "\t" }
}
