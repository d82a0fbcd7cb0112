/// Comparing candidates under noise: a difference counts only when it is larger than the
/// spread seen between repetitions of either side.
public enum Selection {
    /// How much better `a` is than `b` on a measure, in its better direction.
    static func gain(_ a: Measure, over b: Measure) -> Double {
        a.higherIsBetter ? a.mean - b.mean : b.mean - a.mean
    }

    /// Whether `a` is better than `b` on a measure by more than the noise of both.
    public static func better(_ a: Measure, than b: Measure) -> Bool {
        gain(a, over: b) > max(a.noise, b.noise)
    }

    /// Whether `candidate` beats `base` on the objective by more than the noise.
    public static func beats(_ candidate: CandidateScore, _ base: CandidateScore) -> Bool {
        better(candidate.objective, than: base.objective)
    }

    /// Whether `a` dominates `b`: better beyond the noise on some measure, worse beyond it on none.
    public static func dominates(_ a: CandidateScore, _ b: CandidateScore) -> Bool {
        let pairs = zip(a.measures, b.measures)
        return pairs.contains { better($0, than: $1) } && !pairs.contains { better($1, than: $0) }
    }

    /// The candidates no other dominates, in the order given.
    public static func paretoFront(_ scores: [CandidateScore]) -> [CandidateScore] {
        scores.filter { score in !scores.contains { $0.candidate != score.candidate && dominates($0, score) } }
    }

    /// Of the candidates that beat `base` on the objective, the one with the best objective
    /// mean (ties: the fewer llm calls, then the earlier); `nil` when none beats it.
    public static func winner(among scores: [CandidateScore], over base: CandidateScore) -> CandidateScore? {
        let winners = scores.filter { $0.candidate != base.candidate && beats($0, base) }
        return winners.enumerated().min { lhs, rhs in
            let l = lhs.element, r = rhs.element
            let objectiveGap = gain(l.objective, over: r.objective)
            if objectiveGap != 0 { return objectiveGap > 0 }
            if l.measures[1].mean != r.measures[1].mean { return l.measures[1].mean < r.measures[1].mean }
            return lhs.offset < rhs.offset
        }?.element
    }
}
