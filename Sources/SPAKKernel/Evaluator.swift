import SPAKDiagnostics
import SPAKSyntax

/// Something that went wrong while evaluating an expression: the run fails with this reason.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in words.
    public let message: String
    /// Where in the program.
    public let range: SourceRange
    /// Whether an `on_fail retry` may retry the step (a mistake in what the model produced),
    /// or the run must end whatever the policy (a refusal: a command no allow line admits, a
    /// path out of the workspace; or a host that cannot run a command).
    public let retryable: Bool

    /// Creates an error.
    public init(_ message: String, at range: SourceRange, retryable: Bool = true) {
        self.message = message
        self.range = range
        self.retryable = retryable
    }

    public var description: String { message }
}

/// Evaluates expressions over the run's variables. Pure: the same expression and variables
/// always give the same value.
public struct Evaluator {
    /// The variables in scope.
    public let variables: [String: Value]

    /// Creates an evaluator over some variables.
    public init(variables: [String: Value]) { self.variables = variables }

    /// The value of an expression.
    public func evaluate(_ expr: Expr) throws(RuntimeError) -> Value {
        switch expr.kind {
        case .integer(let spelling):
            guard let value = Int(spelling) else { throw RuntimeError("integer `\(spelling)` does not fit in 64 bits", at: expr.range) }
            return .int(value)
        case .float(let spelling): return try finite(.float(Double(spelling) ?? .nan), at: expr.range)
        case .duration(let spelling): return try finite(.float(Durations.seconds(spelling) ?? 0), at: expr.range)
        case .string(let value): return .string(value)
        case .bool(let value): return .bool(value)
        case .null: return .null
        case .missing: throw RuntimeError("the program has a syntax error here", at: expr.range)
        case .name(let name):
            guard let value = variables[name] else { throw RuntimeError("`\(name)` has no value yet", at: expr.range) }
            return value
        case .list(let items):
            var values: [Value] = []
            for item in items { values.append(try evaluate(item)) }
            return .list(values)
        case .map(let entries):
            var values: [String: Value] = [:]
            for entry in entries { values[entry.key.value] = try evaluate(entry.value) }
            return .map(values)
        case .field(let base, let field):
            let value = try evaluate(base)
            guard case .map(let entries) = value else {
                throw RuntimeError("`.\(field.name)` needs a map, but the value is \(value.kindName)", at: expr.range)
            }
            guard let found = entries[field.name] else {
                let keys = entries.keys.sorted().prefix(12).map { "`\($0)`" }.joined(separator: ", ")
                throw RuntimeError("the map has no key `\(field.name)` (its keys: \(keys.isEmpty ? "none" : keys))", at: field.range)
            }
            return found
        case .index(let base, let index):
            return try subscriptValue(try evaluate(base), try evaluate(index), at: expr.range)
        case .call(let function, let arguments):
            var values: [Value] = []
            for argument in arguments { values.append(try evaluate(argument.value)) }
            let result: Value
            do {
                result = try StandardLibraryRuntime.call(function.name, values)
            } catch {
                throw RuntimeError("\(function.name)(): \(error.message)", at: expr.range)
            }
            return try finite(result, at: expr.range)
        case .unary(.negate, let operand):
            switch try evaluate(operand) {
            case .int(let value):
                guard value != .min else { throw RuntimeError("integer overflow in unary `-`", at: expr.range) }
                return .int(-value)
            case .float(let value): return .float(-value)
            case let other: throw RuntimeError("unary `-` needs a number, but the value is \(other.kindName)", at: expr.range)
            }
        case .unary(.not, let operand):
            return .bool(!(try condition(operand, what: "`not`")))
        case .binary(.and, let lhs, let rhs):
            guard try condition(lhs, what: "`and`") else { return .bool(false) }
            return .bool(try condition(rhs, what: "`and`"))
        case .binary(.or, let lhs, let rhs):
            if try condition(lhs, what: "`or`") { return .bool(true) }
            return .bool(try condition(rhs, what: "`or`"))
        case .binary(let op, let lhs, let rhs):
            return try finite(try Operators.apply(op, try evaluate(lhs), try evaluate(rhs), at: expr.range), at: expr.range)
        }
    }

    /// A value, unless it is an infinite or NaN number: the record writes values as JSON, which
    /// has neither, so such a value could not be recorded as it is, nor replayed.
    private func finite(_ value: Value, at range: SourceRange) throws(RuntimeError) -> Value {
        if case .float(let number) = value, !number.isFinite {
            throw RuntimeError("the result is \(number.isNaN ? "not a number" : "infinite"); values must be finite numbers",
                               at: range)
        }
        return value
    }

    /// Evaluates a condition, which must be a bool.
    public func condition(_ expr: Expr, what: String) throws(RuntimeError) -> Bool {
        let value = try evaluate(expr)
        guard case .bool(let flag) = value else {
            throw RuntimeError("\(what) needs a bool, but the value is \(value.kindName)", at: expr.range)
        }
        return flag
    }

    private func subscriptValue(_ base: Value, _ index: Value, at range: SourceRange) throws(RuntimeError) -> Value {
        switch (base, index) {
        case (.list(let items), .int(let position)):
            guard items.indices.contains(position) else {
                throw RuntimeError("index \(position) is out of range for a list of \(items.count)", at: range)
            }
            return items[position]
        case (.string(let text), .int(let position)):
            let characters = Array(text)
            guard characters.indices.contains(position) else {
                throw RuntimeError("index \(position) is out of range for a string of \(characters.count)", at: range)
            }
            return .string(String(characters[position]))
        case (.map(let entries), .string(let key)):
            guard let value = entries[key] else { throw RuntimeError("the map has no key `\(key)`", at: range) }
            return value
        default:
            throw RuntimeError("cannot index \(base.kindName) with \(index.kindName)", at: range)
        }
    }
}

/// Duration literals (`30s`, `1.5m`, `200ms`, `2h`) in seconds.
public enum Durations {
    /// The seconds a duration literal denotes.
    public static func seconds(_ spelling: String) -> Double? {
        for (unit, scale) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where spelling.hasSuffix(unit) {
            if let amount = Double(spelling.dropLast(unit.count)) { return amount * scale }
        }
        return nil
    }
}

/// The arithmetic and comparison operators on values.
enum Operators {
    static func apply(_ op: BinaryOperator, _ lhs: Value, _ rhs: Value, at range: SourceRange) throws(RuntimeError) -> Value {
        switch op {
        case .equal: return .bool(equal(lhs, rhs))
        case .notEqual: return .bool(!equal(lhs, rhs))
        case .less, .lessEqual, .greater, .greaterEqual:
            let order: Int
            switch (lhs, rhs) {
            case (.string(let a), .string(let b)): order = a < b ? -1 : (a == b ? 0 : 1)
            default:
                guard let a = lhs.number, let b = rhs.number else {
                    throw RuntimeError("`\(op.rawValue)` compares two numbers or two strings, not \(lhs.kindName) and \(rhs.kindName)", at: range)
                }
                order = a < b ? -1 : (a == b ? 0 : 1)
            }
            switch op {
            case .less: return .bool(order < 0)
            case .lessEqual: return .bool(order <= 0)
            case .greater: return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case .add:
            switch (lhs, rhs) {
            case (.string(let a), .string(let b)): return .string(a + b)
            case (.list(let a), .list(let b)): return .list(a + b)
            default: return try arithmetic(op, lhs, rhs, at: range)
            }
        default:
            return try arithmetic(op, lhs, rhs, at: range)
        }
    }

    static func equal(_ lhs: Value, _ rhs: Value) -> Bool {
        if let a = lhs.number, let b = rhs.number { return a == b }
        return lhs == rhs
    }

    private static func arithmetic(_ op: BinaryOperator, _ lhs: Value, _ rhs: Value, at range: SourceRange) throws(RuntimeError) -> Value {
        if case .int(let a) = lhs, case .int(let b) = rhs, op != .divide {
            let result: (Int, Bool)
            switch op {
            case .add: result = a.addingReportingOverflow(b)
            case .subtract: result = a.subtractingReportingOverflow(b)
            case .multiply: result = a.multipliedReportingOverflow(by: b)
            default:
                guard b != 0 else { throw RuntimeError("remainder by zero", at: range) }
                result = a.remainderReportingOverflow(dividingBy: b)
            }
            guard !result.1 else { throw RuntimeError("integer overflow in `\(op.rawValue)`", at: range) }
            return .int(result.0)
        }
        guard let a = lhs.number, let b = rhs.number else {
            throw RuntimeError("`\(op.rawValue)` needs numbers, not \(lhs.kindName) and \(rhs.kindName)", at: range)
        }
        switch op {
        case .add: return .float(a + b)
        case .subtract: return .float(a - b)
        case .multiply: return .float(a * b)
        case .divide:
            guard b != 0 else { throw RuntimeError("division by zero", at: range) }
            return .float(a / b)
        default:
            guard b != 0 else { throw RuntimeError("remainder by zero", at: range) }
            return .float(a.truncatingRemainder(dividingBy: b))
        }
    }
}
