import Mustache

/// Finds the variables a Mustache template reads, so the checker can hold them to the
/// names bound at that point. Syntax errors are found and described by swift-mustache
/// itself; this scan only decides whether a template needs that (slower) full parse: when
/// its tags all close, its sections nest and it uses no delimiter, config, partial or
/// transform tags, swift-mustache has nothing to reject.
public struct TemplateScan: Sendable {
    /// A `{{name}}`, `{{#name}}` or `{{^name}}` tag.
    public struct Reference: Sendable, Equatable {
        /// The name as written, e.g. `bench.speedup`.
        public let name: String
        /// The part before the first `.`, e.g. `bench`; this is what must be bound.
        public let root: String
        /// Byte offset of the name in the template text.
        public let offset: Int
        /// Whether it opens a section (`#` or `^`).
        public let isSection: Bool
        /// How many sections enclose it.
        public let depth: Int
    }

    /// The references, in order.
    public var references: [Reference] = []
    /// Why names could not be checked (custom delimiters), if so.
    public var uncheckable: String?
    /// A syntax error and its byte offset in the template text, if any.
    public var syntaxError: (message: String, offset: Int)?
    /// Tags SPAK does not support (partials, inheritance), with offsets.
    public var unsupported: [(message: String, offset: Int)] = []

    /// Scans a template.
    public init(_ text: String) {
        if scanTags(Array(text.utf8)) { validate(text) }
    }

    private mutating func validate(_ text: String) {
        do {
            _ = try MustacheTemplate(string: text)
        } catch let error as MustacheTemplate.ParserError {
            let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            var offset = 0
            for line in lines.prefix(max(0, error.context.lineNumber - 1)) { offset += line.count + 1 }
            syntaxError = ("\(error.error) at template line \(error.context.lineNumber)", offset + max(0, error.context.columnNumber - 1))
        } catch {
            syntaxError = ("\(error)", 0)
        }
    }

    /// Records the references; returns whether the template needs swift-mustache's full parse.
    private mutating func scanTags(_ bytes: [UInt8]) -> Bool {
        var index = 0
        var depth = 0
        var sections: [String] = []
        var suspicious = false
        while let open = Self.find([0x7B, 0x7B], in: bytes, from: index) {
            let triple = open + 2 < bytes.count && bytes[open + 2] == 0x7B
            let contentStart = open + (triple ? 3 : 2)
            let closer: [UInt8] = triple ? [0x7D, 0x7D, 0x7D] : [0x7D, 0x7D]
            guard let close = Self.find(closer, in: bytes, from: contentStart) else { return true }
            index = close + closer.count
            if bytes[contentStart..<close].contains(where: { $0 == 0x0A || $0 == 0x28 || $0 == 0x29 }) { suspicious = true }
            var start = contentStart
            var end = close
            let sigil: UInt8? = triple ? nil : (start < end ? bytes[start] : nil)
            if let sigil, "#^/!>&=<$%".utf8.contains(sigil) { start += 1 }
            while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
            let content = String(decoding: bytes[start..<end], as: UTF8.self)
            switch sigil {
            case UInt8(ascii: "!"):
                continue
            case UInt8(ascii: "%"):
                suspicious = true
            case UInt8(ascii: "="):
                uncheckable = "the template sets custom delimiters"
                return true
            case UInt8(ascii: ">"), UInt8(ascii: "<"), UInt8(ascii: "$"):
                unsupported.append(("partials and template inheritance are not supported; write the text inline", open))
                suspicious = true
            case UInt8(ascii: "/"):
                if sections.popLast() != content { suspicious = true }
                depth = max(0, depth - 1)
            case UInt8(ascii: "#"), UInt8(ascii: "^"):
                add(content, offset: start, isSection: true, depth: depth)
                sections.append(content)
                depth += 1
            default:
                add(content, offset: start, isSection: false, depth: depth)
            }
        }
        return suspicious || !sections.isEmpty
    }

    private mutating func add(_ content: String, offset: Int, isSection: Bool, depth: Int) {
        var name = content
        var nameOffset = offset
        // A transform such as `uppercased(name)` reads the name inside the parentheses.
        if let open = name.firstIndex(of: "("), name.hasSuffix(")") {
            nameOffset += name.utf8.distance(from: name.startIndex, to: open) + 1
            name = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
        }
        guard !name.isEmpty, name != "." else { return }
        let root = String(name.split(separator: ".", maxSplits: 1).first ?? "")
        references.append(Reference(name: name, root: root, offset: nameOffset, isSection: isSection, depth: depth))
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard needle.count <= bytes.count, start <= bytes.count - needle.count else { return nil }
        var index = start
        while index <= bytes.count - needle.count {
            if bytes[index] == needle[0], Array(bytes[index..<index + needle.count]) == needle { return index }
            index += 1
        }
        return nil
    }
}
