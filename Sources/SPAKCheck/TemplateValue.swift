/// What a value is when swift-mustache renders it under the kernel (`TemplateRenderer.context`):
/// strings, floats and durations are text; ints are integers; bools are flags; lists and maps
/// are wrappers that render as JSON; null and the empty string are left out. Transforms work
/// only on some of these, and any other transform renders nothing.
enum TemplateValue: Equatable {
    case text, integer, flag, list, map

    /// What a value of this type is in a template; `nil` when that is not known.
    init?(_ type: ValueType) {
        switch type {
        case .string, .float, .duration: self = .text
        case .int: self = .integer
        case .bool: self = .flag
        case .list: self = .list
        case .map, .record: self = .map
        case .any, .null: return nil
        }
    }

    var description: String {
        switch self {
        case .text: "text"
        case .integer: "an int"
        case .flag: "a bool"
        case .list: "a list"
        case .map: "a map"
        }
    }

    /// Transforms of text, and what each gives.
    static let textTransforms: [String: TemplateValue] = [
        "capitalized": .text, "lowercased": .text, "uppercased": .text, "reversed": .text,
    ]
    /// Transforms of an int, and what each gives.
    static let integerTransforms: [String: TemplateValue] = [
        "equalzero": .flag, "plusone": .integer, "minusone": .integer, "even": .flag, "odd": .flag,
    ]
    /// Transforms of the item a list section is at, written with empty parentheses
    /// (`{{index()}}`), and what each gives.
    static let itemTransforms: [String: TemplateValue] = [
        "first": .flag, "last": .flag, "index": .integer, "even": .flag, "odd": .flag,
    ]
    /// swift-mustache's transforms that no value in a SPAK template takes.
    static let inapplicableTransforms: Set<String> = ["empty", "count", "sorted", "enumerated", "first", "last", "index"]

    /// Every transform that renders something somewhere, for suggestions.
    static var usefulTransforms: Set<String> {
        Set(textTransforms.keys).union(integerTransforms.keys).union(itemTransforms.keys)
    }

    /// The transforms that work, in words.
    static let transformsInWords = "capitalized, lowercased, uppercased and reversed (of text), equalzero, plusone, minusone, "
        + "even and odd (of an int), and first(), last(), index(), even() and odd() (of a list section's item)"

    /// What applying a transform to a value gives.
    enum Outcome: Equatable {
        /// A value, of this kind if known.
        case value(TemplateValue?)
        /// swift-mustache has no such transform.
        case unknown
        /// The transform never applies here, so the tag renders nothing; the reason.
        case nothing(String)
    }

    /// Applies `transform` (written with a name in its parentheses) to a value of kind `input`.
    static func apply(_ transform: String, to input: TemplateValue?) -> Outcome {
        for (family, takes) in [(textTransforms, TemplateValue.text), (integerTransforms, .integer)] {
            guard let result = family[transform] else { continue }
            if let input, input != takes {
                return .nothing("`\(transform)` works on \(takes.description), and this is \(input.description)")
            }
            return .value(result)
        }
        switch transform {
        case "empty":
            return .nothing("an empty string is left out of a template, so `empty` is never true; write `{{^name}}...{{/name}}` instead")
        case "first", "last", "index":
            return .nothing("`\(transform)()`, with nothing in its parentheses, is about the item a list section is at; "
                            + "given a value, `\(transform)` applies to none in a SPAK template")
        case _ where inapplicableTransforms.contains(transform):
            return .nothing("`\(transform)` applies to no value in a SPAK template (lists and maps render as JSON and take no transforms)")
        default:
            return .unknown
        }
    }
}
