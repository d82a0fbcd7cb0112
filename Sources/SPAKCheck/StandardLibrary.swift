/// The functions a SPAK expression may call. The checker holds calls to these signatures;
/// the kernel implements exactly this list. Every function is pure.
public struct FunctionSignature: Sendable {
    /// The function's name.
    public let name: String
    /// Parameter names and types, in order.
    public let parameters: [(name: String, type: ValueType)]
    /// How many leading parameters are required; the rest are optional.
    public let required: Int
    /// The result type.
    public let result: ValueType
    /// One line for the reference.
    public let summary: String

    init(_ name: String, _ parameters: [(String, ValueType)], required: Int? = nil, _ result: ValueType, _ summary: String) {
        self.name = name
        self.parameters = parameters.map { (name: $0.0, type: $0.1) }
        self.required = required ?? parameters.count
        self.result = result
        self.summary = summary
    }

    /// `name(a, b[, c])` as written in the reference.
    public var synopsis: String {
        var text = ""
        for (index, parameter) in parameters.enumerated() {
            let separator = index == 0 ? "" : ", "
            text += index >= required ? "[\(separator)\(parameter.name)]" : "\(separator)\(parameter.name)"
        }
        return "\(name)(\(text))"
    }
}

/// The standard library, by name.
public enum StandardLibrary {
    /// Every function, in reference order.
    public static let functions: [FunctionSignature] = [
        .init("len", [("value", .any)], .int, "number of characters of a string, items of a list or entries of a map"),
        .init("int", [("value", .any)], .int, "a number or numeric string as an integer (floats are truncated)"),
        .init("float", [("value", .any)], .float, "a number or numeric string as a float"),
        .init("str", [("value", .any)], .string, "any value as text (lists and maps as JSON)"),
        .init("split", [("text", .string), ("separator", .string)], .list(.string), "the parts of text between separators"),
        .init("join", [("items", .list(.any)), ("separator", .string)], .string, "items as text, with separator between them"),
        .init("strip", [("text", .string)], .string, "text without leading and trailing whitespace"),
        .init("lower", [("text", .string)], .string, "text in lower case"),
        .init("upper", [("text", .string)], .string, "text in upper case"),
        .init("replace", [("text", .string), ("old", .string), ("new", .string)], .string, "text with every `old` replaced by `new`"),
        .init("contains", [("container", .any), ("item", .any)], .bool, "whether a string holds a substring, a list an item, or a map a key"),
        .init("starts_with", [("text", .string), ("prefix", .string)], .bool, "whether text begins with prefix"),
        .init("ends_with", [("text", .string), ("suffix", .string)], .bool, "whether text ends with suffix"),
        .init("extract_code", [("text", .string), ("language", .string)], required: 1, .string,
              "the first fenced code block (of that language, if given) in a model's reply, or the whole text if there is none"),
        .init("keys", [("map", .map(.any))], .list(.string), "a map's keys, sorted"),
        .init("values", [("map", .map(.any))], .list(.any), "a map's values, in key order"),
        .init("get", [("map", .map(.any)), ("key", .string), ("default", .any)], required: 2, .any,
              "the value at key, or default (null if not given) when the key is absent"),
        .init("sum", [("numbers", .list(.any))], .float, "the sum of a list of numbers"),
        .init("mean", [("numbers", .list(.any))], .float, "the arithmetic mean of a non-empty list of numbers"),
        .init("geomean", [("numbers", .list(.any))], .float, "the geometric mean of a non-empty list of positive numbers"),
        .init("minimum", [("items", .list(.any))], .any, "the smallest item of a non-empty list"),
        .init("maximum", [("items", .list(.any))], .any, "the largest item of a non-empty list"),
        .init("round", [("number", .float), ("digits", .int)], required: 1, .float, "number rounded to digits decimal places (0 if not given)"),
        .init("abs", [("number", .float)], .float, "the absolute value"),
        .init("parse_json", [("text", .string)], .any, "the value a JSON text denotes"),
        .init("to_json", [("value", .any)], .string, "a value as compact JSON text"),
    ]

    /// The functions by name.
    public static let byName: [String: FunctionSignature] = Dictionary(
        uniqueKeysWithValues: functions.map { ($0.name, $0) })
}

/// Names the kernel binds itself; a program reads them but cannot bind them.
public enum Builtins {
    /// `feedback`: the text of the last failure that sent the run back through `on_fail retry`
    /// (an invariant violation, a rejected reply or a run-time error), or the empty string when
    /// there is none. `feedback_kind`: which of those it was, as `"invariant"`, `"reply"` or
    /// `"runtime_error"`, or the empty string when there is no feedback.
    public static let variables: [String: ValueType] = ["feedback": .string, "feedback_kind": .string]
}
