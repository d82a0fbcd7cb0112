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

    /// Whether `a` dominates `b`: better beyond the noise on some measure, worse beyond it on
    /// none (wall time measured without repeats decides nothing).
    public static func dominates(_ a: CandidateScore, _ b: CandidateScore) -> Bool {
        let pairs = zip(a.measures, b.measures).filter { $0.0.decisive }
        return pairs.contains { better($0, than: $1) } && !pairs.contains { better($1, than: $0) }
    }

    /// Whether `candidate` dominates `base` and is cheaper beyond the noise in llm calls or
    /// tokens: the objective tied, the same work for less.
    public static func cheaper(_ candidate: CandidateScore, than base: CandidateScore) -> Bool {
        dominates(candidate, base)
            && (better(candidate.measures[1], than: base.measures[1]) || better(candidate.measures[2], than: base.measures[2]))
    }

    /// The candidates no other dominates, in the order given.
    public static func paretoFront(_ scores: [CandidateScore]) -> [CandidateScore] {
        scores.filter { score in !scores.contains { $0.candidate != score.candidate && dominates($0, score) } }
    }

    /// The round's winner over `base`: of the candidates that beat it on the objective, the
    /// best (ties: fewer llm calls, then tokens, then the earlier); when none does, of those
    /// that are cheaper with the objective tied, the cheapest; `nil` when neither.
    public static func winner(among scores: [CandidateScore], over base: CandidateScore) -> CandidateScore? {
        let rivals = scores.filter { $0.candidate != base.candidate }
        let better = rivals.filter { beats($0, base) }
        if !better.isEmpty { return best(better, objectiveFirst: true) }
        return best(rivals.filter { cheaper($0, than: base) }, objectiveFirst: false)
    }

    private static func best(_ scores: [CandidateScore], objectiveFirst: Bool) -> CandidateScore? {
        scores.enumerated().min { lhs, rhs in
            let l = lhs.element, r = rhs.element
            if objectiveFirst, gain(l.objective, over: r.objective) != 0 { return gain(l.objective, over: r.objective) > 0 }
            if l.measures[1].mean != r.measures[1].mean { return l.measures[1].mean < r.measures[1].mean }
            if l.measures[2].mean != r.measures[2].mean { return l.measures[2].mean < r.measures[2].mean }
            return lhs.offset < rhs.offset
        }?.element
    }
}
