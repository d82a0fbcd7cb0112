/// A program `spak improve` considered: the original, a rule-based rewrite, or a proposal of
/// the reflective improver, with what became of it.
public struct Candidate: Sendable {
    /// Where a candidate came from.
    public enum Origin: String, Sendable {
        case original
        /// One or more rewrite rules.
        case rules
        /// The reflective improver program.
        case reflection
    }

    /// What became of it.
    public enum Status: Sendable, Equatable {
        /// Run on every task; see its score.
        case evaluated
        /// Did not parse or check (after one round of feedback, for a proposal).
        case rejected(diagnostics: String)
        /// The budget left too few trials to run it.
        case notEvaluated
    }

    /// `c0` for the original, then `c1`, `c2`… in the order they were made.
    public let id: String
    /// The candidate it was derived from.
    public let parent: String?
    /// The round that made it (0 for the original).
    public let round: Int
    /// Where it came from.
    public let origin: Origin
    /// The rules that made it, for `rules`.
    public let rules: [String]
    /// One line per change: what and why.
    public let changes: [String]
    /// The program file, relative to the improvement's folder.
    public let programPath: String
    /// The program's text.
    public let source: String
    /// Its template files by the path the program names them with.
    public let templates: [String: String]
    /// What became of it.
    public var status: Status
    /// Its trials summed up, once evaluated.
    public var score: CandidateScore?
    /// Why it won or lost, in a sentence.
    public var verdict = ""
    /// Why it was rejected without being run, when that is not that it fails to check.
    public var rejection: String?
    /// Whether no other evaluated candidate dominated it, at the end of its round.
    public var onFront = false
    /// The improver runs that proposed it (a reflection), relative to the improvement's folder.
    public var improverRuns: [String] = []
}
