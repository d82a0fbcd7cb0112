import Foundation
import SPAKCheck

/// The secret values a run knows of, and their removal from everything it records.
///
/// Secrets come only from the environment: every variable whose name the program declares
/// (`secret NAME` in its `system_model`) or that looks like a credential (`*_KEY`, `*_TOKEN`,
/// `*_SECRET`, `*PASSWORD*`, in any case). Their values are replaced by `[redacted NAME]`
/// in bound variables, events, snapshots, prompt files, tool captures and error messages.
/// Values shorter than `minimumLength` bytes are not redacted: replacing every `42` in a
/// trace would destroy it and protect nothing.
public struct Secrets: Sendable {
    /// Values shorter than this are left alone.
    public static let minimumLength = 4
    /// Each secret value with the name of the variable it came from, longest value first.
    public let entries: [(name: String, value: String)]

    /// No secrets.
    public static let none = Secrets(entries: [])

    private init(entries: [(name: String, value: String)]) { self.entries = entries }

    /// The secrets of an environment: the variables named in `declared` and those whose
    /// names look like credentials.
    public init(environment: [String: String], declared: Set<String> = []) {
        var byValue: [String: String] = [:]
        for (name, value) in environment.sorted(by: { $0.key < $1.key })
        where value.utf8.count >= Self.minimumLength && (declared.contains(name) || Self.looksSecret(name)) {
            if byValue[value] == nil { byValue[value] = name }
        }
        entries = byValue.map { (name: $0.value, value: $0.key) }
            .sorted { ($0.value.utf8.count, $0.name) > ($1.value.utf8.count, $1.name) }
    }

    /// Whether a variable's name marks it as a credential.
    public static func looksSecret(_ name: String) -> Bool {
        let upper = name.uppercased()
        return upper.hasSuffix("_KEY") || upper.hasSuffix("_TOKEN") || upper.hasSuffix("_SECRET")
            || upper.contains("PASSWORD")
    }

    /// Whether there is nothing to redact.
    public var isEmpty: Bool { entries.isEmpty }

    /// The text with every secret replaced. The search is on UTF-8 bytes, so a secret
    /// followed by a combining mark (one `Character` with it) is still found.
    public func redact(_ text: String) -> String {
        guard !entries.isEmpty else { return text }
        let bytes = Array(text.utf8)
        guard entries.contains(where: { bytes.firstRange(of: Array($0.value.utf8), in: 0..<bytes.count) != nil }) else {
            return text
        }
        return String(decoding: redact(bytes), as: UTF8.self)
    }

    /// The value with every secret replaced in its strings and map keys.
    public func redact(_ value: Value) -> Value {
        guard !entries.isEmpty else { return value }
        switch value {
        case .string(let text): return .string(redact(text))
        case .list(let items): return .list(items.map(redact))
        case .map(let fields):
            return .map(Dictionary(fields.map { (redact($0.key), redact($0.value)) }, uniquingKeysWith: { first, _ in first }))
        default: return value
        }
    }

    /// Bytes with every secret replaced; with `truncated`, a final partial secret (at least
    /// `minimumLength` bytes of one's start) is replaced too, since the cut may have split one.
    public func redact(_ bytes: [UInt8], truncated: Bool = false) -> [UInt8] {
        guard !entries.isEmpty else { return bytes }
        var result = bytes
        for entry in entries {
            let secret = Array(entry.value.utf8)
            let marker = Array("[redacted \(entry.name)]".utf8)
            var output: [UInt8] = []
            var index = 0
            var changed = false
            while let found = result.firstRange(of: secret, in: index..<result.count) {
                output += result[index..<found.lowerBound]
                output += marker
                index = found.upperBound
                changed = true
            }
            if changed {
                output += result[index...]
                result = output
            }
            if truncated {
                for length in stride(from: secret.count - 1, through: Self.minimumLength, by: -1)
                where result.count >= length && result.suffix(length).elementsEqual(secret.prefix(length)) {
                    result.removeLast(length)
                    result += marker
                    break
                }
            }
        }
        return result
    }
}
