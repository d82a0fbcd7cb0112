/// One `{{…}}` tag of a template: its sigil, and the name and transforms inside it, read as
/// swift-mustache reads them but held to what renders as written.
struct TemplateTag {
    let bytes: [UInt8]
    /// Byte offsets: the opening `{{`, the content after it, the closing `}}`, and the end.
    let start: Int
    let contentStart: Int
    let close: Int
    let end: Int
    /// `#`, `^`, `/`, `!`, `&`, `>`, `<`, `$`, `=` or `%`; `nil` for a variable, `{{{name}}}` included.
    let sigil: Character?

    init(_ bytes: [UInt8], start: Int, contentStart: Int, close: Int, end: Int, triple: Bool) {
        self.bytes = bytes
        self.start = start
        self.contentStart = contentStart
        self.close = close
        self.end = end
        let first = contentStart < close ? Character(Unicode.Scalar(bytes[contentStart])) : nil
        sigil = !triple && first.map { "#^/!&><$=%".contains($0) } == true ? first : nil
    }

    /// The whole tag as written.
    var text: String { String(decoding: bytes[start..<end], as: UTF8.self) }

    /// What a tag names.
    struct Name {
        /// The name without transforms: `bench.speedup`, `.`, or empty for `{{index()}}`.
        let value: String
        /// The variable it starts from (see `TemplateScan.Reference.root`).
        let root: String
        /// The tag's content as written, transforms included: what a closing tag must repeat.
        let spelling: String
        /// Byte offset of `value`.
        let offset: Int
        /// Outermost first.
        let transforms: [TemplateScan.Transform]
    }

    /// Why a tag's content is not a name, and where.
    struct Failure: Error {
        let message: String
        let offset: Int
        let length: Int
    }

    /// The name in the tag, or why there is none that swift-mustache would render as written.
    func name() -> Result<Name, Failure> {
        var low = contentStart + (sigil == nil ? 0 : 1)
        var high = close
        while low < high, Self.isSpace(bytes[low]) { low += 1 }
        while high > low, Self.isSpace(bytes[high - 1]) { high -= 1 }
        guard low < high else {
            return .failure(Failure(message: "`\(text)` has no name; `{{.}}` names the current item of a section",
                                    offset: start, length: end - start))
        }
        if let bad = (low..<high).first(where: { !Self.isNameByte(bytes[$0]) && bytes[$0] != 0x28 && bytes[$0] != 0x29 }) {
            return .failure(badCharacter(at: bad, first: bad == low))
        }
        var transforms: [TemplateScan.Transform] = []
        var nameStart = low
        while let paren = (nameStart..<high).first(where: { bytes[$0] == 0x28 || bytes[$0] == 0x29 }), bytes[paren] == 0x28 {
            guard paren > nameStart else {
                return .failure(Failure(message: "a transform needs a name before `(`, as in `uppercased(name)`", offset: paren, length: 1))
            }
            transforms.append(TemplateScan.Transform(name: String(decoding: bytes[nameStart..<paren], as: UTF8.self), offset: nameStart))
            nameStart = paren + 1
        }
        let nameEnd = (nameStart..<high).first { bytes[$0] == 0x29 } ?? high
        guard high - nameEnd == transforms.count, bytes[nameEnd..<high].allSatisfy({ $0 == 0x29 }) else {
            return .failure(Failure(message: "the parentheses in `\(text)` do not match", offset: start, length: end - start))
        }
        let value = String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self)
        let spelling = String(decoding: bytes[low..<high], as: UTF8.self)
        guard value != "." else { return .success(Name(value: value, root: ".", spelling: spelling, offset: nameStart, transforms: transforms)) }
        let parts = (value.hasPrefix(".") ? value.dropFirst() : Substring(value)).split(separator: ".", omittingEmptySubsequences: false)
        if !value.isEmpty, parts.contains(where: \.isEmpty) {
            return .failure(Failure(message: "`\(value)` is not a name: it has an empty part between dots",
                                    offset: nameStart, length: nameEnd - nameStart))
        }
        return .success(Name(value: value, root: value.isEmpty ? "" : String(parts[0]), spelling: spelling,
                             offset: nameStart, transforms: transforms))
    }

    /// A character that cannot stand in a name.
    private func badCharacter(at offset: Int, first: Bool) -> Failure {
        let scalar = String(decoding: bytes[offset..<min(bytes.count, offset + 4)], as: UTF8.self).unicodeScalars.first ?? "?"
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let described = switch scalar {
        case " ": "a space"
        case "\t": "a tab"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.properties.isWhitespace:
            "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        default: "`\(scalar)`"
        }
        var message = "a tag's name cannot hold \(described); names are letters, digits and `_-.?*`"
        if first, "#^/!&><$=%{".unicodeScalars.contains(scalar) {
            message += " (a `\(scalar)` that starts a tag comes right after `{{`)"
        }
        return Failure(message: message, offset: offset, length: String(scalar).utf8.count)
    }

    /// Letters, digits and `_-.?*`: what swift-mustache reads as part of a name.
    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F, 0x2D, 0x2E, 0x3F, 0x2A: true
        default: false
        }
    }

    /// Whitespace swift-mustache skips around a name.
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B || byte == 0x0C
    }
}
