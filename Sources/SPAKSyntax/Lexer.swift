import SPAKDiagnostics

/// Splits a source file into tokens and comments, reporting every lexical error.
///
/// The terminals are tried in the order `grammar.lark` gives them (first match wins):
/// multi-line string, duration, string, float, comment, integer, then names and punctuation.
struct Lexer {
    let file: SourceFile
    private let bytes: [UInt8]
    private var position = 0
    private(set) var tokens: [Token] = []
    private(set) var comments: [Comment] = []
    private(set) var diagnostics: [Diagnostic] = []
    /// Errors found past `SPAKParser.storedDiagnosticsLimit`, counted but not kept.
    private(set) var droppedErrors = 0
    /// Decoded values of string tokens, by the token's start offset.
    private(set) var stringValues: [Int: String] = [:]

    init(file: SourceFile) {
        self.file = file
        self.bytes = file.bytes
    }

    mutating func run() {
        while true {
            skipWhitespace()
            guard position < bytes.count else { break }
            lexToken()
        }
        tokens.append(Token(kind: .endOfFile, range: .at(bytes.count)))
    }

    // MARK: - Dispatch

    private mutating func lexToken() {
        let start = position
        let byte = bytes[position]
        if byte == Ascii.quote {
            if lexMultilineString() { return }
            lexString()
        } else if Ascii.isDigit(byte) {
            lexNumber()
        } else if byte == Ascii.slash, peek(1) == Ascii.slash {
            while position < bytes.count, bytes[position] != Ascii.newline { position += 1 }
            var end = position
            if end > start, bytes[end - 1] == Ascii.carriageReturn { end -= 1 }
            let range = SourceRange(start: start, end: end)
            comments.append(Comment(text: file.text(in: range), range: range))
        } else if Ascii.isIdentifierStart(byte) {
            while position < bytes.count, Ascii.isIdentifierContinue(bytes[position]) { position += 1 }
            let kind: TokenKind = Keyword.match(bytes[start..<position]).map { .keyword($0) } ?? .name
            tokens.append(Token(kind: kind, range: SourceRange(start: start, end: position)))
        } else if let (kind, length) = punctuation(at: position) {
            position += length
            tokens.append(Token(kind: kind, range: SourceRange(start: start, end: position)))
        } else {
            lexUnexpectedCharacter()
        }
    }

    /// One diagnostic and one token for a run of characters no terminal matches (a binary
    /// file is one run per line, not one error per byte).
    private mutating func lexUnexpectedCharacter() {
        let start = position
        position += 1
        while position < bytes.count, bytes[position] & 0xC0 == 0x80 { position += 1 }
        let first = SourceRange(start: start, end: position)
        while position < bytes.count, startsUnexpectedCharacter(at: position) {
            position += 1
            while position < bytes.count, bytes[position] & 0xC0 == 0x80 { position += 1 }
        }
        let range = SourceRange(start: start, end: position)
        let scalar = file.text(in: first).unicodeScalars.first ?? "?"
        let shown = scalar.value < 0x20 || scalar.value == 0x7F || scalar.properties.isWhitespace
            ? "U+\(String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4))"
            : "`\(scalar)`"
        report(.unexpectedCharacter(shown), at: range, fixIts: fixIts(forUnexpected: range))
        tokens.append(Token(kind: .invalid, range: range))
    }

    /// Repairs for characters other languages use: `&&`, `||`, `!`, `;` and `'…'`.
    private func fixIts(forUnexpected range: SourceRange) -> [FixIt] {
        switch file.text(in: range) {
        case "&&": return [FixIt(replace: range, with: "and")]
        case "||": return [FixIt(replace: range, with: "or")]
        case "!": return [FixIt(replace: range, with: "not ")]
        case ";": return [FixIt(replace: range, with: "")]
        case "'":
            var end = range.end
            while end < bytes.count, bytes[end] != UInt8(ascii: "'"), bytes[end] != Ascii.newline { end += 1 }
            guard end < bytes.count, bytes[end] == UInt8(ascii: "'") else { return [] }
            let inner = file.text(in: SourceRange(start: range.end, end: end))
            guard !inner.contains("\""), !inner.contains("\\") else { return [] }
            return [FixIt(replace: SourceRange(start: range.start, end: end + 1), with: "\"\(inner)\"")]
        default: return []
        }
    }

    /// The punctuation at `index` and its length, longest spelling first (`...` before `.`).
    private func punctuation(at index: Int) -> (TokenKind, Int)? {
        let next = index + 1 < bytes.count ? bytes[index + 1] : 0
        switch bytes[index] {
        case UInt8(ascii: "("): return (.leftParen, 1)
        case UInt8(ascii: ")"): return (.rightParen, 1)
        case UInt8(ascii: "{"): return (.leftBrace, 1)
        case UInt8(ascii: "}"): return (.rightBrace, 1)
        case UInt8(ascii: "["): return (.leftBracket, 1)
        case UInt8(ascii: "]"): return (.rightBracket, 1)
        case UInt8(ascii: ","): return (.comma, 1)
        case UInt8(ascii: ":"): return (.colon, 1)
        case UInt8(ascii: "+"): return (.plus, 1)
        case UInt8(ascii: "*"): return (.star, 1)
        case UInt8(ascii: "/"): return (.slash, 1)
        case UInt8(ascii: "%"): return (.percent, 1)
        case UInt8(ascii: "."):
            let third = index + 2 < bytes.count ? bytes[index + 2] : 0
            return next == Ascii.dot && third == Ascii.dot ? (.ellipsis, 3) : (.dot, 1)
        case UInt8(ascii: "-"): return next == UInt8(ascii: ">") ? (.arrow, 2) : (.minus, 1)
        case UInt8(ascii: "="): return next == UInt8(ascii: "=") ? (.equal, 2) : (.assign, 1)
        case UInt8(ascii: "!"): return next == UInt8(ascii: "=") ? (.notEqual, 2) : nil
        case UInt8(ascii: "<"): return next == UInt8(ascii: "=") ? (.lessEqual, 2) : (.less, 1)
        case UInt8(ascii: ">"): return next == UInt8(ascii: "=") ? (.greaterEqual, 2) : (.greater, 1)
        default: return nil
        }
    }

    /// Whether no token can start at `index` (and it is not whitespace).
    private func startsUnexpectedCharacter(at index: Int) -> Bool {
        let byte = bytes[index]
        switch byte {
        case Ascii.space, Ascii.tab, Ascii.newline, Ascii.carriageReturn, Ascii.quote: return false
        default: return !Ascii.isDigit(byte) && !Ascii.isIdentifierStart(byte) && punctuation(at: index) == nil
        }
    }

    // MARK: - Whitespace

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case Ascii.space, Ascii.tab, Ascii.newline, Ascii.carriageReturn: position += 1
            default: return
            }
        }
    }

    // MARK: - Numbers

    /// DURATION, then FLOAT, then INT, exactly as the grammar's priorities order them.
    private mutating func lexNumber() {
        let start = position
        let integerEnd = digitsEnd(from: start)
        var fractionEnd: Int?
        if integerEnd < bytes.count, bytes[integerEnd] == Ascii.dot,
           integerEnd + 1 < bytes.count, Ascii.isDigit(bytes[integerEnd + 1]) {
            fractionEnd = digitsEnd(from: integerEnd + 1)
        }
        if let unitEnd = durationUnitEnd(at: fractionEnd ?? integerEnd) {
            emit(.duration, from: start, to: unitEnd)
        } else if let fractionEnd {
            emit(.float, from: start, to: exponentEnd(at: fractionEnd) ?? fractionEnd)
        } else {
            emit(.integer, from: start, to: integerEnd)
        }
    }

    private func digitsEnd(from index: Int) -> Int {
        var end = index
        while end < bytes.count, Ascii.isDigit(bytes[end]) { end += 1 }
        return end
    }

    /// `ms`, `s`, `m` or `h`, not followed by a name character.
    private func durationUnitEnd(at index: Int) -> Int? {
        for unit in ["ms", "s", "m", "h"] {
            let unitBytes = Array(unit.utf8)
            guard index + unitBytes.count <= bytes.count,
                  Array(bytes[index..<index + unitBytes.count]) == unitBytes else { continue }
            let after = index + unitBytes.count
            if after < bytes.count, Ascii.isIdentifierContinue(bytes[after]) { continue }
            return after
        }
        return nil
    }

    private func exponentEnd(at index: Int) -> Int? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") else {
            return nil
        }
        var digitsStart = index + 1
        if digitsStart < bytes.count, bytes[digitsStart] == Ascii.plus || bytes[digitsStart] == Ascii.minus {
            digitsStart += 1
        }
        let end = digitsEnd(from: digitsStart)
        return end > digitsStart ? end : nil
    }

    // MARK: - Strings

    /// `"""…"""` (shortest match). Returns false when there is no closing delimiter, in which
    /// case the caller lexes an ordinary string, as the grammar's terminal order does.
    private mutating func lexMultilineString() -> Bool {
        guard matches("\"\"\"") else { return false }
        let start = position
        var index = start + 3
        while index + 2 < bytes.count {
            if bytes[index] == Ascii.quote, bytes[index + 1] == Ascii.quote, bytes[index + 2] == Ascii.quote {
                position = index + 3
                let range = SourceRange(start: start, end: position)
                let contentRange = SourceRange(start: start + 3, end: index)
                let dedented = MultilineString.dedent(file.text(in: contentRange))
                // One warning per literal, at its first under-indented line.
                if let lineOffset = dedented.underIndentedLineOffsets.first {
                    report(.multilineIndentation, at: .at(contentRange.start + lineOffset))
                }
                stringValues[start] = dedented.value
                tokens.append(Token(kind: .multilineString, range: range))
                return true
            }
            index += 1
        }
        // No closing delimiter anywhere. `""` then `"…` can never form a valid program, so
        // report the real mistake here instead of two confusing string errors.
        report(.unterminatedMultilineString, at: SourceRange(start: start, end: start + 3))
        position = bytes.count
        tokens.append(Token(kind: .invalid, range: SourceRange(start: start, end: position)))
        return true
    }

    private mutating func lexString() {
        let start = position
        position += 1
        var value: [UInt8] = []
        var valid = true
        while position < bytes.count {
            let byte = bytes[position]
            if byte == Ascii.quote {
                position += 1
                let range = SourceRange(start: start, end: position)
                stringValues[start] = String(decoding: value, as: UTF8.self)
                tokens.append(Token(kind: valid ? .string : .invalid, range: range))
                return
            }
            if byte == Ascii.newline || byte == Ascii.carriageReturn { break }
            if byte == Ascii.backslash {
                if let (scalar, length) = escape(at: position) {
                    value.append(contentsOf: String(scalar).utf8)
                    position += length
                } else {
                    let length = position + 1 < bytes.count && bytes[position + 1] != Ascii.newline ? 2 : 1
                    let range = SourceRange(start: position, end: min(bytes.count, position + length))
                    report(.invalidEscape(file.text(in: range)), at: range)
                    valid = false
                    position += length
                }
                continue
            }
            value.append(byte)
            position += 1
        }
        report(.unterminatedString, at: SourceRange(start: start, end: position))
        tokens.append(Token(kind: .invalid, range: SourceRange(start: start, end: position)))
    }

    /// A valid escape at `index` (which holds a backslash): its scalar and length in bytes.
    private func escape(at index: Int) -> (Unicode.Scalar, Int)? {
        guard index + 1 < bytes.count else { return nil }
        switch bytes[index + 1] {
        case Ascii.quote: return ("\"", 2)
        case Ascii.backslash: return ("\\", 2)
        case UInt8(ascii: "n"): return ("\n", 2)
        case UInt8(ascii: "r"): return ("\r", 2)
        case UInt8(ascii: "t"): return ("\t", 2)
        case UInt8(ascii: "0"): return ("\0", 2)
        case UInt8(ascii: "{"): return ("{", 2)
        case UInt8(ascii: "}"): return ("}", 2)
        case UInt8(ascii: "u"):
            guard index + 2 < bytes.count, bytes[index + 2] == UInt8(ascii: "{") else { return nil }
            var end = index + 3
            var hex = ""
            while end < bytes.count, Ascii.isHexDigit(bytes[end]), hex.count < 6 {
                hex.unicodeScalars.append(Unicode.Scalar(bytes[end]))
                end += 1
            }
            guard !hex.isEmpty, end < bytes.count, bytes[end] == UInt8(ascii: "}"),
                  let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) else { return nil }
            return (scalar, end + 1 - index)
        default:
            return nil
        }
    }

    // MARK: - Helpers

    private func peek(_ offset: Int) -> UInt8? {
        position + offset < bytes.count ? bytes[position + offset] : nil
    }

    private func matches(_ spelling: String) -> Bool {
        var index = position
        for byte in spelling.utf8 {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
        }
        return true
    }

    private mutating func emit(_ kind: TokenKind, from start: Int, to end: Int) {
        position = end
        tokens.append(Token(kind: kind, range: SourceRange(start: start, end: end)))
    }

    private mutating func report(_ message: DiagnosticMessage, at range: SourceRange, fixIts: [FixIt] = []) {
        guard diagnostics.count < SPAKParser.storedDiagnosticsLimit else {
            if message.code.severity == .error { droppedErrors += 1 }
            return
        }
        diagnostics.append(Diagnostic(message, in: file, at: range, fixIts: fixIts))
    }
}

/// Byte constants and classes used by the lexer.
enum Ascii {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let slash = UInt8(ascii: "/")
    static let dot = UInt8(ascii: ".")
    static let plus = UInt8(ascii: "+")
    static let minus = UInt8(ascii: "-")

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
    }
    static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }
    static func isIdentifierContinue(_ byte: UInt8) -> Bool { isIdentifierStart(byte) || isDigit(byte) }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
