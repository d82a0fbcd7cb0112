import SPAKDiagnostics
import SPAKSyntax

/// Static checks over a parsed program: names, steps, calls, effects, types where they are
/// known, templates (inline and in files) and allow lines. It reports everything it finds in
/// one pass; run it only on a program that parsed without errors.
public enum ProgramChecker {
    /// Checks a program. Template files named by `template:` are read relative to
    /// `templateDirectory` (the program's own folder). Past `SPAKParser.storedDiagnosticsLimit`
    /// diagnostics are counted (errors) rather than kept.
    public static func check(_ parsed: ParseResult, templateDirectory: String) -> (diagnostics: [Diagnostic], droppedErrors: Int) {
        guard let task = parsed.program.task else { return ([], 0) }
        var checker = Checker(file: parsed.file, task: task, templateDirectory: templateDirectory)
        checker.run()
        return (checker.diagnostics, checker.droppedErrors)
    }
}

/// A name the program can read, and where it got its value.
struct Variable {
    enum Origin { case parameter, binding, loop, builtin }
    var type: ValueType
    var site: SourceRange?
    var origin: Origin
}

/// The checker's state while it walks one task.
struct Checker {
    let file: SourceFile
    let task: TaskDecl
    let templateDirectory: String
    var diagnostics: [Diagnostic] = []
    /// Errors found past the storage limit.
    var droppedErrors = 0
    /// "Did you mean" searches left; each costs a pass over the candidates, so a file full of
    /// misspellings stays linear.
    var suggestionsLeft = 200

    /// Names bound so far, in source order (the flow walk's view).
    var scope: [String: Variable] = [:]
    /// Where each name is first bound anywhere in the task.
    var bindingSites: [String: SourceRange] = [:]
    /// Each step's name and where it is first defined.
    var stepSites: [String: SourceRange] = [:]
    /// The steps each enclosing block has reached so far, innermost last (for `retry`).
    var stepScopes: [[String]] = []
    /// The variables each invariant names (their roots).
    var invariantRoots: Set<String> = []
    /// `allow tool.run` lines split into words, and whether any command matched each.
    var allowLines: [AllowLine] = []
    /// Whether some `tool.run` command is not a literal (so unused-allow warnings are off).
    var hasDynamicCommand = false

    struct AllowLine {
        let words: [String]
        let prefix: StringLiteral
        var used = false
    }

    init(file: SourceFile, task: TaskDecl, templateDirectory: String) {
        self.file = file
        self.task = task
        self.templateDirectory = templateDirectory
    }

    mutating func run() {
        for (name, type) in Builtins.variables { scope[name] = Variable(type: type, site: nil, origin: .builtin) }
        checkParameters()
        collectSites(task.body)
        checkSystemModels()
        stepScopes = [[]]
        checkStatements(task.body)
        checkInvariants()
        checkInvariantTiming()
        checkEvaluations()
        reportUnusedAllowLines()
    }

    // MARK: - Parameters

    private mutating func checkParameters() {
        var seen: [String: SourceRange] = [:]
        for parameter in task.parameters {
            if let first = seen[parameter.name.name] {
                duplicate("parameter", parameter.name, first: first)
                continue
            }
            seen[parameter.name.name] = parameter.name.range
            var type = ValueType.any
            if let declared = ValueType.declarable[parameter.type.name] {
                type = declared
            } else {
                report(.unknownType(parameter.type.name), at: parameter.type.range,
                       fixIts: suggestion(for: parameter.type, among: ValueType.declarable.keys))
            }
            if let value = parameter.defaultValue {
                let found = infer(value, lookup: .constantsOnly)
                if !found.fits(type) {
                    report(.typeMismatch("the default of `\(parameter.name.name)`", expected: type.description, found: found.description),
                           at: value.range)
                }
            }
            scope[parameter.name.name] = Variable(type: type, site: parameter.name.range, origin: .parameter)
        }
    }

    // MARK: - Pre-pass: where every name and step is defined

    private mutating func collectSites(_ statements: [Statement]) {
        for statement in statements {
            switch statement {
            case .step(let name, let body, _):
                if let first = stepSites[name.name] {
                    duplicate("step", name, first: first)
                } else {
                    stepSites[name.name] = name.range
                }
                collectSites(body.statements)
            case .let(let name, _, _):
                noteBinding(name)
            case .effect(let effect):
                if let binding = effect.binding { noteBinding(binding.name) }
            case .if(let statement):
                collectSites(statement)
            case .repeat(let loop):
                noteBinding(loop.variable)
                collectSites(loop.body.statements)
            case .onFail:
                break
            }
        }
    }

    private mutating func collectSites(_ statement: IfStatement) {
        collectSites(statement.then.statements)
        switch statement.otherwise {
        case .elseIf(let nested): collectSites(nested)
        case .block(let block): collectSites(block.statements)
        case nil: break
        }
    }

    private mutating func noteBinding(_ name: Identifier) {
        if bindingSites[name.name] == nil { bindingSites[name.name] = name.range }
    }

    // MARK: - Reporting helpers

    mutating func report(_ message: DiagnosticMessage, at range: SourceRange, notes: [DiagnosticNote] = [], fixIts: [FixIt] = []) {
        append(Diagnostic(message, in: file, at: range, notes: notes, fixIts: fixIts))
    }

    /// Keeps a diagnostic (of this file or a template file) unless the limit is reached.
    mutating func append(_ diagnostic: Diagnostic) {
        guard diagnostics.count < SPAKParser.storedDiagnosticsLimit else {
            if diagnostic.severity == .error { droppedErrors += 1 }
            return
        }
        diagnostics.append(diagnostic)
    }

    mutating func duplicate(_ kind: String, _ name: Identifier, first: SourceRange) {
        report(.duplicateDefinition(kind, name.name), at: name.range,
               notes: [DiagnosticNote("first defined here", at: first)])
    }

    /// A fix-it replacing a misspelt name with the closest candidate, if one is close.
    mutating func suggestion(for name: Identifier, among candidates: some Sequence<String>) -> [FixIt] {
        guard suggestionsLeft > 0 else { return [] }
        suggestionsLeft -= 1
        guard let best = Suggestions.closest(to: name.name, among: candidates) else { return [] }
        return [FixIt(replace: name.range, with: best)]
    }
}
