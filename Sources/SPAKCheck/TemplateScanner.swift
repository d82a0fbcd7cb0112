import Mustache

/// Finds the variables a Mustache template reads, so the checker can hold them to the
/// names bound at that point. Syntax errors are found and described by swift-mustache
/// itself; this scan only decides whether a template needs that (slower) full parse: when
/// its tags all close, its sections nest and it uses no delimiter, config, partial or
/// transform tags, swift-mustache has nothing to reject.
public struct TemplateScan: Sendable {
    /// Sections may nest this deep; deeper templates are refused before swift-mustache,
    /// whose parser recurses once per section, ever sees them.
    public static let sectionDepthLimit = 100

    /// The transforms swift-mustache knows (`{{uppercased(name)}}`).
    public static let transforms: Set<String> = [
        "empty", "capitalized", "lowercased", "uppercased", "reversed", "first", "last", "count", "sorted",
        "enumerated", "equalzero", "plusone", "minusone", "even", "odd",
    ]

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
        /// The roots of the sections that enclose it, outermost first.
        public let enclosingSections: [String]
        /// A transform applied to it that swift-mustache does not know, if any.
        public let unknownTransform: String?
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
            let column = offset + max(0, error.context.columnNumber - 1)
            syntaxError = (Self.describe(error.error) + " (template line \(error.context.lineNumber))", column)
        } catch {
            syntaxError = ("\(error)", 0)
        }
    }

    /// swift-mustache's error cases in words.
    private static func describe(_ error: Swift.Error) -> String {
        switch error as? MustacheTemplate.Error {
        case .sectionCloseNameIncorrect: "a section is closed with a name other than the one it was opened with"
        case .unfinishedName: "a tag is not closed with `}}`"
        case .expectedSectionEnd: "a section is opened but never closed"
        case .invalidSetDelimiter: "the set-delimiter tag is malformed"
        case .invalidConfigVariableSyntax, .unrecognisedConfigVariable: "the `{{% ... }}` pragma is not one swift-mustache knows"
        case .transformAppliedToInheritanceSection, .illegalTokenInsideInheritSection, .textInsideInheritSection:
            "template inheritance is malformed"
        case nil: "\(error)"
        }
    }

    /// Records the references; returns whether the template needs swift-mustache's full parse.
    private mutating func scanTags(_ bytes: [UInt8]) -> Bool {
        var index = 0
        var depth = 0
        var sections: [(name: String, offset: Int)] = []
        var suspicious = false
        while let open = bytes.firstRange(of: [0x7B, 0x7B], in: index..<bytes.count)?.lowerBound {
            let triple = open + 2 < bytes.count && bytes[open + 2] == 0x7B
            let contentStart = open + (triple ? 3 : 2)
            let closer: [UInt8] = triple ? [0x7D, 0x7D, 0x7D] : [0x7D, 0x7D]
            guard let close = bytes.firstRange(of: closer, in: contentStart..<bytes.count)?.lowerBound else { return true }
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
                if sections.popLast()?.name != content { suspicious = true }
                depth = max(0, depth - 1)
            case UInt8(ascii: "#"), UInt8(ascii: "^"):
                add(content, offset: start, isSection: true, depth: depth, sections: sections.map(\.name))
                sections.append((content, open))
                depth += 1
                if depth > Self.sectionDepthLimit {
                    syntaxError = ("sections nest deeper than \(Self.sectionDepthLimit) levels", open)
                    return false
                }
            default:
                add(content, offset: start, isSection: false, depth: depth, sections: sections.map(\.name))
            }
        }
        if let unclosed = sections.last, !suspicious {
            // Known precisely here; swift-mustache would point at the end of the template.
            syntaxError = ("section `{{#\(unclosed.name)}}` is opened here but never closed", unclosed.offset)
            return false
        }
        return suspicious
    }

    private mutating func add(_ content: String, offset: Int, isSection: Bool, depth: Int, sections: [String]) {
        var name = content
        var nameOffset = offset
        var unknownTransform: String?
        // A transform such as `uppercased(name)` reads the name inside the parentheses.
        if let open = name.firstIndex(of: "("), name.hasSuffix(")") {
            let transform = String(name[..<open])
            if !Self.transforms.contains(transform) { unknownTransform = transform }
            nameOffset += name.utf8.distance(from: name.startIndex, to: open) + 1
            name = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
        }
        guard !name.isEmpty, name != "." else { return }
        let root = String(name.split(separator: ".", maxSplits: 1).first ?? "")
        references.append(Reference(
            name: name, root: root, offset: nameOffset, isSection: isSection, depth: depth,
            enclosingSections: sections.map { String($0.split(separator: ".", maxSplits: 1).first ?? "") },
            unknownTransform: unknownTransform))
    }
}
