import Foundation

/// A JSON Schema (draft 2020-12 validation vocabulary) that an `llm.query` reply is held to
/// on receipt (`schema:`).
///
/// Checked keywords: `type`, `enum`, `const`; for objects `properties`, `required`,
/// `additionalProperties`, `minProperties`, `maxProperties`; for arrays `items`,
/// `prefixItems`, `minItems`, `maxItems`, `uniqueItems`; for strings `minLength`,
/// `maxLength`, `pattern`; for numbers `minimum`, `maximum`, `exclusiveMinimum`,
/// `exclusiveMaximum`, `multipleOf`; and `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`
/// and `$ref` to a place in the same schema (`#/$defs/NAME`). As the standard says, other
/// keywords (`title`, `description`, `format`, …) are annotations and do not fail a value.
public struct JSONSchema: Sendable {
    /// The schema as written.
    public let schema: Value

    /// Wraps a schema.
    public init(_ schema: Value) { self.schema = schema }

    /// The first place where `value` breaks the schema, in words (`$.score: expected an
    /// integer, found "7"`); `nil` when it conforms.
    public func firstMismatch(in value: Value) -> String? {
        check(value, against: schema, at: "$", depth: 0)
    }

    /// A bound on `$ref` chains, so a schema that refers to itself cannot loop forever.
    private static let maxDepth = 64

    private func check(_ value: Value, against schema: Value, at path: String, depth: Int) -> String? {
        switch schema {
        case .bool(true): return nil
        case .bool(false): return "\(path): no value is allowed here"
        case .map: break
        default: return nil  // not a schema: nothing to hold the value to
        }
        guard depth < Self.maxDepth else { return "\(path): the schema's `$ref`s nest deeper than \(Self.maxDepth)" }
        let rules = schema.fields
        if case .string(let reference)? = rules["$ref"] {
            guard let target = resolve(reference) else { return "\(path): the schema's `$ref` \(reference) leads nowhere" }
            if let problem = check(value, against: target, at: path, depth: depth + 1) { return problem }
        }
        if let problem = checkType(value, rules["type"], at: path) { return problem }
        if case .list(let allowed)? = rules["enum"], !allowed.contains(where: { Self.equal($0, value) }) {
            return "\(path): expected one of \(JSON.serialize(.list(allowed))), found \(Self.shown(value))"
        }
        if let constant = rules["const"], !Self.equal(constant, value) {
            return "\(path): expected \(JSON.serialize(constant)), found \(Self.shown(value))"
        }
        let specific: String? = switch value {
        case .map(let fields): checkObject(fields, rules, at: path, depth: depth)
        case .list(let items): checkArray(items, rules, at: path, depth: depth)
        case .string(let text): checkString(text, rules, at: path)
        case .int, .float: checkNumber(value.number ?? 0, rules, at: path)
        default: nil
        }
        if let specific { return specific }
        return checkCombinations(value, rules, at: path, depth: depth)
    }

    // MARK: - Keywords

    private func checkType(_ value: Value, _ type: Value?, at path: String) -> String? {
        let names: [String]
        switch type {
        case .string(let name)?: names = [name]
        case .list(let list)?: names = list.compactMap { if case .string(let name) = $0 { name } else { nil } }
        default: return nil
        }
        guard !names.contains(where: { Self.conforms(value, to: $0) }) else { return nil }
        let expected = names.map { Self.article($0) }.joined(separator: " or ")
        return "\(path): expected \(expected), found \(Self.shown(value))"
    }

    private func checkObject(_ fields: [String: Value], _ rules: [String: Value], at path: String, depth: Int) -> String? {
        if case .list(let required)? = rules["required"] {
            for case .string(let name) in required where fields[name] == nil {
                return "\(path): the required field `\(name)` is missing"
            }
        }
        if let limit = Self.count(rules["minProperties"]), fields.count < limit {
            return "\(path): expected at least \(limit) field\(limit == 1 ? "" : "s"), found \(fields.count)"
        }
        if let limit = Self.count(rules["maxProperties"]), fields.count > limit {
            return "\(path): expected at most \(limit) field\(limit == 1 ? "" : "s"), found \(fields.count)"
        }
        let properties = rules["properties"]?.fields ?? [:]
        for name in fields.keys.sorted() {
            let fieldPath = path + Self.member(name)
            if let property = properties[name] {
                if let problem = check(fields[name]!, against: property, at: fieldPath, depth: depth + 1) { return problem }
            } else if let additional = rules["additionalProperties"] {
                if additional == .bool(false) { return "\(path): the field `\(name)` is not allowed" }
                if let problem = check(fields[name]!, against: additional, at: fieldPath, depth: depth + 1) { return problem }
            }
        }
        return nil
    }

    private func checkArray(_ items: [Value], _ rules: [String: Value], at path: String, depth: Int) -> String? {
        if let limit = Self.count(rules["minItems"]), items.count < limit {
            return "\(path): expected at least \(limit) item\(limit == 1 ? "" : "s"), found \(items.count)"
        }
        if let limit = Self.count(rules["maxItems"]), items.count > limit {
            return "\(path): expected at most \(limit) item\(limit == 1 ? "" : "s"), found \(items.count)"
        }
        if rules["uniqueItems"] == .bool(true) {
            for (index, item) in items.enumerated() where items[..<index].contains(where: { Self.equal($0, item) }) {
                return "\(path)[\(index)]: the items must be unique, and this one repeats an earlier one"
            }
        }
        var prefix: [Value] = []
        if case .list(let schemas)? = rules["prefixItems"] { prefix = schemas }
        for (index, item) in items.enumerated() {
            let itemSchema = index < prefix.count ? prefix[index] : rules["items"]
            guard let itemSchema else { continue }
            if let problem = check(item, against: itemSchema, at: "\(path)[\(index)]", depth: depth + 1) { return problem }
        }
        return nil
    }

    private func checkString(_ text: String, _ rules: [String: Value], at path: String) -> String? {
        let length = text.unicodeScalars.count
        if let limit = Self.count(rules["minLength"]), length < limit {
            return "\(path): expected at least \(limit) character\(limit == 1 ? "" : "s"), found \(length)"
        }
        if let limit = Self.count(rules["maxLength"]), length > limit {
            return "\(path): expected at most \(limit) character\(limit == 1 ? "" : "s"), found \(length)"
        }
        if case .string(let pattern)? = rules["pattern"] {
            guard let expression = try? NSRegularExpression(pattern: pattern) else {
                return "\(path): the schema's pattern `\(pattern)` is not a regular expression"
            }
            let range = NSRange(text.startIndex..., in: text)
            if expression.firstMatch(in: text, range: range) == nil {
                return "\(path): \(Self.shown(.string(text))) does not match the pattern `\(pattern)`"
            }
        }
        return nil
    }

    private func checkNumber(_ number: Double, _ rules: [String: Value], at path: String) -> String? {
        let shown = Self.shown(number == number.rounded() && abs(number) < 1e15 ? .int(Int(number)) : .float(number))
        if let minimum = rules["minimum"]?.number, number < minimum { return "\(path): expected at least \(Self.number(minimum)), found \(shown)" }
        if let maximum = rules["maximum"]?.number, number > maximum { return "\(path): expected at most \(Self.number(maximum)), found \(shown)" }
        if let bound = rules["exclusiveMinimum"]?.number, number <= bound {
            return "\(path): expected more than \(Self.number(bound)), found \(shown)"
        }
        if let bound = rules["exclusiveMaximum"]?.number, number >= bound {
            return "\(path): expected less than \(Self.number(bound)), found \(shown)"
        }
        if let divisor = rules["multipleOf"]?.number, divisor > 0 {
            let quotient = number / divisor
            if abs(quotient - quotient.rounded()) > 1e-9 * max(1, abs(quotient)) {
                return "\(path): expected a multiple of \(Self.number(divisor)), found \(shown)"
            }
        }
        return nil
    }

    private func checkCombinations(_ value: Value, _ rules: [String: Value], at path: String, depth: Int) -> String? {
        if case .list(let schemas)? = rules["allOf"] {
            for schema in schemas {
                if let problem = check(value, against: schema, at: path, depth: depth + 1) { return problem }
            }
        }
        if case .list(let schemas)? = rules["anyOf"] {
            let problems = schemas.map { check(value, against: $0, at: path, depth: depth + 1) }
            if !problems.contains(where: { $0 == nil }) {
                return "\(path): matches none of the \(schemas.count) choices of `anyOf` (the first: \(problems.first.flatMap { $0 } ?? "?"))"
            }
        }
        if case .list(let schemas)? = rules["oneOf"] {
            let matching = schemas.filter { check(value, against: $0, at: path, depth: depth + 1) == nil }.count
            if matching != 1 { return "\(path): must match exactly one choice of `oneOf`, matches \(matching)" }
        }
        if let negated = rules["not"], check(value, against: negated, at: path, depth: depth + 1) == nil {
            return "\(path): matches the schema under `not`"
        }
        if let condition = rules["if"] {
            let branch = check(value, against: condition, at: path, depth: depth + 1) == nil ? rules["then"] : rules["else"]
            if let branch, let problem = check(value, against: branch, at: path, depth: depth + 1) { return problem }
        }
        return nil
    }

    /// The part of this schema a local `$ref` (`#`, `#/$defs/NAME`) points to.
    private func resolve(_ reference: String) -> Value? {
        guard reference.hasPrefix("#") else { return nil }
        var target = schema
        for token in reference.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let key = String(token).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch target {
            case .map(let fields): guard let next = fields[key] else { return nil }; target = next
            case .list(let items): guard let index = Int(key), items.indices.contains(index) else { return nil }; target = items[index]
            default: return nil
            }
        }
        return target
    }

    // MARK: - Helpers

    private static func conforms(_ value: Value, to type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .list), ("object", .map): true
        case ("number", .int), ("number", .float), ("integer", .int): true
        case ("integer", .float(let number)): number == number.rounded() && number.isFinite
        default: false
        }
    }

    /// JSON equality: `1` and `1.0` are the same number.
    private static func equal(_ lhs: Value, _ rhs: Value) -> Bool {
        if let left = lhs.number, let right = rhs.number { return left == right }
        switch (lhs, rhs) {
        case (.list(let left), .list(let right)): return left.count == right.count && zip(left, right).allSatisfy { equal($0, $1) }
        case (.map(let left), .map(let right)):
            return left.count == right.count && left.allSatisfy { key, value in right[key].map { equal(value, $0) } ?? false }
        default: return lhs == rhs
        }
    }

    private static func count(_ value: Value?) -> Int? {
        guard let number = value?.number, number >= 0, number < Double(Int.max) else { return nil }
        return Int(number)
    }

    private static func member(_ name: String) -> String {
        let plain = !name.isEmpty && name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) }
        return plain ? "." + name : "[" + JSON.serialize(.string(name)) + "]"
    }

    private static func article(_ type: String) -> String {
        switch type {
        case "integer": "an integer"
        case "object": "an object"
        case "array": "an array"
        case "null": "null"
        default: "a \(type)"
        }
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    private static func shown(_ value: Value) -> String {
        let text = JSON.serialize(value)
        let kind = switch value {
        case .map: "an object "
        case .list: "an array "
        default: ""
        }
        return kind + (text.count > 60 ? String(text.prefix(57)) + "..." : text)
    }
}
