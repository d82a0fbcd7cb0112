import Foundation
import SPAKDiagnostics
import SPAKSyntax

/// Effect calls: their arguments, their templates, their commands and what they bind.
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

    // MARK: - Templates

    /// An inline template: its syntax and every variable it reads.
    private mutating func checkInlineTemplate(_ text: String, at range: SourceRange) {
        guard text.containsTemplateTag else { return }
        let scan = TemplateScan(text)
        if let error = scan.syntaxError {
            report(.templateSyntax(error.message), at: range)
            return
        }
        var searchFrom = range.start
        for reference in scan.references {
            let place = locate(reference.name, in: range, from: &searchFrom)
            checkTemplateReference(reference) { checker, message, notes, fixIt in
                checker.report(message, at: place, notes: notes,
                               fixIts: fixIt.map { [FixIt(replace: place, with: $0)] } ?? [])
            }
        }
        for unsupported in scan.unsupported { report(.templateSyntax(unsupported.message), at: range) }
        if let reason = scan.uncheckable { report(.templateNotChecked(reason), at: range) }
    }

    /// A template file named by `template:`, read relative to the program's folder.
    private mutating func checkTemplateFile(_ value: Expr) {
        guard case .string(let path) = value.kind else {
            _ = infer(value, lookup: .boundSoFar)
            report(.typeMismatch("`template:`", expected: "a string literal naming a file", found: "an expression"), at: value.range)
            return
        }
        let fullPath = path.hasPrefix("/") ? path : templateDirectory + "/" + path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: fullPath, isDirectory: &isDirectory) else {
            report(.templateFileMissing(path), at: value.range)
            return
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: fullPath) else {
            report(.templateSyntax("`\(path)` is \(isDirectory.boolValue ? "a directory" : "unreadable"), not a template file"),
                   at: value.range)
            return
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            report(.templateSyntax("`\(path)` is not valid UTF-8 text"), at: value.range)
            return
        }
        let templateFile = SourceFile(path: Self.displayPath(path, relativeTo: file.path), text: text)
        let usedHere = DiagnosticNote("template used here", at: value.range, in: SourceFile.Reference(file))
        let scan = TemplateScan(text)
        if let error = scan.syntaxError {
            append(Diagnostic(.templateSyntax(error.message), in: templateFile, at: .at(error.offset), notes: [usedHere]))
            return
        }
        for reference in scan.references {
            let place = SourceRange(start: reference.offset, end: reference.offset + reference.name.utf8.count)
            checkTemplateReference(reference) { checker, message, notes, fixIt in
                checker.append(Diagnostic(
                    message, in: templateFile, at: place,
                    notes: notes.map { DiagnosticNote($0.message, at: $0.range, in: SourceFile.Reference(checker.file)) } + [usedHere],
                    fixIts: fixIt.map { [FixIt(replace: place, with: $0)] } ?? []))
            }
        }
        for unsupported in scan.unsupported {
            append(Diagnostic(.templateSyntax(unsupported.message), in: templateFile, at: .at(unsupported.offset), notes: [usedHere]))
        }
        if let reason = scan.uncheckable {
            append(Diagnostic(.templateNotChecked(reason), in: templateFile, at: .at(0), notes: [usedHere]))
        }
    }

    /// Holds a template variable to the names bound at this point. A section (`{{#x}}`) may
    /// name a variable bound later (it is skipped until then). A name inside a section may be
    /// a field of the section's value, so it is held strictly only when every enclosing
    /// section's value is known to be a plain value (a string, number or bool has no fields).
    private mutating func checkTemplateReference(
        _ reference: TemplateScan.Reference,
        report: (inout Checker, DiagnosticMessage, [DiagnosticNote], String?) -> Void
    ) {
        if let transform = reference.unknownTransform {
            let known = TemplateScan.transforms.sorted().joined(separator: ", ")
            report(&self, .templateSyntax("unknown transform `\(transform)`; swift-mustache knows \(known)"), [],
                   Suggestions.closest(to: transform, among: TemplateScan.transforms).map { "\($0)(\(reference.name))" })
        }
        let root = reference.root
        if let variable = scope[root] {
            if reference.name != root, Self.isPlain(variable.type) {
                report(&self, .templateUnknownVariable(reference.name), [DiagnosticNote("`\(root)` is \(variable.type), which has no fields")], nil)
            }
            return
        }
        let insideOpaqueSection = reference.enclosingSections.contains { section in
            guard let type = scope[section]?.type else { return true }
            return !Self.isPlain(type)
        }
        if reference.depth > 0, insideOpaqueSection { return }
        if reference.isSection, bindingSites[root] != nil { return }
        var notes: [DiagnosticNote] = []
        if let later = bindingSites[root] {
            notes.append(DiagnosticNote("`\(root)` is first bound here, later; read it inside `{{#\(root)}}...{{/\(root)}}` to skip it until then", at: later))
        }
        let suggestion = Suggestions.closest(to: root, among: scope.keys).map { $0 + reference.name.dropFirst(root.count) }
        report(&self, .templateUnknownVariable(reference.name), notes, notes.isEmpty ? suggestion : nil)
    }

    /// A type whose values have no fields to look up.
    private static func isPlain(_ type: ValueType) -> Bool {
        switch type {
        case .bool, .int, .float, .string, .duration, .null: true
        default: false
        }
    }

    /// Finds where a template name is written inside a string literal's source: inside the
    /// next `{{…}}` tag that holds it, searching forward from `start`; falls back to the whole
    /// literal (escapes can hide the exact spot).
    private func locate(_ name: String, in range: SourceRange, from start: inout Int) -> SourceRange {
        let needle = Array(name.utf8)
        let bytes = file.bytes
        var tagSearch = max(start, range.start)
        while let open = bytes.firstRange(of: [0x7B, 0x7B], in: tagSearch..<range.end),
              let close = bytes.firstRange(of: [0x7D, 0x7D], in: open.upperBound..<range.end) {
            if let found = bytes.firstRange(of: needle, in: open.upperBound..<close.lowerBound) {
                start = close.upperBound
                return SourceRange(start: found.lowerBound, end: found.upperBound)
            }
            tagSearch = close.upperBound
        }
        return range
    }

    /// A template path as shown in diagnostics: beside the program's path as the user gave it.
    static func displayPath(_ path: String, relativeTo programPath: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        let directory = (programPath as NSString).deletingLastPathComponent
        return directory.isEmpty ? path : directory + "/" + path
    }
}
