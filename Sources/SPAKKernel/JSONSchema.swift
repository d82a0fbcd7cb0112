import Foundation

/// A JSON Schema (draft 2020-12 validation vocabulary) that an `llm.query` reply is held to
/// on receipt (`schema:`).
///
/// Checked keywords: `type`, `enum`, `const`; for objects `properties`, `patternProperties`,
/// `additionalProperties`, `required`, `dependentRequired`, `propertyNames`,
/// `minProperties`, `maxProperties`; for arrays `items`, `prefixItems`, `contains`,
/// `minContains`, `maxContains`, `minItems`, `maxItems`, `uniqueItems`; for strings
/// `minLength`, `maxLength`, `pattern`; for numbers `minimum`, `maximum`,
/// `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`; and `allOf`, `anyOf`, `oneOf`,
/// `not`, `if`/`then`/`else` and `$ref` to a place in the same schema (`#/$defs/NAME`).
/// As the standard says, other keywords (`title`, `description`, `format`, …) are
/// annotations and do not fail a value; `unevaluatedProperties`, `unevaluatedItems` and
/// `dependentSchemas` are not checked either. A check does at most `maxSteps` steps, so no
/// schema and reply, however built, make it run long.
public struct JSONSchema: Sendable {
    /// The schema as written.
    public let schema: Value

    /// Wraps a schema.
    public init(_ schema: Value) { self.schema = schema }

    /// The first place where `value` breaks the schema, in words (`$.score: expected an
    /// integer, found "7"`); `nil` when it conforms.
    public func firstMismatch(in value: Value) -> String? {
        let walk = Walk(schema: schema)
        do {
            return try walk.check(value, against: schema, at: "$", references: 0)
        } catch {
            return "$: the check against the schema gave up after \(Walk.maxSteps) steps (the schema and the reply "
                + "together are too complex to check)"
        }
    }
}

/// One check of a value against a schema: the steps it may still take, and the patterns it
/// compiled.
private final class Walk {
    /// The most subschema applications one check may make.
    static let maxSteps = 1_000_000
    /// The most `$ref`s followed one inside another, so a schema that refers to itself
    /// cannot recurse forever.
    static let maxReferences = 64

    struct Exhausted: Error {}

    let schema: Value
    private var steps = 0
    private var patterns: [String: NSRegularExpression?] = [:]

    init(schema: Value) { self.schema = schema }

    func check(_ value: Value, against schema: Value, at path: String, references: Int) throws -> String? {
        steps += 1
        guard steps <= Self.maxSteps else { throw Exhausted() }
        switch schema {
        case .bool(true): return nil
        case .bool(false): return "\(path): no value is allowed here"
        case .map: break
        default: return nil  // not a schema: nothing to hold the value to
        }
        let rules = schema.fields
        if case .string(let reference)? = rules["$ref"] {
            guard references < Self.maxReferences else { return "\(path): the schema's `$ref`s nest deeper than \(Self.maxReferences)" }
            guard let target = resolve(reference) else { return "\(path): the schema's `$ref` \(reference) leads nowhere" }
            if let problem = try check(value, against: target, at: path, references: references + 1) { return problem }
        }
        if let problem = checkType(value, rules["type"], at: path) { return problem }
        if case .list(let allowed)? = rules["enum"], !allowed.contains(where: { Self.equal($0, value) }) {
            return "\(path): expected one of \(JSON.serialize(.list(allowed))), found \(Self.shown(value))"
        }
        if let constant = rules["const"], !Self.equal(constant, value) {
            return "\(path): expected \(JSON.serialize(constant)), found \(Self.shown(value))"
        }
        let specific: String? = switch value {
        case .map(let fields): try checkObject(fields, rules, at: path, references: references)
        case .list(let items): try checkArray(items, rules, at: path, references: references)
        case .string(let text): checkString(text, rules, at: path)
        case .int, .float: Self.checkNumber(value.number ?? 0, rules, at: path)
        default: nil
        }
        if let specific { return specific }
        return try checkCombinations(value, rules, at: path, references: references)
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

    private func checkObject(_ fields: [String: Value], _ rules: [String: Value], at path: String, references: Int) throws -> String? {
        if case .list(let required)? = rules["required"] {
            for case .string(let name) in required where fields[name] == nil {
                return "\(path): the required field `\(name)` is missing"
            }
        }
        for (name, dependents) in (rules["dependentRequired"]?.fields ?? [:]).sorted(by: { $0.key < $1.key }) where fields[name] != nil {
            guard case .list(let list) = dependents else { continue }
            for case .string(let dependent) in list where fields[dependent] == nil {
                return "\(path): the field `\(dependent)` is required when `\(name)` is there, and is missing"
            }
        }
        if let limit = Self.count(rules["minProperties"]), fields.count < limit {
            return "\(path): expected at least \(limit) field\(limit == 1 ? "" : "s"), found \(fields.count)"
        }
        if let limit = Self.count(rules["maxProperties"]), fields.count > limit {
            return "\(path): expected at most \(limit) field\(limit == 1 ? "" : "s"), found \(fields.count)"
        }
        let properties = rules["properties"]?.fields ?? [:]
        let patterned = (rules["patternProperties"]?.fields ?? [:]).sorted { $0.key < $1.key }
        for name in fields.keys.sorted() {
            let fieldPath = path + Self.member(name)
            if let names = rules["propertyNames"],
               let problem = try check(.string(name), against: names, at: fieldPath + " (its name)", references: references) {
                return problem
            }
            var matched = false
            if let property = properties[name] {
                matched = true
                if let problem = try check(fields[name]!, against: property, at: fieldPath, references: references) { return problem }
            }
            for (pattern, schema) in patterned {
                guard let expression = regex(pattern) else { return "\(path): the schema's pattern `\(pattern)` is not a regular expression" }
                guard expression.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil else { continue }
                matched = true
                if let problem = try check(fields[name]!, against: schema, at: fieldPath, references: references) { return problem }
            }
            if !matched, let additional = rules["additionalProperties"] {
                if additional == .bool(false) { return "\(path): the field `\(name)` is not allowed" }
                if let problem = try check(fields[name]!, against: additional, at: fieldPath, references: references) { return problem }
            }
        }
        return nil
    }

    private func checkArray(_ items: [Value], _ rules: [String: Value], at path: String, references: Int) throws -> String? {
        if let limit = Self.count(rules["minItems"]), items.count < limit {
            return "\(path): expected at least \(limit) item\(limit == 1 ? "" : "s"), found \(items.count)"
        }
        if let limit = Self.count(rules["maxItems"]), items.count > limit {
            return "\(path): expected at most \(limit) item\(limit == 1 ? "" : "s"), found \(items.count)"
        }
        if rules["uniqueItems"] == .bool(true) {
            var seen: Set<Value> = []
            for (index, item) in items.enumerated() where !seen.insert(Self.canonical(item)).inserted {
                return "\(path)[\(index)]: the items must be unique, and this one repeats an earlier one"
            }
        }
        var prefix: [Value] = []
        if case .list(let schemas)? = rules["prefixItems"] { prefix = schemas }
        for (index, item) in items.enumerated() {
            let itemSchema = index < prefix.count ? prefix[index] : rules["items"]
            guard let itemSchema else { continue }
            if let problem = try check(item, against: itemSchema, at: "\(path)[\(index)]", references: references) { return problem }
        }
        if let contained = rules["contains"] {
            var matching = 0
            for item in items where try check(item, against: contained, at: path, references: references) == nil { matching += 1 }
            let least = Self.count(rules["minContains"]) ?? 1
            if matching < least {
                return "\(path): expected at least \(least) item\(least == 1 ? "" : "s") matching `contains`, found \(matching)"
            }
            if let most = Self.count(rules["maxContains"]), matching > most {
                return "\(path): expected at most \(most) item\(most == 1 ? "" : "s") matching `contains`, found \(matching)"
            }
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
            guard let expression = regex(pattern) else { return "\(path): the schema's pattern `\(pattern)` is not a regular expression" }
            if expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                return "\(path): \(Self.shown(.string(text))) does not match the pattern `\(pattern)`"
            }
        }
        return nil
    }

    private static func checkNumber(_ number: Double, _ rules: [String: Value], at path: String) -> String? {
        let shown = shown(number == number.rounded() && abs(number) < 1e15 ? .int(Int(number)) : .float(number))
        if let minimum = rules["minimum"]?.number, number < minimum { return "\(path): expected at least \(self.number(minimum)), found \(shown)" }
        if let maximum = rules["maximum"]?.number, number > maximum { return "\(path): expected at most \(self.number(maximum)), found \(shown)" }
        if let bound = rules["exclusiveMinimum"]?.number, number <= bound {
            return "\(path): expected more than \(self.number(bound)), found \(shown)"
        }
        if let bound = rules["exclusiveMaximum"]?.number, number >= bound {
            return "\(path): expected less than \(self.number(bound)), found \(shown)"
        }
        if let divisor = rules["multipleOf"]?.number, divisor > 0 {
            let quotient = number / divisor
            if abs(quotient - quotient.rounded()) > 1e-9 * max(1, abs(quotient)) {
                return "\(path): expected a multiple of \(self.number(divisor)), found \(shown)"
            }
        }
        return nil
    }

    private func checkCombinations(_ value: Value, _ rules: [String: Value], at path: String, references: Int) throws -> String? {
        if case .list(let schemas)? = rules["allOf"] {
            for schema in schemas {
                if let problem = try check(value, against: schema, at: path, references: references) { return problem }
            }
        }
        if case .list(let schemas)? = rules["anyOf"] {
            var first: String?
            var matched = false
            for schema in schemas {
                guard let problem = try check(value, against: schema, at: path, references: references) else {
                    matched = true
                    break
                }
                first = first ?? problem
            }
            if !matched { return "\(path): matches none of the \(schemas.count) choices of `anyOf` (the first: \(first ?? "?"))" }
        }
        if case .list(let schemas)? = rules["oneOf"] {
            var matching = 0
            for schema in schemas where try check(value, against: schema, at: path, references: references) == nil { matching += 1 }
            if matching != 1 { return "\(path): must match exactly one choice of `oneOf`, matches \(matching)" }
        }
        if let negated = rules["not"], try check(value, against: negated, at: path, references: references) == nil {
            return "\(path): matches the schema under `not`"
        }
        if let condition = rules["if"] {
            let branch = try check(value, against: condition, at: path, references: references) == nil ? rules["then"] : rules["else"]
            if let branch, let problem = try check(value, against: branch, at: path, references: references) { return problem }
        }
        return nil
    }

    /// A pattern compiled once per check; `nil` when it is not a regular expression.
    private func regex(_ pattern: String) -> NSRegularExpression? {
        if let compiled = patterns[pattern] { return compiled }
        let compiled = try? NSRegularExpression(pattern: pattern)
        patterns[pattern] = compiled
        return compiled
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

    /// The value with every whole float written as an int, so that values JSON calls equal
    /// (`1` and `1.0`) are equal `Value`s, and hash alike.
    private static func canonical(_ value: Value) -> Value {
        switch value {
        case .float(let number) where number == number.rounded() && abs(number) < 9e15: .int(Int(number))
        case .list(let items): .list(items.map(canonical))
        case .map(let fields): .map(fields.mapValues(canonical))
        default: value
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
