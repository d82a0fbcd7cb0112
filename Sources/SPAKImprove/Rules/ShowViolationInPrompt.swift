import SPAKCheck
import SPAKSyntax
import SPAKTrace

/// `show-feedback`: when a step's invariant sends the run back with `on_fail retry TARGET`,
/// the kernel binds the violation to `feedback`; a prompt in TARGET that never shows
/// `feedback` asks the same question again, and a model at temperature 0 gives the same
/// answer. The rule appends a `{{#feedback}}…{{/feedback}}` section to that prompt (the
/// inline prompt, or the template file it names), so that only retries see a new prompt.
public struct ShowViolationInPrompt: RewriteRule {
    public let name = "show-feedback"
    public let summary = "shows the last violation (`feedback`) in a retried prompt that does not show it"

    /// What the rule appends to a prompt, right after its last character: with no feedback
    /// it renders as nothing, so the first attempt's prompt stays byte for byte the same.
    public static let section = "{{#feedback}}\n\nYour previous answer was rejected: {{feedback}}\nCorrect that in this answer.{{/feedback}}"

    /// Creates the rule.
    public init() {}

    public func rewrites(_ context: RewriteContext) -> [Rewrite] {
        var rewrites: [Rewrite] = []
        var targetsDone: Set<String> = []
        for statistics in context.analysis.steps where statistics.retries.used > 0 {
            guard let body = context.draft.step(named: statistics.name),
                  case .retry(let target, _)? = body.onFailPolicy,
                  targetsDone.insert(target.name).inserted,
                  let targetBody = context.draft.step(named: target.name) else { continue }
            let queries = Bindings.effectCalls(in: targetBody.statements).filter { $0.qualifiedName == "llm.query" }
            for query in queries {
                guard let prompt = Prompt(query), let text = prompt.text(in: context.draft),
                      !Self.shows(feedback: text) else { continue }
                let retried = statistics.retries.used
                let change = "step `\(target.name)`: the prompt \(prompt.shownName) now shows `feedback` "
                    + "(step `\(statistics.name)` was retried \(retried) time\(retried == 1 ? "" : "s") with a prompt that did not show why)"
                let step = target.name
                rewrites.append(Rewrite(rule: name, change: change) { draft in prompt.appendSection(in: &draft, step: step) })
            }
        }
        return rewrites
    }

    /// Whether a template shows `feedback`, as a value or a section.
    static func shows(feedback text: String) -> Bool {
        TemplateScan(text).references.contains { $0.root == "feedback" }
    }

    /// Where a query's prompt is written.
    private enum Prompt: Sendable {
        /// The positional string literal, identified by its offset in the source.
        case inline(offset: Int)
        /// A `template:` file.
        case file(String)

        init?(_ query: EffectCall) {
            for argument in query.arguments {
                guard case .string(let value) = argument.value.kind else { continue }
                switch argument.label?.name {
                case nil: self = .inline(offset: argument.value.range.start); return
                case "template": self = .file(value); return
                default: continue
                }
            }
            return nil
        }

        var shownName: String {
            switch self {
            case .inline: "written in the program"
            case .file(let path): "in \(path)"
            }
        }

        func text(in draft: ProgramDraft) -> String? {
            switch self {
            case .file(let path): return draft.templates[path]
            case .inline(let offset):
                var found: String?
                draft.program.task?.visitSteps { _, body in
                    for call in Bindings.effectCalls(in: body.statements) {
                        for argument in call.arguments where argument.label == nil && argument.value.range.start == offset {
                            if case .string(let value) = argument.value.kind { found = value }
                        }
                    }
                }
                return found
            }
        }

        func appendSection(in draft: inout ProgramDraft, step: String) {
            switch self {
            case .file(let path):
                guard let text = draft.templates[path] else { return }
                draft.templates[path] = Self.appending(to: text)
            case .inline(let offset):
                draft.editStep(named: step) { block in
                    for index in block.statements.indices {
                        guard case .effect(var call) = block.statements[index] else { continue }
                        for argumentIndex in call.arguments.indices {
                            let argument = call.arguments[argumentIndex]
                            guard argument.label == nil, argument.value.range.start == offset,
                                  case .string(let value) = argument.value.kind else { continue }
                            call.arguments[argumentIndex].value = Expr(.string(Self.appending(to: value)), range: argument.value.range)
                        }
                        block.statements[index] = .effect(call)
                    }
                }
            }
        }

        static func appending(to text: String) -> String {
            var body = text
            var ending = ""
            while body.hasSuffix("\n") {
                body.removeLast()
                ending += "\n"
            }
            return body + ShowViolationInPrompt.section + ending
        }
    }
}
