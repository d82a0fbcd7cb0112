import SPAKDiagnostics

/// A parsed `.spak` file: one task, and the comments the formatter puts back.
public struct Program: Sendable {
    /// The task, or `nil` when the file held none (an error has been reported).
    public var task: TaskDecl?
    /// Every `//` comment, in source order.
    public var comments: [Comment]

    /// Creates a program.
    public init(task: TaskDecl?, comments: [Comment] = []) {
        self.task = task
        self.comments = comments
    }
}

/// A name written in the program, with where it was written.
public struct Identifier: Sendable, Hashable {
    /// The name.
    public var name: String
    /// Where it was written.
    public var range: SourceRange

    /// Creates an identifier.
    public init(_ name: String, range: SourceRange) {
        self.name = name
        self.range = range
    }
}

/// A `{ … }` of statements, remembering its braces for diagnostics and the formatter.
public struct Block: Sendable {
    /// The statements in order.
    public var statements: [Statement]
    /// Offset of `{`.
    public var open: Int
    /// Offset of `}` (the end of the file when it was missing).
    public var close: Int

    /// Creates a block.
    public init(statements: [Statement], open: Int, close: Int) {
        self.statements = statements
        self.open = open
        self.close = close
    }
}

/// `task NAME(PARAMS) { ITEMS }`.
public struct TaskDecl: Sendable {
    public var name: Identifier
    public var parameters: [Parameter]
    /// `system_model`, `evaluation` and flow statements, in source order.
    public var items: [TaskItem]
    public var open: Int
    public var close: Int
    public var range: SourceRange

    /// Creates a task.
    public init(name: Identifier, parameters: [Parameter], items: [TaskItem], open: Int, close: Int, range: SourceRange) {
        self.name = name
        self.parameters = parameters
        self.items = items
        self.open = open
        self.close = close
        self.range = range
    }

    /// Every `system_model` block, in order (more than one is a checker error).
    public var systemModels: [SystemModel] {
        items.compactMap { if case .systemModel(let model) = $0 { model } else { nil } }
    }

    /// Every `evaluation` block, in order (more than one is a checker error).
    public var evaluations: [Evaluation] {
        items.compactMap { if case .evaluation(let evaluation) = $0 { evaluation } else { nil } }
    }

    /// The flow statements (steps, lets, ifs and repeats) in order.
    public var body: [Statement] {
        items.compactMap { if case .statement(let statement) = $0 { statement } else { nil } }
    }
}

/// `NAME: TYPE = DEFAULT`.
public struct Parameter: Sendable {
    public var name: Identifier
    public var type: Identifier
    public var defaultValue: Expr?
    public var range: SourceRange

    /// Creates a parameter.
    public init(name: Identifier, type: Identifier, defaultValue: Expr?, range: SourceRange) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.range = range
    }
}

/// What a task's body holds.
public enum TaskItem: Sendable {
    case systemModel(SystemModel)
    case evaluation(Evaluation)
    case statement(Statement)

    /// Where the item is.
    public var range: SourceRange {
        switch self {
        case .systemModel(let model): model.range
        case .evaluation(let evaluation): evaluation.range
        case .statement(let statement): statement.range
        }
    }
}

/// `system_model { invariant … allow … budget … secret … }`.
public struct SystemModel: Sendable {
    public var items: [ModelItem]
    public var open: Int
    public var close: Int
    public var range: SourceRange

    /// Creates a system model block.
    public init(items: [ModelItem], open: Int, close: Int, range: SourceRange) {
        self.items = items
        self.open = open
        self.close = close
        self.range = range
    }
}

/// One line of a `system_model`.
public enum ModelItem: Sendable {
    /// `invariant NAME: CONDITION`
    case invariant(name: Identifier, condition: Expr, range: SourceRange)
    /// `allow tool.EFFECT "PREFIX"`
    case allow(effect: Identifier, prefix: StringLiteral, range: SourceRange)
    /// `budget TARGET <= LIMIT`, where TARGET is `llm.calls`, `wall_time` and the like.
    case budget(target: BudgetTarget, limit: Expr, range: SourceRange)
    /// `secret NAME`: the environment variable NAME holds a secret.
    case secret(name: Identifier, range: SourceRange)

    /// Where the item is.
    public var range: SourceRange {
        switch self {
        case .invariant(_, _, let range), .allow(_, _, let range), .budget(_, _, let range), .secret(_, let range): range
        }
    }
}

/// A string literal with its decoded value.
public struct StringLiteral: Sendable, Hashable {
    public var value: String
    public var range: SourceRange

    /// Creates a string literal.
    public init(value: String, range: SourceRange) {
        self.value = value
        self.range = range
    }
}

/// What a budget limits: `llm.calls`, `llm.tokens`, `tool.runs`, `wall_time`.
public struct BudgetTarget: Sendable, Hashable {
    /// `llm` or `tool`, or `nil` for a bare name such as `wall_time`.
    public var namespace: String?
    public var name: Identifier
    public var range: SourceRange

    /// Creates a budget target.
    public init(namespace: String?, name: Identifier, range: SourceRange) {
        self.namespace = namespace
        self.name = name
        self.range = range
    }

    /// The dotted spelling, e.g. `llm.calls`.
    public var spelling: String { namespace.map { "\($0).\(name.name)" } ?? name.name }
}

/// `evaluation { metric NAME = EXPR … objective maximize NAME }`.
public struct Evaluation: Sendable {
    public var metrics: [Metric]
    /// The `objective` lines, in source order (more than one is a checker error).
    public var objectives: [Objective]
    public var open: Int
    public var close: Int
    public var range: SourceRange

    /// Creates an evaluation block.
    public init(metrics: [Metric], objectives: [Objective] = [], open: Int, close: Int, range: SourceRange) {
        self.metrics = metrics
        self.objectives = objectives
        self.open = open
        self.close = close
        self.range = range
    }

    /// The block's objective: the first `objective` line, if any.
    public var objective: Objective? { objectives.first }
}

/// `metric NAME = EXPR`.
public struct Metric: Sendable {
    public var name: Identifier
    public var value: Expr
    public var range: SourceRange

    /// Creates a metric.
    public init(name: Identifier, value: Expr, range: SourceRange) {
        self.name = name
        self.value = value
        self.range = range
    }
}

/// `objective maximize NAME` or `objective minimize NAME` in `evaluation`: the metric an
/// outer loop (`spak improve`) ranks programs by, and which way is better.
public struct Objective: Sendable {
    /// Which way is better.
    public enum Direction: String, Sendable { case maximize, minimize }
    public var direction: Direction
    /// The metric it names (declared by a `metric` line of the same block).
    public var metric: Identifier
    public var range: SourceRange

    /// Creates an objective.
    public init(direction: Direction, metric: Identifier, range: SourceRange) {
        self.direction = direction
        self.metric = metric
        self.range = range
    }
}

/// A statement: between steps (step, let, if, repeat) or inside one (let, effect, if, on_fail).
public indirect enum Statement: Sendable {
    /// `step NAME { … }`
    case step(name: Identifier, body: Block, range: SourceRange)
    /// `let NAME = EXPR`
    case `let`(name: Identifier, value: Expr, range: SourceRange)
    /// `if COND { … } else …`
    case `if`(IfStatement)
    /// `repeat NAME in ITERATION until COND { … }`
    case `repeat`(RepeatLoop)
    /// `tool.run(…) -> NAME as json`
    case effect(EffectCall)
    /// `on_fail retry STEP max N` or `on_fail fail`
    case onFail(OnFailPolicy, range: SourceRange)

    /// Where the statement is.
    public var range: SourceRange {
        switch self {
        case .step(_, _, let range), .let(_, _, let range), .onFail(_, let range): range
        case .if(let statement): statement.range
        case .repeat(let loop): loop.range
        case .effect(let effect): effect.range
        }
    }
}

/// `if COND { … } else if … else { … }`.
public struct IfStatement: Sendable {
    public var condition: Expr
    public var then: Block
    public var otherwise: ElseBranch?
    public var range: SourceRange

    /// Creates an if statement.
    public init(condition: Expr, then: Block, otherwise: ElseBranch?, range: SourceRange) {
        self.condition = condition
        self.then = then
        self.otherwise = otherwise
        self.range = range
    }
}

/// What follows `else`.
public indirect enum ElseBranch: Sendable {
    case elseIf(IfStatement)
    case block(Block)
}

/// `repeat NAME in ITERATION [until COND] { … }`: always bounded by its iteration.
public struct RepeatLoop: Sendable {
    public var variable: Identifier
    public var iteration: Iteration
    public var until: Expr?
    public var body: Block
    public var range: SourceRange

    /// Creates a loop.
    public init(variable: Identifier, iteration: Iteration, until: Expr?, body: Block, range: SourceRange) {
        self.variable = variable
        self.iteration = iteration
        self.until = until
        self.body = body
        self.range = range
    }
}

/// What a loop runs over: an inclusive integer range or the items of a list.
public enum Iteration: Sendable {
    /// `FROM...TO`, both ends included.
    case range(from: Expr, to: Expr)
    /// The items of a list, in order.
    case each(Expr)
}

/// `tool.read(…)`, `tool.write(…)`, `tool.run(…)` or `llm.query(…)`, with its binding.
public struct EffectCall: Sendable {
    /// `tool` or `llm`.
    public var namespace: Identifier
    /// `read`, `write`, `run` or `query` (any name parses; the checker rejects others).
    public var name: Identifier
    public var arguments: [Argument]
    public var binding: Binding?
    public var range: SourceRange

    /// Creates an effect call.
    public init(namespace: Identifier, name: Identifier, arguments: [Argument], binding: Binding?, range: SourceRange) {
        self.namespace = namespace
        self.name = name
        self.arguments = arguments
        self.binding = binding
        self.range = range
    }

    /// `tool.run` and the like.
    public var qualifiedName: String { "\(namespace.name).\(name.name)" }
}

/// `-> NAME [as FORMAT]`.
public struct Binding: Sendable {
    public var name: Identifier
    /// `json` (any name parses; the checker rejects others).
    public var format: Identifier?

    /// Creates a binding.
    public init(name: Identifier, format: Identifier?) {
        self.name = name
        self.format = format
    }
}

/// A step's failure policy.
public enum OnFailPolicy: Sendable {
    /// Go back to `step` (with the violation in `feedback`), at most `max` times.
    case retry(step: Identifier, max: Expr)
    /// End the run as failed.
    case fail
}

/// `VALUE` or `LABEL: VALUE` in a call.
public struct Argument: Sendable {
    public var label: Identifier?
    public var value: Expr

    /// Creates an argument.
    public init(label: Identifier?, value: Expr) {
        self.label = label
        self.value = value
    }

    /// Where the argument is, label included.
    public var range: SourceRange { label.map { $0.range.union(value.range) } ?? value.range }
}

/// An expression and where it is.
public struct Expr: Sendable {
    public var kind: ExprKind
    public var range: SourceRange

    /// Creates an expression.
    public init(_ kind: ExprKind, range: SourceRange) {
        self.kind = kind
        self.range = range
    }
}

/// The forms of expression. Number literals keep their spelling; the checker reads values.
public indirect enum ExprKind: Sendable {
    case integer(String)
    case float(String)
    /// `30s`, `1.5m`, `200ms`, `2h`
    case duration(String)
    case string(String)
    case bool(Bool)
    case null
    case name(String)
    case list([Expr])
    case map([MapEntry])
    case field(Expr, Identifier)
    case index(Expr, Expr)
    case call(Identifier, [Argument])
    case unary(UnaryOperator, Expr)
    case binary(BinaryOperator, Expr, Expr)
    /// Stands where the parser found no expression; an error was reported.
    case missing
}

/// `KEY: VALUE` in a map literal; the key is written as a name or a string.
public struct MapEntry: Sendable {
    public var key: StringLiteral
    public var value: Expr

    /// Creates an entry.
    public init(key: StringLiteral, value: Expr) {
        self.key = key
        self.value = value
    }
}

/// Prefix operators.
public enum UnaryOperator: String, Sendable {
    case negate = "-"
    case not
}

/// Infix operators, loosest first in `precedence`.
public enum BinaryOperator: String, Sendable, CaseIterable {
    case or, and
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case add = "+", subtract = "-"
    case multiply = "*", divide = "/", remainder = "%"

    /// Binding strength: `or` 1, `and` 2, comparisons 4, `+ -` 5, `* / %` 6 (`not` is 3).
    public var precedence: Int {
        switch self {
        case .or: 1
        case .and: 2
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: 4
        case .add, .subtract: 5
        case .multiply, .divide, .remainder: 6
        }
    }

    /// Comparisons do not chain: `a < b < c` is an error.
    public var isComparison: Bool { precedence == 4 }
}
