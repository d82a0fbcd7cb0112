/// How a `tool.run` command string becomes an argument vector.
///
/// Words are separated by spaces, tabs and newlines. `'…'` quotes literally; `"…"` quotes
/// with `\"` and `\\` as escapes; a backslash outside quotes escapes the next character.
/// Nothing else is interpreted: no variables, globs, pipes or redirections (those need
/// `shell: true`). A `{{…}}` tag stays inside the word it is written in, so after rendering
/// it is part of exactly one argument, however many spaces its value holds.
public enum CommandWords {
    /// Why a command string cannot be split.
    public enum SplitError: Error, Equatable, Sendable {
        case unterminatedQuote(Character)
        case unterminatedTag
    }

    /// The words of a command template, with quotes removed and tags kept as written.
    public static func split(_ command: String) throws(SplitError) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var characters = command[...]
        while let character = characters.popFirst() {
            switch character {
            case " ", "\t", "\n", "\r", "\r\n":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "'":
                inWord = true
                guard let close = characters.firstIndex(of: "'") else { throw .unterminatedQuote("'") }
                word += characters[..<close]
                characters = characters[characters.index(after: close)...]
            case "\"":
                inWord = true
                var closed = false
                while let next = characters.popFirst() {
                    if next == "\"" { closed = true; break }
                    if next == "\\", let escaped = characters.first, escaped == "\"" || escaped == "\\" {
                        word.append(escaped)
                        characters = characters.dropFirst()
                    } else {
                        word.append(next)
                    }
                }
                guard closed else { throw .unterminatedQuote("\"") }
            case "\\":
                inWord = true
                if let escaped = characters.popFirst() { word.append(escaped) }
            case "{" where characters.first == "{":
                inWord = true
                guard let close = characters.firstRange(of: "}}") else { throw .unterminatedTag }
                word += "{" + characters[..<close.upperBound]
                characters = characters[close.upperBound...]
            default:
                inWord = true
                word.append(character)
            }
        }
        if inWord { words.append(word) }
        return words
    }

    /// Whether an allow line's words admit a command's words: the allow words must equal
    /// the command's first words. Returns `nil` when a templated word makes it undecidable
    /// before the run.
    public static func admits(allow: [String], command: [String]) -> Bool? {
        guard !allow.isEmpty else { return false }
        for (position, allowed) in allow.enumerated() {
            guard position < command.count else { return false }
            if command[position].contains("{{") { return nil }
            if allowed != command[position] { return false }
        }
        return true
    }
}
