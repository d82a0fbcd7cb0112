import Mustache
import SPAKCheck

/// Renders Mustache templates over the run's variables, as plain text (no HTML escaping):
/// a prompt or a command must reach the model or the program exactly as written. Each
/// template is parsed once per machine: a loop renders the same few templates again and again.
final class TemplateRenderer {
    private var parsed: [String: MustacheTemplate] = [:]

    func render(_ template: String, variables: [String: Value]) throws(RuntimeErrorText) -> String {
        do {
            let compiled = try parsed[template] ?? MustacheTemplate(string: TemplateScan.plainTextPragma + template)
            parsed[template] = compiled
            return compiled.render(Self.context(variables))
        } catch {
            throw RuntimeErrorText(message: "the template is not valid Mustache: \(error)")
        }
    }

    /// A failure without a place; the caller adds the effect's location.
    struct RuntimeErrorText: Error { let message: String }

    /// Values as swift-mustache reads them. A null or an empty string is left out, so `{{x}}`
    /// renders nothing and `{{#x}}` skips (swift-mustache would count "" as true); numbers
    /// render as in JSON; a list or map named in `{{x}}` renders as compact JSON with sorted
    /// keys (never Swift's hash-ordered description), and still works as a section.
    static func context(_ variables: [String: Value]) -> [String: Any] {
        var context: [String: Any] = [:]
        for (name, value) in variables {
            if let converted = convert(value) { context[name] = converted }
        }
        return context
    }

    private static func convert(_ value: Value) -> Any? {
        switch value {
        case .null, .string(""): nil
        case .bool(let flag): flag
        case .int(let number): number
        case .float(let number): JSON.formatFloat(number)
        case .string(let text): text
        case .list(let items): RenderedList(items: items.compactMap(convert), renderText: JSON.serialize(value))
        case .map(let entries): RenderedMap(entries: context(entries), renderText: JSON.serialize(value))
        }
    }
}

/// A list in a template: its items in sections, its JSON in `{{x}}`.
struct RenderedList: MustacheSequence, MustacheCustomRenderable {
    let items: [Any]
    let renderText: String
    var isNull: Bool { false }
    func makeIterator() -> IndexingIterator<[Any]> { items.makeIterator() }
}

/// A map in a template: its keys in sections, its JSON in `{{x}}`.
struct RenderedMap: MustacheParent, MustacheCustomRenderable {
    let entries: [String: Any]
    let renderText: String
    var isNull: Bool { false }
    func child(named name: String) -> Any? { entries[name] }
}
