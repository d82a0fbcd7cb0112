import SPAKTrace

/// What a rule reads: the program as it stands and the analysis of its runs.
public struct RewriteContext: Sendable {
    /// The program the rewrites start from.
    public let draft: ProgramDraft
    /// Its runs on the task set, summed up (`spak analyze`).
    public let analysis: RunAnalysis

    /// Creates a context.
    public init(draft: ProgramDraft, analysis: RunAnalysis) {
        self.draft = draft
        self.analysis = analysis
    }
}

/// One change a rule proposes, with the evidence for it, applied to a draft on demand so
/// that changes from several rules can be combined.
public struct Rewrite: Sendable {
    /// The rule's name, e.g. `raise-retry-bound`.
    public let rule: String
    /// What changes and why, one line: "step `ask`: `on_fail retry ask max 1` → `max 2`
    /// (3 of 6 runs failed after their last retry)".
    public let change: String
    private let edit: @Sendable (inout ProgramDraft) -> Void

    /// Creates a rewrite.
    public init(rule: String, change: String, edit: @escaping @Sendable (inout ProgramDraft) -> Void) {
        self.rule = rule
        self.change = change
        self.edit = edit
    }

    /// Applies the change.
    public func apply(to draft: inout ProgramDraft) { edit(&draft) }
}

/// A rule that reads runs and proposes changes to the program that ran.
public protocol RewriteRule: Sendable {
    /// A short stable name, shown in reports.
    var name: String { get }
    /// One line: what the rule does and when.
    var summary: String { get }
    /// The changes this rule proposes for the program and its runs; none when nothing in the
    /// runs calls for it.
    func rewrites(_ context: RewriteContext) -> [Rewrite]
}

/// The rules `spak improve` applies, in the order they are tried.
public enum RewriteRules {
    /// Every rule.
    public static let all: [any RewriteRule] = [RaiseRetryBound(), ShowViolationInPrompt(), ChecksFirst(), TightenBudget()]
}
