import Foundation
import SPAKKernel

/// What an improvement found: every candidate with its verdict, every trial, the rounds, and
/// the winner. `write(to:originalPath:)` writes `improved.spak`, `improved.diff` and the
/// reports.
public struct ImprovementResult: Sendable {
    /// What candidates were ranked by.
    public let objective: RankingObjective
    /// Every candidate, in the order made.
    public let candidates: [Candidate]
    /// Every trial, in the order run.
    public let trials: [Trial]
    /// The rounds, in order.
    public let rounds: [Improver.Round]
    /// The best candidate's id (`c0` when nothing beat the original).
    public let best: String
    /// The budget of trials.
    public let budget: Int
    /// Repetitions of each task.
    public let repeats: Int
    /// The tasks' names.
    public let tasks: [String]
    /// The original program's file name.
    public let programName: String
    /// The original candidate.
    public let original: Candidate
    /// The winning candidate (the original when nothing beat it).
    public let improved: Candidate
    /// Whether the original file is in `spak fmt`'s layout (otherwise the diff shows layout too).
    public let originalIsCanonical: Bool
    /// The reflective improver's llm calls, in all its runs.
    public let improverLLMCalls: Int
    /// Their tokens.
    public let improverTokens: Int
    /// Seconds the whole search took.
    public let seconds: Double

    /// Whether a candidate beat the original.
    public var isImproved: Bool { best != original.id }

    /// Seconds spent in trials, answers included.
    public var trialSeconds: Double { trials.reduce(0) { $0 + $1.result.seconds } }

    /// Of the trial seconds, those spent waiting for answers (responders, model servers).
    public var answerSeconds: Double { trials.reduce(0) { $0 + $1.result.answerSeconds } }

    /// Improver runs (reflections) made, in all.
    public var improverRuns: [String] { candidates.flatMap(\.improverRuns) }

    /// The unified diff of the improved program (and its changed templates) against the original.
    public func diff(originalText: String) -> String {
        var text = UnifiedDiff.diff(old: originalText, new: improved.source, oldName: programName, newName: programName)
        for path in improved.templates.keys.sorted() {
            text += UnifiedDiff.diff(old: original.templates[path] ?? "", new: improved.templates[path] ?? "", oldName: path, newName: path)
        }
        return text
    }

    /// Writes `improved.spak` (and the templates it names beside it), `improved.diff`,
    /// `report.md` and `report.json` into `directory`.
    public func write(to directory: String, originalText: String) throws(ImproveError) {
        do {
            try improved.source.write(toFile: directory + "/improved.spak", atomically: true, encoding: .utf8)
            for (path, text) in improved.templates {
                let target = directory + "/" + path
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try text.write(toFile: target, atomically: true, encoding: .utf8)
            }
            try diff(originalText: originalText).write(toFile: directory + "/improved.diff", atomically: true, encoding: .utf8)
            try markdown.write(toFile: directory + "/report.md", atomically: true, encoding: .utf8)
            try (JSON.serialize(json) + "\n").write(toFile: directory + "/report.json", atomically: true, encoding: .utf8)
        } catch {
            throw ImproveError("cannot write the improvement into \(directory): \(error)")
        }
    }
}
