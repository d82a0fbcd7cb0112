import SPAKDiagnostics
import SPAKSyntax

/// Task parameters from `--param NAME=VALUE`, typed by the task's declarations.
public enum Parameters {
    /// Why a parameter was refused.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String

        /// Creates a problem.
        public init(description: String) { self.description = description }
    }

    /// Every parameter's value: given ones converted to their declared types, the rest from
    /// their defaults.
    public static func resolve(_ given: [(String, String)], for task: TaskDecl) throws(Problem) -> [String: Value] {
        var values: [String: Value] = [:]
        let declared = Dictionary(task.parameters.map { ($0.name.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (name, text) in given {
            guard let parameter = declared[name] else {
                let hint = Suggestions.closest(to: name, among: declared.keys).map { "; did you mean `\($0)`?" } ?? ""
                throw Problem(description: "task `\(task.name.name)` has no parameter `\(name)`\(hint)")
            }
            values[name] = try convert(text, to: parameter.type.name, name: name)
        }
        for parameter in task.parameters where values[parameter.name.name] == nil {
            guard let value = parameter.defaultValue else {
                throw Problem(description: "parameter `\(parameter.name.name)` has no default: pass --param \(parameter.name.name)=VALUE")
            }
            do {
                values[parameter.name.name] = try Evaluator(variables: [:]).evaluate(value)
            } catch {
                throw Problem(description: "the default of `\(parameter.name.name)` cannot be evaluated: \(error.message)")
            }
        }
        return values
    }

    private static func convert(_ text: String, to type: String, name: String) throws(Problem) -> Value {
        func problem() -> Problem { Problem(description: "--param \(name)=\(text): not a valid \(type)") }
        switch type {
        case "int": guard let value = Int(text) else { throw problem() }; return .int(value)
        case "float": guard let value = Double(text), value.isFinite else { throw problem() }; return .float(value)
        case "bool":
            guard text == "true" || text == "false" else { throw problem() }
            return .bool(text == "true")
        case "string": return .string(text)
        case "duration": guard let seconds = Durations.seconds(text) else { throw problem() }; return .float(seconds)
        case "list", "map":
            guard let value = try? JSON.parse(text) else { throw problem() }
            if type == "list", case .list = value { return value }
            if type == "map", case .map = value { return value }
            throw problem()
        default:
            return (try? JSON.parse(text)) ?? .string(text)
        }
    }
}
