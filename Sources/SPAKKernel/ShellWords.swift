/// Words written so that a POSIX shell reads them back as they are: for the commands spak
/// prints for a person to paste, and for showing a `tool.run`'s argument vector.
public enum ShellWords {
    private static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,".utf8)

    /// A word as it is when it holds only safe characters, else in single quotes.
    public static func quoted(_ word: String) -> String {
        if !word.isEmpty, word.utf8.allSatisfy(safe.contains) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// An argument vector (a list of strings, as a `tool.run` request holds it) as one line.
    public static func line(_ argv: Value?) -> String {
        guard case .list(let words)? = argv else { return "" }
        return words.map { quoted($0.text) }.joined(separator: " ")
    }
}
