import SPAKDiagnostics
import SPAKSyntax

/// Effect calls: their arguments, their commands and what they bind (their templates are in
/// `Checker+Templates.swift`).
extension Checker {
    mutating func checkEffect(_ effect: EffectCall) {
        let qualified = effect.qualifiedName
        guard let signature = Effects.byName[qualified] else {
            let candidates = Effects.byName.keys.filter { $0.hasPrefix(effect.namespace.name + ".") }
                .map { String($0.dropFirst(effect.namespace.name.count + 1)) }
            report(.unknownEffect(qualified), at: effect.name.range, fixIts: suggestion(for: effect.name, among: candidates))
            for argument in effect.arguments { _ = infer(argument.value, lookup: .boundSoFar) }
            if let binding = effect.binding { bind(binding.name, .any, origin: .binding) }
            return
        }
        checkArguments(effect, signature)
        if let binding = effect.binding { checkBinding(binding, of: effect, signature) }
    }

    private mutating func checkArguments(_ effect: EffectCall, _ signature: EffectSignature) {
        let positional = effect.arguments.filter { $0.label == nil }
        if let firstNamed = effect.arguments.firstIndex(where: { $0.label != nil }),
           let misplaced = effect.arguments[firstNamed...].first(where: { $0.label == nil }) {
            report(.positionalAfterNamed, at: misplaced.range)
        }
        if positional.count < signature.requiredPositional || positional.count > signature.positional.count {
            let names = signature.positional.map { "`\($0.name)`" }.joined(separator: ", ")
            let expected = signature.positional.isEmpty ? "no positional arguments"
                : signature.requiredPositional == signature.positional.count
                ? "\(signature.positional.count) positional argument\(signature.positional.count == 1 ? "" : "s") (\(names))"
                : "at most \(signature.positional.count) positional argument (\(names))"
            report(.argumentCount(signature.name, expected: expected, found: positional.count), at: effect.name.range)
        }
        for (argument, parameter) in zip(positional, signature.positional) {
            checkArgument(argument.value, parameter, of: signature.name)
        }
        var seen: [String: SourceRange] = [:]
        for argument in effect.arguments {
            guard let label = argument.label else { continue }
            if let first = seen[label.name] {
                report(.duplicateArgument(label.name), at: label.range, notes: [DiagnosticNote("first given here", at: first)])
                continue
            }
            seen[label.name] = label.range
            guard let parameter = signature.namedParameter(label.name) else {
                let accepted = signature.named.isEmpty ? "no named arguments"
                    : signature.named.map { "`\($0.name):`" }.joined(separator: ", ")
                report(.unknownArgument(label.name, of: signature.name, accepted: accepted), at: label.range,
                       fixIts: suggestion(for: label, among: signature.named.map(\.name)))
                _ = infer(argument.value, lookup: .boundSoFar)
                continue
            }
            if signature.name == "llm.query", label.name == "template" {
                checkTemplateFile(argument.value)
            } else {
                checkArgument(argument.value, parameter, of: signature.name)
            }
        }
        if signature.name == "llm.query", positional.count + (seen["template"] == nil ? 0 : 1) != 1 {
            report(.missingPrompt, at: effect.namespace.range.union(effect.name.range))
        }
        if signature.name == "tool.run" { checkCommand(effect, positional.first?.value) }
    }

    private mutating func checkArgument(_ value: Expr, _ parameter: EffectSignature.Parameter, of effect: String) {
        if parameter.isTemplate, case .string(let text) = value.kind {
            checkInlineTemplate(text, at: value.range)
            return
        }
        let type = infer(value, lookup: .boundSoFar)
        guard !type.fits(parameter.type) else { return }
        var fixIts: [FixIt] = []
        if parameter.type == .duration, case .integer(let seconds) = value.kind {
            fixIts = [FixIt(replace: value.range, with: "\(seconds)s")]
        }
        let what = parameter.isTemplate ? "argument `\(parameter.name)` of `\(effect)`" : "`\(parameter.name):` of `\(effect)`"
        report(.typeMismatch(what, expected: parameter.type.description, found: type.description), at: value.range, fixIts: fixIts)
    }

    private mutating func checkBinding(_ binding: Binding, of effect: EffectCall, _ signature: EffectSignature) {
        guard let result = signature.result else {
            report(.invalidBinding("`\(signature.name)` produces no value to bind"), at: binding.name.range)
            return
        }
        var type = result
        if let format = binding.format {
            if format.name == "json" {
                type = .any
            } else {
                report(.invalidBinding("unknown format `\(format.name)`; the only format is `json`"), at: format.range,
                       fixIts: [FixIt(replace: format.range, with: "json")])
            }
        }
        bind(binding.name, type, origin: .binding)
    }

    // MARK: - Commands and allow lines

    private mutating func checkCommand(_ effect: EffectCall, _ command: Expr?) {
        guard let command, case .string(let text) = command.kind else {
            hasDynamicCommand = true
            return
        }
        var shell = false
        if let argument = effect.arguments.first(where: { $0.label?.name == "shell" }) {
            guard case .bool(let value) = argument.value.kind else {
                hasDynamicCommand = true
                return
            }
            shell = value
        }
        let words: [String]
        do {
            words = shell ? ["sh", "-c", text] : try CommandWords.split(text)
        } catch {
            let reason = switch error {
            case .unterminatedQuote(let quote): "the command has an unterminated \(quote) quote"
            case .unterminatedTag: "the command has a `{{` without its `}}`"
            }
            report(.invalidCommand(reason), at: command.range)
            hasDynamicCommand = true
            return
        }
        guard let program = words.first else {
            report(.invalidCommand("the command is empty"), at: command.range)
            return
        }
        if !shell, TemplateScan(text).problems.isEmpty {
            // The kernel renders each word of a command on its own (a value stays one argument).
            for word in words where word.containsTemplateTag {
                guard let problem = TemplateScan(word).problems.first else { continue }
                report(.templateSyntax("each word of a tool.run command is rendered on its own, and `\(word)` is not a template "
                                       + "by itself (\(problem.message)); keep a section within one word, or use `shell: true`"),
                       at: command.range)
            }
        }
        if program.containsTemplateTag {
            hasDynamicCommand = true
            return
        }
        var admitted = false
        for index in allowLines.indices where CommandWords.admits(allow: allowLines[index].words, command: words) != false {
            allowLines[index].used = true
            admitted = true
        }
        guard !admitted else { return }
        let notes = allowLines.isEmpty
            ? [DiagnosticNote("the task has no allow lines; add `allow tool.run \"\(program)\"` to its `system_model`")]
            : allowLines.prefix(5).map { DiagnosticNote("this allow line does not admit it", at: $0.prefix.range) }
                + (allowLines.count > 5 ? [DiagnosticNote("and \(allowLines.count - 5) more allow lines")] : [])
        report(.commandNotAllowed(shell ? "sh -c" : words.prefix(3).joined(separator: " ")), at: command.range, notes: notes)
    }
}
