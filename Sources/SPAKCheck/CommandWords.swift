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
        // Every delimiter is ASCII, so the split works on bytes; multi-byte text is copied whole.
        let bytes = Array(command.utf8)
        var words: [String] = []
        var word: [UInt8] = []
        var inWord = false
        var index = 0
        func byte(_ ascii: Unicode.Scalar) -> UInt8 { UInt8(ascii: ascii) }
        while index < bytes.count {
            let current = bytes[index]
            index += 1
            switch current {
            case byte(" "), byte("\t"), byte("\n"), byte("\r"):
                if inWord { words.append(String(decoding: word, as: UTF8.self)) }
                word.removeAll(keepingCapacity: true)
                inWord = false
            case byte("'"):
                inWord = true
                guard let close = bytes[index...].firstIndex(of: byte("'")) else { throw .unterminatedQuote("'") }
                word += bytes[index..<close]
                index = close + 1
            case byte("\""):
                inWord = true
                var closed = false
                while index < bytes.count {
                    let next = bytes[index]
                    index += 1
                    if next == byte("\"") { closed = true; break }
                    if next == byte("\\"), index < bytes.count, bytes[index] == byte("\"") || bytes[index] == byte("\\") {
                        word.append(bytes[index])
                        index += 1
                    } else {
                        word.append(next)
                    }
                }
                guard closed else { throw .unterminatedQuote("\"") }
            case byte("\\"):
                inWord = true
                // The escaped character, with all the bytes of a multi-byte one.
                while index < bytes.count {
                    word.append(bytes[index])
                    index += 1
                    if index >= bytes.count || bytes[index] & 0xC0 != 0x80 { break }
                }
            case byte("{") where index < bytes.count && bytes[index] == byte("{"):
                inWord = true
                guard let close = bytes.firstRange(of: [byte("}"), byte("}")], in: index..<bytes.count) else {
                    throw .unterminatedTag
                }
                word += bytes[(index - 1)..<close.upperBound]
                index = close.upperBound
            default:
                inWord = true
                word.append(current)
            }
        }
        if inWord { words.append(String(decoding: word, as: UTF8.self)) }
        return words
    }

    /// Whether an allow line's words admit a command's words: the allow words must equal
    /// the command's first words. Returns `nil` when a templated word makes it undecidable
    /// before the run.
    public static func admits(allow: [String], command: [String]) -> Bool? {
        guard !allow.isEmpty else { return false }
        for (position, allowed) in allow.enumerated() {
            guard position < command.count else { return false }
            if command[position].containsTemplateTag { return nil }
            if allowed != command[position] { return false }
        }
        return true
    }
}
