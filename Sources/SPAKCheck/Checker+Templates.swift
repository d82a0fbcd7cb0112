import Foundation
import SPAKDiagnostics
import SPAKSyntax

/// Templates, inline in an effect's arguments or in a file named by `template:`: each is held
/// to what the kernel can render (`TemplateScan`), and each name in it to what is bound.
extension Checker {
    /// Reports a diagnostic about bytes of a template's text (with notes, and a replacement
    /// for other bytes of it), wherever that template is written.
    typealias TemplateReport = (inout Checker, DiagnosticMessage, Range<Int>, [DiagnosticNote], (Range<Int>, String)?) -> Void

    /// An inline template: diagnostics point into the string literal.
    mutating func checkInlineTemplate(_ text: String, at range: SourceRange) {
        // Text without tags renders as it is, unless it ends with a `{` (see `TemplateScan`).
        guard text.containsTemplateTag || text.utf8.last == UInt8(ascii: "{") else { return }
        let map = LiteralSourceMap(file.bytes, literal: range, value: text)
        func place(_ bytes: Range<Int>) -> SourceRange { map.range(ofValueBytes: bytes.lowerBound, length: bytes.count) }
        checkTemplate(TemplateScan(text)) { checker, message, bytes, notes, replacement in
            checker.report(message, at: place(bytes), notes: notes,
                           fixIts: replacement.map { [FixIt(replace: place($0.0), with: $0.1)] } ?? [])
        }
    }

    /// A template file named by `template:`, read relative to the program's folder:
    /// diagnostics point into the file, with a note at the argument.
    mutating func checkTemplateFile(_ value: Expr) {
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
        func place(_ bytes: Range<Int>) -> SourceRange { SourceRange(start: bytes.lowerBound, end: bytes.upperBound) }
        checkTemplate(TemplateScan(text)) { checker, message, bytes, notes, replacement in
            checker.append(Diagnostic(
                message, in: templateFile, at: place(bytes),
                notes: notes.map { DiagnosticNote($0.message, at: $0.range, in: SourceFile.Reference(checker.file)) } + [usedHere],
                fixIts: replacement.map { [FixIt(replace: place($0.0), with: $0.1)] } ?? []))
        }
    }

    private mutating func checkTemplate(_ scan: TemplateScan, report: TemplateReport) {
        for problem in scan.problems {
            report(&self, .templateSyntax(problem.message), problem.offset..<problem.offset + problem.length, [], nil)
        }
        for reference in scan.references { checkTemplateReference(reference, report: report) }
        if let uncheckable = scan.uncheckable {
            report(&self, .templateNotChecked(uncheckable.message), uncheckable.offset..<uncheckable.offset + uncheckable.length, [], nil)
        }
    }

    /// Holds one tag to what renders: its transforms and its current item to the values it
    /// can see, and its variable to the names bound at this point. A section (`{{#x}}`) may
    /// name a variable bound later (it is skipped until then). A name inside a section may be
    /// a field of the section's value, so it is held strictly only when every enclosing
    /// section's value is known to be a plain value (a string, number or bool has no fields).
    private mutating func checkTemplateReference(_ reference: TemplateScan.Reference, report: TemplateReport) {
        let sections = TemplateSections(reference.enclosing, scope: scope)
        let nameBytes = reference.offset..<reference.offset + reference.name.utf8.count
        guard checkTransforms(reference, in: sections, report: report) else { return }
        let root = reference.root
        if root == "." {
            if !sections.hasCurrentItem {
                report(&self, .templateSyntax("`.` is the current item of a `{{#...}}` section, and there is none here"), nameBytes, [], nil)
            }
            return
        }
        guard !root.isEmpty else { return }
        let path = reference.name.hasPrefix(".") ? reference.name.dropFirst() : Substring(reference.name)
        if let variable = scope[root] {
            if path != root, Self.hasNoFields(variable.type) {
                report(&self, .templateUnknownVariable(reference.name), nameBytes,
                       [DiagnosticNote("`\(root)` is \(variable.type), which has no fields")], nil)
            }
            return
        }
        if sections.mayHoldFields { return }
        if reference.isSection, bindingSites[root] != nil { return }
        var notes: [DiagnosticNote] = []
        if let later = bindingSites[root] {
            notes.append(DiagnosticNote("`\(root)` is first bound here, later; read it inside `{{#\(root)}}...{{/\(root)}}` to skip it until then", at: later))
        }
        let suggestion = Suggestions.closest(to: root, among: scope.keys).map { $0 + path.dropFirst(root.count) }
        report(&self, .templateUnknownVariable(reference.name), nameBytes, notes,
               notes.isEmpty ? suggestion.map { (nameBytes, $0) } : nil)
    }

    /// Reports the first transform of a tag that renders nothing or does not exist, innermost
    /// first (the order they apply in); returns whether there was none.
    private mutating func checkTransforms(_ reference: TemplateScan.Reference, in sections: TemplateSections, report: TemplateReport) -> Bool {
        var transforms = Array(reference.transforms.reversed())
        var value: TemplateValue?
        if reference.name.isEmpty, let item = transforms.first {
            transforms.removeFirst()
            let itemBytes = item.offset..<item.offset + item.name.utf8.count
            guard let result = TemplateValue.itemTransforms[item.name] else {
                let reason = "`\(item.name)()` needs a value in its parentheses; only first(), last(), index(), even() and odd() stand alone"
                report(&self, .templateSyntax(reason), itemBytes, [], nil)
                return false
            }
            if let problem = sections.itemProblem {
                report(&self, .templateSyntax("`\(item.name)()` is about the item a list section is at, and \(problem)"), itemBytes, [], nil)
                return false
            }
            value = result
        } else if reference.name == reference.root, !sections.mayHoldFields, let type = scope[reference.root]?.type {
            value = TemplateValue(type)
        }
        for transform in transforms {
            let bytes = transform.offset..<transform.offset + transform.name.utf8.count
            switch TemplateValue.apply(transform.name, to: value) {
            case .value(let result):
                value = result
            case .unknown:
                report(&self, .templateSyntax("unknown transform `\(transform.name)`; the transforms are \(TemplateValue.transformsInWords)"),
                       bytes, [], Suggestions.closest(to: transform.name, among: TemplateValue.usefulTransforms).map { (bytes, $0) })
                return false
            case .nothing(let reason):
                report(&self, .templateSyntax("transform `\(transform.name)` renders nothing here: \(reason)"), bytes, [], nil)
                return false
            }
        }
        return true
    }

    /// A type whose values have no fields to look up in a template.
    private static func hasNoFields(_ type: ValueType) -> Bool {
        switch type {
        case .bool, .int, .float, .string, .duration, .null, .list: true
        case .any, .map, .record: false
        }
    }

    /// A template path as shown in diagnostics: beside the program's path as the user gave it.
    static func displayPath(_ path: String, relativeTo programPath: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        let directory = (programPath as NSString).deletingLastPathComponent
        return directory.isEmpty ? path : directory + "/" + path
    }
}
