import Foundation
import SPAKCheck

/// The run-time side of `SPAKCheck.StandardLibrary`: one implementation per signature.
enum StandardLibraryRuntime {
    /// A failed call; the evaluator adds the function's name and the place.
    struct Failure: Error { let message: String }

    static func call(_ name: String, _ arguments: [Value]) throws(Failure) -> Value {
        guard let signature = SPAKCheck.StandardLibrary.byName[name] else { throw Failure(message: "no such function") }
        guard arguments.count >= signature.required, arguments.count <= signature.parameters.count else {
            throw Failure(message: "takes \(signature.synopsis), given \(arguments.count) arguments")
        }
        func text(_ index: Int) throws(Failure) -> String {
            guard case .string(let value) = arguments[index] else {
                throw Failure(message: "`\(signature.parameters[index].name)` must be a string, not \(arguments[index].kindName)")
            }
            return value
        }
        func list(_ index: Int) throws(Failure) -> [Value] {
            guard case .list(let items) = arguments[index] else {
                throw Failure(message: "`\(signature.parameters[index].name)` must be a list, not \(arguments[index].kindName)")
            }
            return items
        }
        func map(_ index: Int) throws(Failure) -> [String: Value] {
            guard case .map(let entries) = arguments[index] else {
                throw Failure(message: "`\(signature.parameters[index].name)` must be a map, not \(arguments[index].kindName)")
            }
            return entries
        }
        func numbers(_ index: Int) throws(Failure) -> [Double] {
            var values: [Double] = []
            for item in try list(index) {
                guard let number = item.number else { throw Failure(message: "every item must be a number, not \(item.kindName)") }
                values.append(number)
            }
            return values
        }
        func number(_ index: Int) throws(Failure) -> Double {
            guard let value = arguments[index].number else {
                throw Failure(message: "`\(signature.parameters[index].name)` must be a number, not \(arguments[index].kindName)")
            }
            return value
        }

        switch name {
        case "len":
            switch arguments[0] {
            case .string(let value): return .int(value.count)
            case .list(let items): return .int(items.count)
            case .map(let entries): return .int(entries.count)
            case let other: throw Failure(message: "needs a string, list or map, not \(other.kindName)")
            }
        case "int":
            switch arguments[0] {
            case .int: return arguments[0]
            case .float(let value) where value.isFinite && abs(value) < 9.2e18: return .int(Int(value))
            case .bool(let flag): return .int(flag ? 1 : 0)
            case .string(let value):
                let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
                if let integer = Int(trimmed) { return .int(integer) }
                if let float = Double(trimmed), float.isFinite, abs(float) < 9.2e18 { return .int(Int(float)) }
                throw Failure(message: "`\(value.prefix(40))` is not a number")
            case let other: throw Failure(message: "cannot make an integer of \(other.kindName)")
            }
        case "float":
            switch arguments[0] {
            case .int(let value): return .float(Double(value))
            case .float: return arguments[0]
            case .string(let value):
                guard let float = Double(value.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw Failure(message: "`\(value.prefix(40))` is not a number")
                }
                return .float(float)
            case let other: throw Failure(message: "cannot make a float of \(other.kindName)")
            }
        case "str": return .string(arguments[0].text)
        case "split":
            let separator = try text(1)
            guard !separator.isEmpty else { throw Failure(message: "the separator is empty") }
            return .list(try text(0).components(separatedBy: separator).map(Value.string))
        case "join":
            return .string(try list(0).map(\.text).joined(separator: try text(1)))
        case "strip": return .string(try text(0).trimmingCharacters(in: .whitespacesAndNewlines))
        case "lower": return .string(try text(0).lowercased())
        case "upper": return .string(try text(0).uppercased())
        case "replace":
            let old = try text(1)
            guard !old.isEmpty else { throw Failure(message: "`old` is empty") }
            return .string(try text(0).replacingOccurrences(of: old, with: try text(2)))
        case "contains":
            switch (arguments[0], arguments[1]) {
            case (.string(let haystack), .string(let needle)): return .bool(haystack.contains(needle))
            case (.list(let items), let item): return .bool(items.contains { Operators.equal($0, item) })
            case (.map(let entries), .string(let key)): return .bool(entries[key] != nil)
            default: throw Failure(message: "needs a string and a string, a list and an item, or a map and a key")
            }
        case "starts_with": return .bool(try text(0).hasPrefix(try text(1)))
        case "ends_with": return .bool(try text(0).hasSuffix(try text(1)))
        case "extract_code":
            return .string(CodeBlocks.extract(from: try text(0), language: arguments.count > 1 ? try text(1) : nil))
        case "keys": return .list(try map(0).keys.sorted().map(Value.string))
        case "values":
            let entries = try map(0)
            return .list(entries.keys.sorted().map { entries[$0]! })
        case "get":
            return try map(0)[try text(1)] ?? (arguments.count > 2 ? arguments[2] : .null)
        case "sum": return .float(try numbers(0).reduce(0, +))
        case "mean":
            let values = try numbers(0)
            guard !values.isEmpty else { throw Failure(message: "the list is empty") }
            return .float(values.reduce(0, +) / Double(values.count))
        case "geomean":
            let values = try numbers(0)
            guard !values.isEmpty else { throw Failure(message: "the list is empty") }
            guard values.allSatisfy({ $0 > 0 }) else { throw Failure(message: "every number must be positive") }
            return .float(exp(values.map { log($0) }.reduce(0, +) / Double(values.count)))
        case "minimum", "maximum":
            let items = try list(0)
            guard var best = items.first else { throw Failure(message: "the list is empty") }
            for item in items.dropFirst() {
                let better: Bool
                switch (item, best) {
                case (.string(let a), .string(let b)): better = name == "minimum" ? a < b : a > b
                default:
                    guard let a = item.number, let b = best.number else { throw Failure(message: "items must be numbers or strings") }
                    better = name == "minimum" ? a < b : a > b
                }
                if better { best = item }
            }
            return best
        case "round":
            let digits = arguments.count > 1 ? try number(1) : 0
            let scale = pow(10.0, digits)
            return .float((try number(0) * scale).rounded() / scale)
        case "abs":
            if case .int(let value) = arguments[0], value != .min { return .int(abs(value)) }
            return .float(abs(try number(0)))
        case "parse_json":
            do {
                return try ReplyJSON.parse(try text(0))
            } catch {
                throw Failure(message: "not JSON: \(error)")
            }
        case "to_json": return .string(JSON.serialize(arguments[0]))
        default:
            throw Failure(message: "is in the checker's library but has no implementation")
        }
    }
}

/// Fenced code blocks in a model's reply.
public enum CodeBlocks {
    /// The first block fenced with ``` whose info string is `language` (or the first block at
    /// all when no language is given, or none matches); the whole text when there is no block.
    public static func extract(from text: String, language: String?) -> String {
        let blocks = self.blocks(in: text)
        if let language, let match = blocks.first(where: { $0.info == language.lowercased() }) { return match.body }
        return blocks.first?.body ?? text
    }

    /// Every closed top-level block fenced with backticks, in order: its info string
    /// (lowercased, e.g. `json`, or empty) and its text. As in CommonMark, a fence is three or
    /// more backticks; a block ends only at a line of at least as many backticks and nothing
    /// else, so a block quoted inside a longer fence (````markdown … ````) is text of that
    /// block, not a block of its own. Lines end at line feeds; a carriage return before one
    /// (CRLF) is not part of the line.
    public static func blocks(in text: String) -> [(info: String, body: String)] {
        var blocks: [(info: String, body: String)] = []
        var current: (info: String, fence: Int, lines: [String])?
        // Split on the scalar: Swift reads "\r\n" as one Character, which a split on "\n" misses.
        for scalars in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(String.UnicodeScalarView(scalars))
            if line.hasSuffix("\r") { line.removeLast() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let ticks = trimmed.prefix { $0 == "`" }.count
            if let open = current {
                if ticks >= open.fence, ticks == trimmed.count {
                    blocks.append((open.info, open.lines.joined(separator: "\n")))
                    current = nil
                } else {
                    current?.lines.append(line)
                }
            } else if ticks >= 3 {
                let info = trimmed.dropFirst(ticks).trimmingCharacters(in: .whitespaces)
                if !info.contains("`") { current = (info.lowercased(), ticks, []) }
            }
        }
        return blocks
    }
}
