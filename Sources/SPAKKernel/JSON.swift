/// Reads and writes `Value`s as JSON. Written JSON is compact with sorted keys, so equal
/// values always serialize to equal bytes; numbers without `.`, `e` or `E` read as integers.
public enum JSON {
    /// Why a text is not JSON.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// What went wrong.
        public let message: String
        /// The byte offset where it went wrong.
        public let offset: Int

        public var description: String { "\(message) at byte \(offset)" }
    }

    /// Compact JSON with sorted keys.
    public static func serialize(_ value: Value) -> String {
        var bytes: [UInt8] = []
        write(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the compact JSON of a value as UTF-8 bytes (the event log's hot path).
    public static func write(_ value: Value, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let flag): out.append(contentsOf: flag ? Array("true".utf8) : Array("false".utf8))
        case .int(let number): out.append(contentsOf: String(number).utf8)
        case .float(let number): out.append(contentsOf: formatFloat(number).utf8)
        case .string(let text): writeString(text, to: &out)
        case .list(let items):
            out.append(0x5B)
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(0x2C) }
                write(item, to: &out)
            }
            out.append(0x5D)
        case .map(let entries):
            out.append(0x7B)
            for (index, key) in entries.keys.sorted().enumerated() {
                if index > 0 { out.append(0x2C) }
                writeString(key, to: &out)
                out.append(0x3A)
                write(entries[key]!, to: &out)
            }
            out.append(0x7D)
        }
    }

    /// A float as JSON: shortest round-trip form, always with a `.` or exponent so it reads
    /// back as a float; non-finite values (which JSON cannot hold) as null.
    public static func formatFloat(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        let text = "\(number)"
        // A byte scan: Foundation's `String.contains` is slow on this hot path.
        return text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") } ? text : text + ".0"
    }

    /// Appends a JSON string literal; text that needs no escapes is copied whole.
    public static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(0x22)
        var utf8 = text.utf8
        let plain = utf8.withContiguousStorageIfAvailable { bytes in
            !bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }
        } ?? false
        if plain {
            out.append(contentsOf: utf8)
        } else {
            for byte in utf8 {
                switch byte {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: out.append(contentsOf: [0x5C, 0x72])
                case 0x09: out.append(contentsOf: [0x5C, 0x74])
                case 0..<0x20:
                    let hex = Array(String(byte, radix: 16).utf8)
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30] + (hex.count == 1 ? [0x30] + hex : hex))
                default: out.append(byte)
                }
            }
        }
        utf8 = "".utf8
        out.append(0x22)
    }

    /// Parses a JSON text (surrounding whitespace allowed).
    public static func parse(_ text: String) throws(ParseError) -> Value {
        try parse(bytes: Array(text.utf8))
    }

    /// Parses JSON from UTF-8 bytes (a line of the event log, without making a string of it first).
    public static func parse(bytes: [UInt8]) throws(ParseError) -> Value {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        static let maxDepth = 512

        func error(_ message: String) -> ParseError { ParseError(message: message, offset: index) }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(ParseError) -> Value {
            guard depth < Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth) levels") }
            guard index < bytes.count else { throw error("unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default: return try number()
            }
        }

        mutating func literal(_ word: String, _ value: Value) throws(ParseError) -> Value {
            let spelled = Array(word.utf8)
            guard index + spelled.count <= bytes.count, Array(bytes[index..<index + spelled.count]) == spelled else {
                throw error("unexpected character")
            }
            index += spelled.count
            return value
        }

        mutating func object(depth: Int) throws(ParseError) -> Value {
            index += 1
            var entries: [String: Value] = [:]
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .map(entries) }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key") }
                let key = try string()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected `:`") }
                index += 1
                skipWhitespace()
                entries[key] = try value(depth: depth + 1)
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of input") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .map(entries) }
                throw error("expected `,` or `}`")
            }
        }

        mutating func array(depth: Int) throws(ParseError) -> Value {
            index += 1
            var items: [Value] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .list(items) }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of input") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .list(items) }
                throw error("expected `,` or `]`")
            }
        }

        mutating func string() throws(ParseError) -> String {
            index += 1
            // Most strings have no escape: they are copied whole.
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return String(decoding: bytes[start..<index - 1], as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                index += 1
            }
            index = start
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw error("unterminated string") }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code), index + 1 < bytes.count,
                           bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                            index += 2
                            let low = try hex4()
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                        out.append(contentsOf: Array(String(scalar).utf8))
                    default: throw error("invalid escape")
                    }
                case 0..<0x20:
                    throw error("control character in string")
                default:
                    out.append(byte)
                }
            }
            throw error("unterminated string")
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard index + 4 <= bytes.count,
                  let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
                throw error("invalid \\u escape")
            }
            index += 4
            return code
        }

        mutating func number() throws(ParseError) -> Value {
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            var isFloat = false
            while index < bytes.count {
                let byte = bytes[index]
                if (0x30...0x39).contains(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") {
                    index += 1
                } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    isFloat = true
                    index += 1
                } else {
                    break
                }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard index > start, text != "-" else { throw error("unexpected character") }
            if !isFloat, let integer = Int(text) { return .int(integer) }
            guard let float = Double(text) else { throw error("invalid number `\(text)`") }
            // A value is always finite: JSON has no infinity or NaN to record it with.
            guard float.isFinite else { throw error("the number `\(text)` is out of range") }
            return .float(float)
        }
    }
}
