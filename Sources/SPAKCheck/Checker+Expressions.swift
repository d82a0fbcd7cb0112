import SPAKDiagnostics
import SPAKSyntax

/// Which names an expression may read.
enum NameLookup {
    /// Parameter defaults: literals only.
    case constantsOnly
    /// Flow code: names bound by a statement earlier in the source.
    case boundSoFar
    /// Invariants and metrics: names bound anywhere in the task. The string says whose.
    case boundAnywhere(String)
}

extension Checker {
    /// The type of an expression, reporting what is certainly wrong with it.
    mutating func infer(_ expr: Expr, lookup: NameLookup) -> ValueType {
        switch expr.kind {
        case .integer(let spelling):
            if Int(spelling) == nil { report(.integerOverflow(spelling), at: expr.range) }
            return .int
        case .float(let spelling):
            if !(Double(spelling)?.isFinite ?? false) { report(.integerOverflow(spelling), at: expr.range) }
            return .float
        case .duration(let spelling):
            let amount = spelling.prefix { $0.isNumber || $0 == "." }
            if !(Double(amount).map { $0 < 1e15 } ?? false) { report(.integerOverflow(spelling), at: expr.range) }
            return .duration
        case .string(let value):
            if value.containsTemplateTag { report(.notATemplate, at: expr.range) }
            return .string
        case .bool: return .bool
        case .null: return .null
        case .missing: return .any
        case .name(let name):
            return resolve(Identifier(name, range: expr.range), lookup: lookup)
        case .list(let items):
            let types = items.map { infer($0, lookup: lookup) }
            return .list(types.dropFirst().reduce(types.first ?? .any) { $0.merged(with: $1) })
        case .map(let entries):
            var seen: [String: SourceRange] = [:]
            var valueType: ValueType?
            for entry in entries {
                if let first = seen[entry.key.value] {
                    report(.duplicateDefinition("map key", entry.key.value), at: entry.key.range,
                           notes: [DiagnosticNote("first defined here", at: first)])
                }
                seen[entry.key.value] = entry.key.range
                let type = infer(entry.value, lookup: lookup)
                valueType = valueType?.merged(with: type) ?? type
            }
            return .map(valueType ?? .any)
        case .field(let base, let field):
            return fieldType(infer(base, lookup: lookup), field: field, base: base)
        case .index(let base, let index):
            return indexType(infer(base, lookup: lookup), infer(index, lookup: lookup), index: index, whole: expr)
        case .call(let function, let arguments):
            return call(function, arguments, lookup: lookup)
        case .unary(.negate, let operand):
            let type = infer(operand, lookup: lookup)
            guard type == .any || type.isNumber || type == .duration else {
                report(.typeMismatch("the operand of unary `-`", expected: "a number", found: type.description), at: operand.range)
                return .any
            }
            return type
        case .unary(.not, let operand):
            requireBool(operand, infer(operand, lookup: lookup), what: "the operand of `not`")
            return .bool
        case .binary(let op, let lhs, let rhs):
            return binary(op, lhs, infer(lhs, lookup: lookup), rhs, infer(rhs, lookup: lookup), whole: expr)
        }
    }

    /// Reports a known non-boolean where a condition is required.
    mutating func requireBool(_ expr: Expr, _ type: ValueType, what: String) {
        if !type.fits(.bool) { report(.typeMismatch(what, expected: "bool", found: type.description), at: expr.range) }
    }

    private mutating func resolve(_ name: Identifier, lookup: NameLookup) -> ValueType {
        switch lookup {
        case .constantsOnly:
            report(.undefinedName(name.name), at: name.range,
                   notes: [DiagnosticNote("a parameter's default cannot name variables or other parameters")])
            return .any
        case .boundSoFar:
            if let variable = scope[name.name] { return variable.type }
            if let later = bindingSites[name.name] {
                report(.usedBeforeBound(name.name), at: name.range,
                       notes: [DiagnosticNote("`\(name.name)` is first bound here, later in the task", at: later)])
            } else {
                report(.undefinedName(name.name), at: name.range, fixIts: suggestion(for: name, among: scope.keys))
            }
            return .any
        case .boundAnywhere(let owner):
            if let variable = scope[name.name] { return variable.type }
            report(.neverBound(name.name, in: owner), at: name.range, fixIts: suggestion(for: name, among: scope.keys))
            return .any
        }
    }

    private mutating func fieldType(_ baseType: ValueType, field: Identifier, base: Expr) -> ValueType {
        switch baseType {
        case .any: return .any
        case .map(let value): return value
        case .record(let fields):
            if let match = fields.first(where: { $0.name == field.name }) { return match.type }
            report(.unknownField(field.name, of: "this result", fields: fields.map { "`\($0.name)`" }.joined(separator: ", ")),
                   at: field.range, fixIts: suggestion(for: field, among: fields.map(\.name)))
            return .any
        default:
            report(.typeMismatch("the value before `.\(field.name)`", expected: "a map", found: baseType.description),
                   at: base.range)
            return .any
        }
    }

    private mutating func indexType(_ baseType: ValueType, _ indexType: ValueType, index: Expr, whole: Expr) -> ValueType {
        switch baseType {
        case .any: return .any
        case .list(let element):
            requireIndex(indexType, index: index)
            return element
        case .string:
            requireIndex(indexType, index: index)
            return .string
        case .map(let value):
            if !indexType.fits(.string) {
                report(.typeMismatch("a map key", expected: "string", found: indexType.description), at: index.range)
            }
            return value
        case .record:
            return .any
        default:
            report(.typeMismatch("the indexed value", expected: "a list, a map or a string", found: baseType.description),
                   at: whole.range)
            return .any
        }
    }

    private mutating func requireIndex(_ type: ValueType, index: Expr) {
        if !type.fits(.int) {
            report(.typeMismatch("a list or string index", expected: "int", found: type.description), at: index.range)
        }
    }

    private mutating func call(_ function: Identifier, _ arguments: [Argument], lookup: NameLookup) -> ValueType {
        let types = arguments.map { infer($0.value, lookup: lookup) }
        guard let signature = StandardLibrary.byName[function.name] else {
            report(.unknownFunction(function.name), at: function.range,
                   fixIts: suggestion(for: function, among: StandardLibrary.byName.keys))
            return .any
        }
        for argument in arguments {
            if let label = argument.label {
                report(.unknownArgument(label.name, of: function.name, accepted: "positional arguments only"), at: label.range)
            }
        }
        let positionalCount = arguments.count(where: { $0.label == nil })
        if positionalCount < signature.required || positionalCount > signature.parameters.count {
            let expected = signature.required == signature.parameters.count
                ? "\(signature.required) argument\(signature.required == 1 ? "" : "s")"
                : "\(signature.required) to \(signature.parameters.count) arguments"
            report(.argumentCount(function.name, expected: expected, found: positionalCount), at: function.range,
                   notes: [DiagnosticNote("usage: \(signature.synopsis)")])
        }
        if ["len", "keys", "values"].contains(function.name), let first = types.first,
           [ValueType.int, .float, .bool, .null, .duration].contains(first) {
            report(.typeMismatch("the argument of `\(function.name)`", expected: function.name == "len" ? "a string, a list or a map" : "a map",
                                 found: first.description), at: arguments[0].value.range)
        }
        for (argument, (parameter, type)) in zip(arguments, zip(signature.parameters, types)) where !type.fits(parameter.type) {
            report(.typeMismatch("argument `\(parameter.name)` of `\(function.name)`", expected: parameter.type.description,
                                 found: type.description), at: argument.value.range)
        }
        return signature.result
    }

    private mutating func binary(
        _ op: BinaryOperator, _ lhs: Expr, _ left: ValueType, _ rhs: Expr, _ right: ValueType, whole: Expr
    ) -> ValueType {
        func mismatch(_ expected: String) -> ValueType {
            report(.typeMismatch("the operands of `\(op.rawValue)`", expected: expected, found: "\(left) and \(right)"),
                   at: whole.range)
            return .any
        }
        let unknown = left == .any || right == .any
        switch op {
        case .and, .or:
            requireBool(lhs, left, what: "the left operand of `\(op.rawValue)`")
            requireBool(rhs, right, what: "the right operand of `\(op.rawValue)`")
            return .bool
        case .equal, .notEqual:
            let comparable = unknown || left == right || (left.isNumber && right.isNumber) || left == .null || right == .null
                || left.fits(right) || right.fits(left)
            if !comparable { _ = mismatch("values of the same type (`\(op.rawValue)` between \(left) and \(right) is always \(op == .notEqual))") }
            return .bool
        case .less, .lessEqual, .greater, .greaterEqual:
            if unknown || (left.isNumber && right.isNumber) || left == right && [.string, .duration].contains(left) {
                return .bool
            }
            _ = mismatch("two numbers, two durations or two strings")
            return .bool
        case .add:
            if left.isNumber, right.isNumber { return left == .int && right == .int ? .int : .float }
            if case .list(let a) = left, case .list(let b) = right { return .list(a.merged(with: b)) }
            if left == right, [.string, .duration].contains(left) { return left }
            if unknown { return .any }
            return mismatch("two numbers, two strings, two lists or two durations")
        case .subtract, .multiply, .divide, .remainder:
            if op == .divide || op == .remainder, case .integer(let zero) = rhs.kind, Int(zero) == 0 {
                report(.typeMismatch("the right operand of `\(op.rawValue)`", expected: "not zero", found: "0"), at: rhs.range)
            }
            if left.isNumber, right.isNumber {
                return op == .divide || left == .float || right == .float ? .float : .int
            }
            if left == .duration, right == .duration, op == .subtract { return .duration }
            if left == .duration, right.isNumber, op == .multiply || op == .divide { return .duration }
            if unknown { return .any }
            return mismatch("numbers")
        }
    }
}
