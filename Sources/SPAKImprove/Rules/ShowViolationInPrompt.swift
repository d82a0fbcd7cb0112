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
        var done: Set<String> = []
        var order: [String] = []
        context.draft.program.task?.visitSteps { name, _ in order.append(name) }
        for statistics in context.analysis.steps where statistics.retries.used > 0 {
            guard let body = context.draft.step(named: statistics.name),
                  case .retry(let target, _)? = body.onFailPolicy,
                  let from = order.firstIndex(of: target.name), let to = order.firstIndex(of: statistics.name) else { continue }
            // The prompts a retry asks again: those of the target and of every step up to the retried one.
            for step in order[from...max(from, to)] {
                guard let stepBody = context.draft.step(named: step) else { continue }
                let queries = Bindings.effectCalls(in: stepBody.statements).filter { $0.qualifiedName == "llm.query" }
                for (ordinal, query) in queries.enumerated() {
                    guard let prompt = Prompt(query, step: step, ordinal: ordinal), done.insert(prompt.key).inserted,
                          let text = prompt.text(in: context.draft), !Self.shows(feedback: text) else { continue }
                    let retried = statistics.retries.used
                    let change = "step `\(step)`: the prompt \(prompt.shownName) now shows `feedback` "
                        + "(step `\(statistics.name)` was retried \(retried) time\(retried == 1 ? "" : "s") with a prompt that did not show why)"
                    rewrites.append(Rewrite(rule: name, change: change) { draft in prompt.appendSection(in: &draft) })
                }
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
        /// The positional string literal of the step's Nth `llm.query` (in source order).
        case inline(step: String, ordinal: Int)
        /// A `template:` file.
        case file(String)

        init?(_ query: EffectCall, step: String, ordinal: Int) {
            for argument in query.arguments {
                guard case .string(let value) = argument.value.kind else { continue }
                switch argument.label?.name {
                case nil: self = .inline(step: step, ordinal: ordinal); return
                case "template": self = .file(value); return
                default: continue
                }
            }
            return nil
        }

        /// Identifies the prompt, so that one shared by several retries is changed once.
        var key: String {
            switch self {
            case .inline(let step, let ordinal): "\(step)#\(ordinal)"
            case .file(let path): "file:" + path
            }
        }

        var shownName: String {
            switch self {
            case .inline: "written in the program"
            case .file(let path): "in \(path)"
            }
        }

        func text(in draft: ProgramDraft) -> String? {
            switch self {
            case .file(let path):
                return draft.templates[path]
            case .inline(let step, let ordinal):
                guard let body = draft.step(named: step) else { return nil }
                let queries = Bindings.effectCalls(in: body.statements).filter { $0.qualifiedName == "llm.query" }
                guard ordinal < queries.count else { return nil }
                for argument in queries[ordinal].arguments where argument.label == nil {
                    if case .string(let value) = argument.value.kind { return value }
                }
                return nil
            }
        }

        func appendSection(in draft: inout ProgramDraft) {
            switch self {
            case .file(let path):
                guard let text = draft.templates[path] else { return }
                draft.templates[path] = Self.appending(to: text)
            case .inline(let step, let ordinal):
                draft.editStep(named: step) { block in
                    var seen = 0
                    block.editEffectCalls { call in
                        guard call.qualifiedName == "llm.query" else { return }
                        defer { seen += 1 }
                        guard seen == ordinal else { return }
                        for index in call.arguments.indices where call.arguments[index].label == nil {
                            guard case .string(let value) = call.arguments[index].value.kind else { continue }
                            call.arguments[index].value = Expr(.string(Self.appending(to: value)), range: call.arguments[index].value.range)
                            return
                        }
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
