import SPAKDiagnostics

/// Where each byte of a string literal's value is written in the source, so that a
/// diagnostic about an inline template points into the literal exactly: past the escapes of a
/// `"…"` string, and past the first line and the indentation that a `"""…"""` string drops.
struct LiteralSourceMap {
    /// The source offset of each value byte, and one more for the end of the value.
    private let offsets: [Int]
    private let literal: SourceRange

    /// Maps the literal at `range` in `source`, whose decoded value is `value`.
    init(_ source: [UInt8], literal range: SourceRange, value: String) {
        literal = range
        let triple: [UInt8] = [0x22, 0x22, 0x22]
        let mapped = if range.end - range.start >= 6, Array(source[range.start..<range.start + 3]) == triple {
            Self.multiline(source, content: range.start + 3..<range.end - 3, value: Array(value.utf8))
        } else {
            Self.quoted(source, content: range.start + 1..<max(range.start + 1, range.end - 1))
        }
        // A map out of step with the value (which the lexer decoded) is not used.
        offsets = mapped.count == value.utf8.count + 1 ? mapped : []
    }

    /// The source range of `length` value bytes from `offset`; the whole literal if the map
    /// cannot tell.
    func range(ofValueBytes offset: Int, length: Int) -> SourceRange {
        guard offset >= 0, offset + length < offsets.count else { return literal }
        let start = offsets[offset]
        return SourceRange(start: start, end: max(start, length == 0 ? start : offsets[offset + length - 1] + 1))
    }

    /// `"…"`: one value byte per source byte, except that an escape's bytes all map to its
    /// backslash.
    private static func quoted(_ source: [UInt8], content: Range<Int>) -> [Int] {
        var offsets: [Int] = []
        var index = content.lowerBound
        while index < content.upperBound {
            guard source[index] == 0x5C, index + 1 < content.upperBound else {
                offsets.append(index)
                index += 1
                continue
            }
            var produced = 1
            var length = 2
            if source[index + 1] == UInt8(ascii: "u"), let close = source[index..<content.upperBound].firstIndex(of: UInt8(ascii: "}")) {
                let hex = String(decoding: source[(index + 3)..<close], as: UTF8.self)
                produced = UInt32(hex, radix: 16).flatMap(Unicode.Scalar.init).map { String($0).utf8.count } ?? 1
                length = close + 1 - index
            }
            offsets += Array(repeating: index, count: produced)
            index += length
        }
        return offsets + [content.upperBound]
    }

    /// `"""…"""`: each line of the value is the end of a line of the source (what is dropped
    /// is the indentation before it and a carriage return after it), and the source's first
    /// line is dropped when it is blank.
    private static func multiline(_ source: [UInt8], content: Range<Int>, value: [UInt8]) -> [Int] {
        let raw = source[content]
        guard raw.contains(0x0A) else { return Array(content) + [content.upperBound] }
        var lines = raw.split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { $0.last == 0x0D ? $0.dropLast() : $0 }
        if let first = lines.first, first.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { lines.removeFirst() }
        var offsets: [Int] = []
        for (index, valueLine) in value.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            guard index < lines.count, valueLine.count <= lines[index].count else { return [] }
            let sourceLine = lines[index]
            let start = sourceLine.endIndex - valueLine.count
            offsets += Array(start..<sourceLine.endIndex)
            // The line break after this line, or the end of the literal after the last.
            offsets.append(source[sourceLine.endIndex..<content.upperBound].firstIndex(of: 0x0A) ?? content.upperBound)
        }
        return offsets
    }
}
