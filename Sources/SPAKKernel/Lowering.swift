import SPAKCheck
import SPAKDiagnostics
import SPAKSyntax

/// One instruction of a lowered program. The machine's position is an index into the list,
/// so a run's place is a plain integer that a snapshot can hold.
enum Instruction: Sendable {
    /// Begin a step.
    case startStep(name: String)
    /// End a step: check the invariants that name what it bound, then apply its policy.
    case endStep(name: String, policy: OnFailPolicy?)
    /// `let NAME = EXPR`; `site` is the whole statement (where an invariant broken by a
    /// binding between steps is reported).
    case assign(name: String, value: Expr, site: SourceRange)
    /// An effect call (the only door to the world).
    case effect(EffectCall)
    /// If the condition is false, go to `elseTarget`.
    case branch(condition: Expr, elseTarget: Int)
    /// Go to `target`.
    case jump(target: Int)
    /// Evaluate a loop's iteration and start it.
    case loopStart(id: Int, iteration: Iteration)
    /// Bind the loop variable to the next item, or leave the loop when there is none.
    case loopNext(id: Int, variable: Identifier, exit: Int)
    /// After a pass: leave when `until` holds, else go back to `loopNext`.
    case loopEnd(id: Int, until: Expr?, next: Int, exit: Int)
}

/// A checked program lowered for the machine: instructions plus what the kernel enforces.
public struct LoweredProgram: Sendable {
    let instructions: [Instruction]
    /// Where each step starts.
    let stepStarts: [String: Int]
    /// The step names, sorted (the order of the per-step counts in `snapshots.idx`).
    var stepNames: [String] { stepStarts.keys.sorted() }
    /// `invariant NAME: COND`, with the variables each names, in source order.
    let invariants: [Invariant]
    /// For each variable, the invariants (indexes into `invariants`) that read it.
    let invariantsReading: [String: [Int]]
    /// The invariants checked before the first step: those that read only parameters and
    /// builtins (or no variable at all), on the values the run was given. One over a parameter
    /// the program may bind again is checked again when it does.
    let initialInvariants: [Int]
    /// Each step's `on_fail` policy (`nil`: none).
    let policies: [String: OnFailPolicy]
    /// For each step a retry goes back to, the steps whose `on_fail retry` names it.
    let retriers: [String: [String]]
    /// Whether any step retries: without one, no value is ever stale and no pass is tracked.
    var retries: Bool { !retriers.isEmpty }
    /// Budgets by name (`llm.calls`, `wall_time`…), as numbers (`wall_time` in seconds).
    let budgets: [String: Double]
    /// The words of each `allow tool.run` line; a command must begin with one of them.
    let allowed: [[String]]
    /// The environment variables `secret NAME` lines declare.
    let secretNames: Set<String>
    /// The evaluation's metrics, in order.
    let metrics: [Metric]

    /// Lowers a task.
    public init(_ task: TaskDecl) {
        var builder = Builder()
        builder.lower(task.body)
        instructions = builder.instructions
        stepStarts = builder.stepStarts
        var invariants: [Invariant] = []
        var budgets: [String: Double] = [:]
        var allowed: [[String]] = []
        var secretNames: Set<String> = []
        for item in task.systemModels.flatMap(\.items) {
            switch item {
            case .invariant(let name, let condition, _):
                invariants.append(Invariant(name: name.name, condition: condition, names: Bindings.names(readBy: condition)))
            case .budget(let target, let limit, _):
                switch limit.kind {
                case .integer(let spelling), .float(let spelling): budgets[target.spelling] = Double(spelling)
                case .duration(let spelling): budgets[target.spelling] = Durations.seconds(spelling)
                default: break
                }
            case .allow(let effect, let prefix, _):
                if effect.name == "run", let words = try? CommandWords.split(prefix.value), !words.isEmpty { allowed.append(words) }
            case .secret(let name, _):
                secretNames.insert(name.name)
            }
        }
        self.invariants = invariants
        var reading: [String: [Int]] = [:]
        for (index, invariant) in invariants.enumerated() {
            for name in invariant.names { reading[name, default: []].append(index) }
        }
        invariantsReading = reading
        let given = Set(task.parameters.map(\.name.name)).union(Feedback.names)
        initialInvariants = invariants.indices.filter { invariants[$0].names.isSubset(of: given) }
        policies = builder.policies
        var retriers: [String: [String]] = [:]
        for (step, policy) in builder.policies {
            if case .retry(let target, _) = policy { retriers[target.name, default: []].append(step) }
        }
        self.retriers = retriers
        self.budgets = budgets
        self.allowed = allowed
        self.secretNames = secretNames
        metrics = task.evaluations.flatMap(\.metrics)
    }

    private struct Builder {
        var instructions: [Instruction] = []
        var stepStarts: [String: Int] = [:]
        var policies: [String: OnFailPolicy] = [:]
        var loops = 0

        mutating func emit(_ instruction: Instruction) -> Int {
            instructions.append(instruction)
            return instructions.count - 1
        }

        mutating func lower(_ statements: [Statement]) {
            for statement in statements { lower(statement) }
        }

        mutating func lower(_ statement: Statement) {
            switch statement {
            case .step(let name, let body, _):
                stepStarts[name.name] = stepStarts[name.name] ?? instructions.count
                _ = emit(.startStep(name: name.name))
                var policy: OnFailPolicy?
                for inner in body.statements {
                    if case .onFail(let found, _) = inner { policy = policy ?? found } else { lower(inner) }
                }
                if let policy { policies[name.name] = policies[name.name] ?? policy }
                _ = emit(.endStep(name: name.name, policy: policy))
            case .let(let name, let value, let site):
                _ = emit(.assign(name: name.name, value: value, site: site))
            case .effect(let call):
                _ = emit(.effect(call))
            case .if(let statement):
                lowerIf(statement)
            case .repeat(let loop):
                let id = loops
                loops += 1
                let start = emit(.jump(target: -1))
                let head = emit(.jump(target: -1))
                lower(loop.body.statements)
                let end = emit(.jump(target: -1))
                let exit = instructions.count
                instructions[start] = .loopStart(id: id, iteration: loop.iteration)
                instructions[head] = .loopNext(id: id, variable: loop.variable, exit: exit)
                instructions[end] = .loopEnd(id: id, until: loop.until, next: head, exit: exit)
            case .onFail:
                break
            }
        }

        mutating func lowerIf(_ statement: IfStatement) {
            let branch = emit(.jump(target: -1))
            lower(statement.then.statements)
            guard let otherwise = statement.otherwise else {
                instructions[branch] = .branch(condition: statement.condition, elseTarget: instructions.count)
                return
            }
            let skipElse = emit(.jump(target: -1))
            instructions[branch] = .branch(condition: statement.condition, elseTarget: instructions.count)
            switch otherwise {
            case .elseIf(let nested): lowerIf(nested)
            case .block(let block): lower(block.statements)
            }
            instructions[skipElse] = .jump(target: instructions.count)
        }
    }
}

/// `invariant NAME: CONDITION`, as the machine checks it.
struct Invariant: Sendable {
    let name: String
    let condition: Expr
    /// The variables the condition reads (the roots of dotted names).
    let names: Set<String>
}

/// The builtin variables the kernel binds when `on_fail retry` sends a run back: the
/// violation's text and what kind of failure it was.
enum Feedback {
    /// The violation's text (`""` when there is none).
    static let text = "feedback"
    /// `invariant`, `reply` (a reply that is not JSON or not of its schema's shape),
    /// `runtime_error`, or `""`.
    static let kind = "feedback_kind"
    /// Both names.
    static let names: Set<String> = [text, kind]

    /// What kind of failure sent a run back.
    enum Kind: String, Sendable {
        case invariant
        case reply
        case runtimeError = "runtime_error"
    }
}
