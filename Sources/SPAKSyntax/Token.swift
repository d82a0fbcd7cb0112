import SPAKDiagnostics

/// The kinds of token. Keywords are reserved everywhere, as in `grammar.lark`.
public enum TokenKind: Sendable, Hashable {
    case name, integer, float, duration, string, multilineString
    case leftParen, rightParen, leftBrace, rightBrace, leftBracket, rightBracket
    case comma, colon, dot, ellipsis, arrow, assign
    case equal, notEqual, less, lessEqual, greater, greaterEqual
    case plus, minus, star, slash, percent
    case keyword(Keyword)
    /// Text no terminal matches; the lexer has already reported it.
    case invalid
    case endOfFile

    /// How the kind is named in "expected …, found …" messages.
    public var displayName: String {
        switch self {
        case .name: "a name"
        case .integer: "an integer"
        case .float: "a number"
        case .duration: "a duration"
        case .string: "a string"
        case .multilineString: "a multi-line string"
        case .keyword(let keyword): "`\(keyword.rawValue)`"
        case .invalid: "invalid text"
        case .endOfFile: "the end of the file"
        default: "`\(Self.punctuationSpelling[self] ?? "?")`"
        }
    }

    /// Punctuation and its spelling, for messages.
    static let punctuation: [(String, TokenKind)] = [
        ("...", .ellipsis),
        ("->", .arrow), ("==", .equal), ("!=", .notEqual), ("<=", .lessEqual), (">=", .greaterEqual),
        ("(", .leftParen), (")", .rightParen), ("{", .leftBrace), ("}", .rightBrace),
        ("[", .leftBracket), ("]", .rightBracket), (",", .comma), (":", .colon), (".", .dot),
        ("=", .assign), ("<", .less), (">", .greater), ("+", .plus), ("-", .minus), ("*", .star),
        ("/", .slash), ("%", .percent),
    ]

    static let punctuationSpelling: [TokenKind: String] = Dictionary(
        uniqueKeysWithValues: punctuation.map { ($0.1, $0.0) })
}

/// The reserved words of SPAK.
public enum Keyword: String, Sendable, CaseIterable {
    case task, step, `let`, `if`, `else`, `repeat`, `in`, until
    case systemModel = "system_model", invariant, allow, budget, secret
    case evaluation, metric, objective
    case onFail = "on_fail", retry, max, fail
    case tool, llm, `as`
    case `true`, `false`, null, and, or, not

    /// The keywords' spellings as bytes, grouped by length, for matching without building strings.
    private static let byLength: [[(spelling: [UInt8], keyword: Keyword)]] = {
        var table = [[(spelling: [UInt8], keyword: Keyword)]](repeating: [], count: 16)
        for keyword in allCases { table[keyword.rawValue.utf8.count].append((Array(keyword.rawValue.utf8), keyword)) }
        return table
    }()

    /// The keyword these bytes spell, if any.
    static func match(_ bytes: ArraySlice<UInt8>) -> Keyword? {
        guard bytes.count < byLength.count else { return nil }
        for candidate in byLength[bytes.count] where candidate.spelling.elementsEqual(bytes) { return candidate.keyword }
        return nil
    }
}

/// A token: its kind and where it is. Its text is read back from the source when needed.
public struct Token: Sendable, Hashable {
    /// What it is.
    public let kind: TokenKind
    /// Where it is.
    public let range: SourceRange
}

/// A `// …` comment, kept so the formatter can put it back.
public struct Comment: Sendable, Hashable, Codable {
    /// The comment's text, starting with `//`, without the line terminator.
    public let text: String
    /// Where it is.
    public let range: SourceRange
}
