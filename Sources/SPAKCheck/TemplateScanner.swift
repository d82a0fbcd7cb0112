import Mustache

/// Reads a Mustache template as the kernel will parse it, and finds what the checker holds it
/// to: the names its tags read, with where they are, and every tag that swift-mustache would
/// reject or that could not render as written. It accepts a subset of swift-mustache's syntax:
/// no pragmas, partials or inheritance, and names of letters, digits and `_-?*` parts joined by
/// single dots. A template that sets its own delimiters is handed to swift-mustache instead.
public struct TemplateScan: Sendable {
    /// Sections may nest this deep; deeper templates are refused before swift-mustache,
    /// whose parser recurses once per section, ever sees them.
    public static let sectionDepthLimit = 100

    /// What the kernel puts before every template so that it renders as plain text, without
    /// HTML escaping. It stands on a line of its own, which swift-mustache drops whole, so the
    /// template's first line keeps its standalone tags and its leading line breaks.
    public static let plainTextPragma = "{{% CONTENT_TYPE: TEXT}}\n"

    /// A transform, `name` in `{{name(value)}}`, and the byte offset of its name.
    public struct Transform: Sendable, Equatable {
        /// The transform's name, e.g. `uppercased`.
        public let name: String
        /// Byte offset of the name in the template text.
        public let offset: Int
    }

    /// A section that encloses a tag.
    public struct Section: Sendable, Equatable {
        /// The name it is opened with, transforms included, e.g. `uppercased(topic)`.
        public let spelling: String
        /// The part of the name before the first `.`: the variable it reads.
        public let root: String
        /// Its transforms, outermost first.
        public let transforms: [Transform]
        /// Whether it is an inverted section, `{{^name}}`.
        public let isInverted: Bool
    }

    /// A tag that reads a value: `{{name}}`, `{{{name}}}`, `{{&name}}`, `{{#name}}` or `{{^name}}`.
    public struct Reference: Sendable, Equatable {
        /// The name as written, without transforms, e.g. `bench.speedup`; `.` for the current
        /// item, and empty for a transform of the item being iterated, such as `{{index()}}`.
        public let name: String
        /// The part before the first `.`, e.g. `bench`; this is what must be bound. A name
        /// that starts with a dot (`.x`, looked up in the current item only) has the part
        /// after it; `.` has `.`.
        public let root: String
        /// Byte offset of the name in the template text.
        public let offset: Int
        /// The transforms applied to it, outermost first.
        public let transforms: [Transform]
        /// Whether it opens a section (`#` or `^`).
        public let isSection: Bool
        /// The sections that enclose it, outermost first.
        public let enclosing: [Section]
    }

    /// Something the kernel could not render as written, and where it is in the template text.
    public struct Problem: Sendable, Equatable {
        /// What is wrong, in words.
        public let message: String
        /// Byte offset of what is wrong.
        public let offset: Int
        /// How many bytes it covers.
        public let length: Int
    }

    /// The references, in order.
    public var references: [Reference] = []
    /// Why names could not be checked (custom delimiters), and where, if so.
    public var uncheckable: Problem?
    /// What cannot be rendered, in order.
    public var problems: [Problem] = []

    /// Scans a template.
    public init(_ text: String) {
        let bytes = Array(text.utf8)
        scanTags(bytes)
        if uncheckable != nil, problems.isEmpty { parseAsTheKernelDoes(text) }
    }

    /// swift-mustache's own parse, for a template whose delimiters the scan cannot follow.
    private mutating func parseAsTheKernelDoes(_ text: String) {
        do {
            _ = try MustacheTemplate(string: Self.plainTextPragma + text)
        } catch let error as MustacheTemplate.ParserError {
            // The pragma's line is not the template's: swift-mustache counts lines from 1.
            let line = max(1, error.context.lineNumber - 1)
            let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            let offset = lines.prefix(line - 1).reduce(0) { $0 + $1.count + 1 } + max(0, error.context.columnNumber - 1)
            problems.append(Problem(message: Self.describe(error.error) + " (template line \(line))", offset: min(offset, text.utf8.count), length: 0))
        } catch {
            problems.append(Problem(message: "\(error)", offset: 0, length: 0))
        }
    }

    /// swift-mustache's error cases in words.
    private static func describe(_ error: Swift.Error) -> String {
        switch error as? MustacheTemplate.Error {
        case .sectionCloseNameIncorrect: "a section is closed with a name other than the one it was opened with"
        case .unfinishedName: "a tag is not closed with its closing delimiter, or holds more than a name"
        case .expectedSectionEnd: "a section is opened but never closed"
        case .invalidSetDelimiter: "the set-delimiter tag is malformed"
        case .invalidConfigVariableSyntax, .unrecognisedConfigVariable: "pragmas `{{% ... }}` are not supported"
        case .transformAppliedToInheritanceSection, .illegalTokenInsideInheritSection, .textInsideInheritSection:
            "partials and template inheritance are not supported"
        case nil: "\(error)"
        }
    }

    /// Reads every tag in order, keeping the sections open around each.
    private mutating func scanTags(_ bytes: [UInt8]) {
        var index = 0
        var open: [(section: Section, offset: Int, length: Int)] = []
        while let start = bytes.firstRange(of: [0x7B, 0x7B], in: index..<bytes.count)?.lowerBound {
            let triple = start + 2 < bytes.count && bytes[start + 2] == 0x7B
            let contentStart = start + (triple ? 3 : 2)
            if !triple, Self.startsLineBreak(bytes, at: contentStart) {
                problem("a line break right after `{{` makes swift-mustache drop the `{{` and read on as text", at: start, length: 2)
                index = contentStart
                continue
            }
            let closer: [UInt8] = triple ? [0x7D, 0x7D, 0x7D] : [0x7D, 0x7D]
            guard let close = bytes.firstRange(of: closer, in: contentStart..<bytes.count)?.lowerBound else {
                problem(triple ? "`{{{` is not closed with `}}}`" : "`{{` is not closed with `}}`", at: start, length: triple ? 3 : 2)
                return
            }
            index = close + closer.count
            let tag = TemplateTag(bytes, start: start, contentStart: contentStart, close: close, end: index, triple: triple)
            switch tag.sigil {
            case "!":
                continue
            case "=":
                uncheckable = Problem(message: "the template sets custom delimiters", offset: start, length: index - start)
                return
            case "%":
                problem("pragmas `{{% ... }}` are not supported: the kernel renders every template as plain text", tag)
                continue
            case ">", "<", "$":
                problem("partials and template inheritance are not supported; write the text inline", tag)
                // `{{<x}}` and `{{$x}}` open a block that `{{/x}}` closes.
                if tag.sigil != ">", case .success(let name) = tag.name() {
                    open.append((Section(spelling: name.spelling, root: name.root, transforms: [], isInverted: false), start, index - start))
                }
                continue
            default:
                break
            }
            let name: TemplateTag.Name
            switch tag.name() {
            case .success(let parsed): name = parsed
            case .failure(let failure):
                problem(failure.message, at: failure.offset, length: failure.length)
                continue
            }
            if tag.sigil == "/" {
                closeSection(tag, name: name, open: &open)
                continue
            }
            let reference = Reference(
                name: name.value, root: name.root, offset: name.offset, transforms: name.transforms,
                isSection: tag.sigil == "#" || tag.sigil == "^", enclosing: open.map(\.section))
            references.append(reference)
            guard reference.isSection else { continue }
            let section = Section(spelling: name.spelling, root: name.root, transforms: name.transforms, isInverted: tag.sigil == "^")
            open.append((section, start, index - start))
            if open.count > Self.sectionDepthLimit {
                problem("sections nest deeper than \(Self.sectionDepthLimit) levels", at: start, length: index - start)
                return
            }
        }
        if bytes.last == 0x7B {
            // swift-mustache reads a `{` as the start of a `{{` and fails when the text ends there.
            problem("a template cannot end with `{`: swift-mustache fails to parse it there; put a line break after it", at: bytes.count - 1, length: 1)
        }
        for unclosed in open.reversed() {
            problem("section `{{\(unclosed.section.isInverted ? "^" : "#")\(unclosed.section.spelling)}}` is opened here but never closed",
                    at: unclosed.offset, length: unclosed.length)
        }
    }

    /// `{{/name}}` closes the innermost open section, which must have been opened with the same name.
    private mutating func closeSection(_ tag: TemplateTag, name: TemplateTag.Name, open: inout [(section: Section, offset: Int, length: Int)]) {
        guard let innermost = open.popLast() else {
            problem("`{{/\(name.spelling)}}` closes no section", tag)
            return
        }
        if innermost.section.spelling != name.spelling {
            let opener = "{{\(innermost.section.isInverted ? "^" : "#")\(innermost.section.spelling)}}"
            problem("`{{/\(name.spelling)}}` does not close `\(opener)`, the innermost open section", tag)
        }
    }

    /// Whether a character swift-mustache counts as a line break starts at `offset`: LF, VT,
    /// FF, CR, NEL, LS or PS.
    private static func startsLineBreak(_ bytes: [UInt8], at offset: Int) -> Bool {
        guard offset < bytes.count else { return false }
        if (0x0A...0x0D).contains(bytes[offset]) { return true }
        let next = offset + 1 < bytes.count ? bytes[offset + 1] : 0
        let third = offset + 2 < bytes.count ? bytes[offset + 2] : 0
        return (bytes[offset] == 0xC2 && next == 0x85) || (bytes[offset] == 0xE2 && next == 0x80 && (third == 0xA8 || third == 0xA9))
    }

    private mutating func problem(_ message: String, _ tag: TemplateTag) {
        problem(message, at: tag.start, length: tag.end - tag.start)
    }

    private mutating func problem(_ message: String, at offset: Int, length: Int) {
        problems.append(Problem(message: message, offset: offset, length: length))
    }
}
