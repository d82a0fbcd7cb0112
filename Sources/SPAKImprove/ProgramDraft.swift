import SPAKDiagnostics
import SPAKSyntax

/// A program being rewritten: its tree, the source it was parsed from (whose comments the
/// printer puts back), and the text of every prompt template file it names.
public struct ProgramDraft: Sendable {
    /// The tree the rewrites edit.
    public var program: Program
    /// The source the tree came from (a rewrite that moves lines parses its result again).
    public internal(set) var source: SourceFile
    /// Template files by the path the program writes in `template:`, relative to the program.
    public var templates: [String: String]

    /// Creates a draft.
    public init(program: Program, source: SourceFile, templates: [String: String]) {
        self.program = program
        self.source = source
        self.templates = templates
    }

    /// The program's text, printed in canonical layout with its comments.
    public func printed() -> String {
        ProgramPrinter(program: program, source: source).print(program)
    }

    /// The body of the step named `name`, wherever it is nested.
    public func step(named name: String) -> Block? {
        var found: Block?
        program.task?.visitSteps { stepName, body in if stepName == name, found == nil { found = body } }
        return found
    }

    /// Edits the body of every step named `name` (a task has one).
    public mutating func editStep(named name: String, _ edit: (inout Block) -> Void) {
        guard var task = program.task else { return }
        for index in task.items.indices {
            guard case .statement(var statement) = task.items[index] else { continue }
            statement.editSteps(named: name, edit)
            task.items[index] = .statement(statement)
        }
        program.task = task
    }

    /// Edits every `system_model` block.
    public mutating func editSystemModels(_ edit: (inout SystemModel) -> Void) {
        guard var task = program.task else { return }
        for index in task.items.indices {
            guard case .systemModel(var model) = task.items[index] else { continue }
            edit(&model)
            task.items[index] = .systemModel(model)
        }
        program.task = task
    }
}

extension TaskDecl {
    /// Calls `visit` with every step's name and body, in source order, nested ones included.
    func visitSteps(_ visit: (String, Block) -> Void) {
        for statement in body { statement.visitSteps(visit) }
    }
}

extension Statement {
    func visitSteps(_ visit: (String, Block) -> Void) {
        switch self {
        case .step(let name, let body, _):
            visit(name.name, body)
            for statement in body.statements { statement.visitSteps(visit) }
        case .if(let statement): statement.visitSteps(visit)
        case .repeat(let loop): for statement in loop.body.statements { statement.visitSteps(visit) }
        case .let, .effect, .onFail: break
        }
    }

    mutating func editSteps(named target: String, _ edit: (inout Block) -> Void) {
        switch self {
        case .step(let name, var body, let range):
            if name.name == target { edit(&body) }
            body.editSteps(named: target, edit)
            self = .step(name: name, body: body, range: range)
        case .if(var statement):
            statement.editSteps(named: target, edit)
            self = .if(statement)
        case .repeat(var loop):
            loop.body.editSteps(named: target, edit)
            self = .repeat(loop)
        case .let, .effect, .onFail: break
        }
    }
}

extension Block {
    mutating func editSteps(named target: String, _ edit: (inout Block) -> Void) {
        for index in statements.indices { statements[index].editSteps(named: target, edit) }
    }

    /// The step's `on_fail` policy, if it has one.
    var onFailPolicy: OnFailPolicy? {
        for statement in statements { if case .onFail(let policy, _) = statement { return policy } }
        return nil
    }
}

extension Block {
    /// Edits every effect call in the block, nested ones included, in the order
    /// `Bindings.effectCalls` lists them.
    mutating func editEffectCalls(_ edit: (inout EffectCall) -> Void) {
        for index in statements.indices {
            switch statements[index] {
            case .effect(var call):
                edit(&call)
                statements[index] = .effect(call)
            case .if(var conditional):
                conditional.editEffectCalls(edit)
                statements[index] = .if(conditional)
            case .step(let name, var body, let range):
                body.editEffectCalls(edit)
                statements[index] = .step(name: name, body: body, range: range)
            case .repeat(var loop):
                loop.body.editEffectCalls(edit)
                statements[index] = .repeat(loop)
            case .let, .onFail: break
            }
        }
    }
}

extension IfStatement {
    mutating func editEffectCalls(_ edit: (inout EffectCall) -> Void) {
        then.editEffectCalls(edit)
        switch otherwise {
        case .block(var block):
            block.editEffectCalls(edit)
            otherwise = .block(block)
        case .elseIf(var nested):
            nested.editEffectCalls(edit)
            otherwise = .elseIf(nested)
        case nil: break
        }
    }

    func visitSteps(_ visit: (String, Block) -> Void) {
        for statement in then.statements { statement.visitSteps(visit) }
        switch otherwise {
        case .block(let block): for statement in block.statements { statement.visitSteps(visit) }
        case .elseIf(let nested): nested.visitSteps(visit)
        case nil: break
        }
    }

    mutating func editSteps(named target: String, _ edit: (inout Block) -> Void) {
        then.editSteps(named: target, edit)
        switch otherwise {
        case .block(var block):
            block.editSteps(named: target, edit)
            otherwise = .block(block)
        case .elseIf(var nested):
            nested.editSteps(named: target, edit)
            otherwise = .elseIf(nested)
        case nil: break
        }
    }
}
