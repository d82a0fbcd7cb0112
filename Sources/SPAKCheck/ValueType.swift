/// What the checker knows about a value's type. `any` means "not known until run time" and
/// silences every check: SPAK only reports type errors it can be sure of.
public indirect enum ValueType: Sendable, Equatable, CustomStringConvertible {
    case any
    case null
    case bool
    case int
    case float
    case string
    case duration
    case list(ValueType)
    case map(ValueType)
    /// A map with known fields, such as the result of `tool.run`.
    case record([RecordField])

    /// The types a task parameter may declare, by name.
    public static let declarable: [String: ValueType] = [
        "int": .int, "float": .float, "string": .string, "bool": .bool, "duration": .duration,
        "list": .list(.any), "map": .map(.any), "any": .any,
    ]

    public var description: String {
        switch self {
        case .any: "any"
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "string"
        case .duration: "duration"
        case .list: "a list"
        case .map: "a map"
        case .record: "a map"
        }
    }

    /// `int` or `float`.
    public var isNumber: Bool { self == .int || self == .float }

    /// Whether a value of this type may be used where `expected` is required.
    public func fits(_ expected: ValueType) -> Bool {
        switch (self, expected) {
        case (.any, _), (_, .any): true
        case (.int, .float): true
        case (.list(let element), .list(let expectedElement)): element.fits(expectedElement)
        case (.map, .map), (.record, .map), (.map, .record), (.record, .record): true
        default: self == expected
        }
    }

    /// The type of a name bound twice with different types: the common type or `any`.
    public func merged(with other: ValueType) -> ValueType {
        if self == other { return self }
        if isNumber, other.isNumber { return .float }
        return .any
    }
}

/// A named field of a record type.
public struct RecordField: Sendable, Equatable {
    /// The field's name.
    public let name: String
    /// The field's type.
    public let type: ValueType

    /// Creates a field.
    public init(_ name: String, _ type: ValueType) {
        self.name = name
        self.type = type
    }
}
