/// Which variables statements bind and expressions read: shared by the checker (which
/// invariants a step's policy can trigger) and the kernel (which invariants to check after
/// a step).
public enum Bindings {
    /// Names bound by `let` and effect bindings anywhere in these statements, nested ones
    /// included.
    public static func names(boundBy statements: [Statement]) -> Set<String> {
        var names: Set<String> = []
        for statement in statements {
            switch statement {
            case .let(let name, _, _): names.insert(name.name)
            case .effect(let effect): if let binding = effect.binding { names.insert(binding.name.name) }
            case .if(let statement): names.formUnion(self.names(boundBy: statement))
            case .step(_, let body, _): names.formUnion(self.names(boundBy: body.statements))
            case .repeat(let loop): names.formUnion(self.names(boundBy: loop.body.statements))
            case .onFail: break
            }
        }
        return names
    }

    private static func names(boundBy statement: IfStatement) -> Set<String> {
        var names = self.names(boundBy: statement.then.statements)
        switch statement.otherwise {
        case .block(let block): names.formUnion(self.names(boundBy: block.statements))
        case .elseIf(let nested): names.formUnion(self.names(boundBy: nested))
        case nil: break
        }
        return names
    }

    /// Every effect call in these statements, nested ones included, in source order.
    public static func effectCalls(in statements: [Statement]) -> [EffectCall] {
        var calls: [EffectCall] = []
        for statement in statements {
            switch statement {
            case .effect(let call): calls.append(call)
            case .if(let statement): calls += effectCalls(in: statement)
            case .step(_, let body, _): calls += effectCalls(in: body.statements)
            case .repeat(let loop): calls += effectCalls(in: loop.body.statements)
            case .let, .onFail: break
            }
        }
        return calls
    }

    private static func effectCalls(in statement: IfStatement) -> [EffectCall] {
        var calls = effectCalls(in: statement.then.statements)
        switch statement.otherwise {
        case .block(let block): calls += effectCalls(in: block.statements)
        case .elseIf(let nested): calls += effectCalls(in: nested)
        case nil: break
        }
        return calls
    }

    /// The variable names an expression reads (not function names or field names).
    public static func names(readBy expr: Expr) -> Set<String> {
        switch expr.kind {
        case .name(let name): [name]
        case .list(let items): items.reduce(into: []) { $0.formUnion(names(readBy: $1)) }
        case .map(let entries): entries.reduce(into: []) { $0.formUnion(names(readBy: $1.value)) }
        case .field(let base, _): names(readBy: base)
        case .index(let base, let index): names(readBy: base).union(names(readBy: index))
        case .call(_, let arguments): arguments.reduce(into: []) { $0.formUnion(names(readBy: $1.value)) }
        case .unary(_, let operand): names(readBy: operand)
        case .binary(_, let lhs, let rhs): names(readBy: lhs).union(names(readBy: rhs))
        case .integer, .float, .duration, .string, .bool, .null, .missing: []
        }
    }
}
