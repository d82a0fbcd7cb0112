/// A run-time value. Values are JSON-compatible; integers and floats stay distinct.
public indirect enum Value: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([Value])
    /// A map; its keys are written in sorted order wherever it is serialized.
    case map([String: Value])

    /// How the value's kind is named in messages.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "string"
        case .list: "a list"
        case .map: "a map"
        }
    }

    /// The value as a number, if it is one.
    public var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .float(let value): value
        default: nil
        }
    }

    /// The value as text, the way `str()`, templates and commands show it: strings as they
    /// are, numbers in their shortest form, everything else as compact JSON.
    public var text: String {
        switch self {
        case .string(let value): value
        default: JSON.serialize(self)
        }
    }
}
