import SPAKDiagnostics

/// The AST as JSON (`spak parse --json`): every node is an object whose `kind` names it,
/// with `at` (`"LINE:COLUMN"`, 1-based) unless locations are left out.
public struct ProgramJSON {
    let file: SourceFile
    let includeLocations: Bool

    /// Creates a writer for a file's AST.
    public init(file: SourceFile, includeLocations: Bool = true) {
        self.file = file
        self.includeLocations = includeLocations
    }

    /// The JSON of a whole program.
    public func json(_ program: Program) -> JSONValue {
        var members: [(String, JSONValue)] = [("kind", .string("program"))]
        members.append(("task", program.task.map(task) ?? .null))
        members.append(("comments", .array(program.comments.map { comment in
            node("comment", comment.range, [("text", .string(comment.text))])
        })))
        return .object(members)
    }

    private func task(_ task: TaskDecl) -> JSONValue {
        node("task", task.range, [
            ("name", .string(task.name.name)),
            ("parameters", .array(task.parameters.map { parameter in
                node("parameter", parameter.range, [
                    ("name", .string(parameter.name.name)),
                    ("type", .string(parameter.type.name)),
                    ("default", parameter.defaultValue.map(expr) ?? .null),
                ])
            })),
            ("items", .array(task.items.map(item))),
        ])
    }

    private func item(_ item: TaskItem) -> JSONValue {
        switch item {
        case .systemModel(let model):
            node("system_model", model.range, [("items", .array(model.items.map(modelItem)))])
        case .evaluation(let evaluation):
            node("evaluation", evaluation.range, [
                ("metrics", .array(evaluation.metrics.map { metric in
                    node("metric", metric.range, [("name", .string(metric.name.name)), ("value", expr(metric.value))])
                })),
                ("objectives", .array(evaluation.objectives.map { objective in
                    node("objective", objective.range, [
                        ("direction", .string(objective.direction.rawValue)), ("metric", .string(objective.metric.name)),
                    ])
                })),
            ])
        case .statement(let statement):
            self.statement(statement)
        }
    }

    private func modelItem(_ item: ModelItem) -> JSONValue {
        switch item {
        case .invariant(let name, let condition, let range):
            node("invariant", range, [("name", .string(name.name)), ("condition", expr(condition))])
        case .allow(let effect, let prefix, let range):
            node("allow", range, [("effect", .string("tool.\(effect.name)")), ("prefix", .string(prefix.value))])
        case .budget(let target, let limit, let range):
            node("budget", range, [("target", .string(target.spelling)), ("limit", expr(limit))])
        case .secret(let name, let range):
            node("secret", range, [("name", .string(name.name))])
        }
    }

    private func block(_ block: Block) -> JSONValue { .array(block.statements.map(statement)) }

    private func statement(_ statement: Statement) -> JSONValue {
        switch statement {
        case .step(let name, let body, let range):
            return node("step", range, [("name", .string(name.name)), ("body", block(body))])
        case .let(let name, let value, let range):
            return node("let", range, [("name", .string(name.name)), ("value", expr(value))])
        case .if(let statement):
            return ifStatement(statement)
        case .repeat(let loop):
            let iteration: JSONValue = switch loop.iteration {
            case .range(let from, let to): .object([("kind", .string("range")), ("from", expr(from)), ("to", expr(to))])
            case .each(let list): .object([("kind", .string("each")), ("list", expr(list))])
            }
            return node("repeat", loop.range, [
                ("variable", .string(loop.variable.name)), ("iteration", iteration),
                ("until", loop.until.map(expr) ?? .null), ("body", block(loop.body)),
            ])
        case .effect(let effect):
            var members: [(String, JSONValue)] = [
                ("effect", .string(effect.qualifiedName)), ("arguments", arguments(effect.arguments)),
            ]
            members.append(("binding", effect.binding.map { binding in
                .object([("name", .string(binding.name.name)), ("format", binding.format.map { .string($0.name) } ?? .null)])
            } ?? .null))
            return node("effect", effect.range, members)
        case .onFail(let policy, let range):
            switch policy {
            case .fail:
                return node("on_fail", range, [("policy", .string("fail"))])
            case .retry(let step, let max):
                return node("on_fail", range, [("policy", .string("retry")), ("step", .string(step.name)), ("max", expr(max))])
            }
        }
    }

    private func ifStatement(_ statement: IfStatement) -> JSONValue {
        let otherwise: JSONValue = switch statement.otherwise {
        case nil: .null
        case .elseIf(let nested): ifStatement(nested)
        case .block(let body): block(body)
        }
        return node("if", statement.range, [
            ("condition", expr(statement.condition)), ("then", block(statement.then)), ("else", otherwise),
        ])
    }

    private func arguments(_ arguments: [Argument]) -> JSONValue {
        .array(arguments.map { argument in
            .object([("label", argument.label.map { .string($0.name) } ?? .null), ("value", expr(argument.value))])
        })
    }

    /// The JSON of one expression.
    public func expr(_ expr: Expr) -> JSONValue {
        switch expr.kind {
        case .integer(let spelling): node("int", expr.range, [("value", .number(spelling))])
        case .float(let spelling): node("float", expr.range, [("value", .number(spelling))])
        case .duration(let spelling): node("duration", expr.range, [("value", .string(spelling))])
        case .string(let value): node("string", expr.range, [("value", .string(value))])
        case .bool(let value): node("bool", expr.range, [("value", .bool(value))])
        case .null: node("null", expr.range, [])
        case .name(let name): node("name", expr.range, [("name", .string(name))])
        case .list(let items): node("list", expr.range, [("items", .array(items.map(self.expr)))])
        case .map(let entries):
            node("map", expr.range, [("entries", .array(entries.map { entry in
                .object([("key", .string(entry.key.value)), ("value", self.expr(entry.value))])
            }))])
        case .field(let base, let field):
            node("field", expr.range, [("base", self.expr(base)), ("field", .string(field.name))])
        case .index(let base, let index):
            node("index", expr.range, [("base", self.expr(base)), ("index", self.expr(index))])
        case .call(let function, let arguments):
            node("call", expr.range, [("function", .string(function.name)), ("arguments", self.arguments(arguments))])
        case .unary(let op, let operand):
            node("unary", expr.range, [("operator", .string(op.rawValue)), ("operand", self.expr(operand))])
        case .binary(let op, let lhs, let rhs):
            node("binary", expr.range, [("operator", .string(op.rawValue)), ("lhs", self.expr(lhs)), ("rhs", self.expr(rhs))])
        case .missing: node("missing", expr.range, [])
        }
    }

    private func node(_ kind: String, _ range: SourceRange, _ members: [(String, JSONValue)]) -> JSONValue {
        var all: [(String, JSONValue)] = [("kind", .string(kind))]
        if includeLocations { all.append(("at", .string(file.location(of: range.start).description))) }
        return .object(all + members)
    }
}
