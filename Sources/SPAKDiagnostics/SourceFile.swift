/// A program's text with the tables that turn byte offsets into human positions.
///
/// Positions everywhere in SPAK are byte offsets into `bytes` (UTF-8). They become
/// `line:column` only when shown to a person: lines and columns are 1-based, and a column
/// counts Unicode scalars from the start of its line (a tab counts as one column).
public struct SourceFile: Sendable {
    /// The path as the user gave it; shown in diagnostics verbatim.
    public let path: String
    /// The UTF-8 bytes of the file, without a leading byte-order mark.
    public let bytes: [UInt8]
    /// Byte offset at which each line starts; `lineStarts[0] == 0`.
    public let lineStarts: [Int]

    /// Creates a source file from already validated UTF-8 text.
    public init(path: String, text: String) {
        self.init(path: path, validatedBytes: Array(text.utf8))
    }

    /// Creates a source file from bytes that are known to be valid UTF-8. A leading byte-order
    /// mark is dropped.
    public init(path: String, validatedBytes: [UInt8]) {
        self.path = path
        if validatedBytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            self.bytes = Array(validatedBytes.dropFirst(3))
        } else {
            self.bytes = validatedBytes
        }
        var starts = [0]
        for (offset, byte) in self.bytes.enumerated() where byte == UInt8(ascii: "\n") {
            starts.append(offset + 1)
        }
        self.lineStarts = starts
    }

    /// The whole text as a Swift string.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The text of a byte range.
    public func text(in range: SourceRange) -> String {
        let lower = max(0, min(range.start, bytes.count))
        let upper = max(lower, min(range.end, bytes.count))
        return String(decoding: bytes[lower..<upper], as: UTF8.self)
    }

    /// The 1-based line and column of a byte offset; offsets past the end map to the end.
    public func location(of offset: Int) -> SourceLocation {
        let clamped = max(0, min(offset, bytes.count))
        let lineIndex = lineIndex(containing: clamped)
        let start = lineStarts[lineIndex]
        var column = 1
        var index = start
        while index < clamped {
            if bytes[index] & 0xC0 != 0x80 { column += 1 }
            index += 1
        }
        // An offset inside a multi-byte scalar belongs to that scalar.
        if clamped < bytes.count, bytes[clamped] & 0xC0 == 0x80 { column -= 1 }
        return SourceLocation(line: lineIndex + 1, column: max(1, column))
    }

    /// The byte range of a 1-based line, without its line terminator (`\n` or `\r\n`).
    public func lineRange(_ line: Int) -> SourceRange {
        let index = max(0, min(line - 1, lineStarts.count - 1))
        let start = lineStarts[index]
        var end = index + 1 < lineStarts.count ? lineStarts[index + 1] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return SourceRange(start: start, end: max(start, end))
    }

    /// The number of lines; a file that ends with a newline has an empty last line.
    public var lineCount: Int { lineStarts.count }

    private func lineIndex(containing offset: Int) -> Int {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }
}

/// A position shown to a person: 1-based line and 1-based column in Unicode scalars.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// 1-based line number.
    public let line: Int
    /// 1-based column, counted in Unicode scalars.
    public let column: Int

    /// Creates a location.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `line:column`.
    public var description: String { "\(line):\(column)" }
}

/// A half-open byte range `start..<end` in a source file.
public struct SourceRange: Sendable, Hashable, Codable {
    /// First byte of the range.
    public var start: Int
    /// One past the last byte of the range.
    public var end: Int

    /// Creates a range; `end` is clamped to be at least `start`.
    public init(start: Int, end: Int) {
        self.start = start
        self.end = max(start, end)
    }

    /// An empty range at one offset.
    public static func at(_ offset: Int) -> SourceRange { SourceRange(start: offset, end: offset) }

    /// The smallest range covering both.
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(start: min(start, other.start), end: max(end, other.end))
    }
}
