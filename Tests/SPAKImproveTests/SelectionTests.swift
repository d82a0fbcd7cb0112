import Testing
@testable import SPAKImprove

/// Selection under noise: differences count only beyond the spread between repeats.
@Suite struct SelectionTests {
    /// A score with these measures (objective, llm calls, tokens, wall seconds), each `(mean, noise)`.
    func score(_ id: String, objective: (Double, Double), calls: Double = 1, tokens: Double = 10, seconds: (Double, Double) = (1, 0.05),
               maximize: Bool = true) -> CandidateScore {
        CandidateScore(candidate: id, trials: 4, completed: 4, missingObjective: 0, measures: [
            Measure(name: "solved", higherIsBetter: maximize, mean: objective.0, noise: objective.1),
            Measure(name: "llm_calls", higherIsBetter: false, mean: calls, noise: 0),
            Measure(name: "tokens", higherIsBetter: false, mean: tokens, noise: 0),
            Measure(name: "wall_s", higherIsBetter: false, mean: seconds.0, noise: seconds.1),
        ], metricMeans: [:])
    }

    @Test func aGainSmallerThanTheNoiseOfEitherSideDoesNotBeat() {
        let base = score("c0", objective: (0.50, 0.20))
        #expect(!Selection.beats(score("c1", objective: (0.65, 0.00)), base))
        #expect(!Selection.beats(score("c2", objective: (0.65, 0.30)), score("c0", objective: (0.5, 0))))
        #expect(Selection.beats(score("c3", objective: (0.75, 0.10)), base))
    }

    @Test func anEqualScoreWithoutNoiseDoesNotBeat() {
        #expect(!Selection.beats(score("c1", objective: (1, 0)), score("c0", objective: (1, 0))))
        #expect(Selection.beats(score("c1", objective: (1, 0)), score("c0", objective: (0.75, 0))))
    }

    @Test func minimizingTurnsTheComparisonAround() {
        let base = score("c0", objective: (5, 0), maximize: false)
        #expect(Selection.beats(score("c1", objective: (3, 0), maximize: false), base))
        #expect(!Selection.beats(score("c2", objective: (6, 0), maximize: false), base))
    }

    @Test func theFrontKeepsTradeOffsAndDropsTheDominated() {
        let cheap = score("c0", objective: (0.5, 0), calls: 1)
        let better = score("c1", objective: (1.0, 0), calls: 3)
        let worse = score("c2", objective: (0.5, 0), calls: 2)
        // Wall time within its noise does not count either way.
        let sameButSlower = score("c3", objective: (1.0, 0), calls: 3, seconds: (1.4, 0.5))
        let front = Selection.paretoFront([cheap, better, worse, sameButSlower]).map(\.candidate)
        #expect(front == ["c0", "c1", "c3"])
        #expect(Selection.dominates(cheap, worse))
        #expect(!Selection.dominates(better, cheap))
    }

    @Test func theWinnerHasTheBestObjectiveThenTheFewestCalls() {
        let base = score("c0", objective: (0.25, 0))
        let good = score("c1", objective: (0.75, 0), calls: 2)
        let best = score("c2", objective: (1.0, 0), calls: 4)
        let bestCheaper = score("c3", objective: (1.0, 0), calls: 3)
        #expect(Selection.winner(among: [good, best, bestCheaper], over: base)?.candidate == "c3")
        #expect(Selection.winner(among: [score("c4", objective: (0.3, 0.1))], over: base) == nil)
    }

    @Test func aMissingObjectiveCountsAsWorseThanEveryValueSeen() {
        let maximize = RankingObjective(metric: "solved", maximize: true)
        #expect(maximize.missingValue(seen: [1, 1]) == 0, "a bool seen only true: a missing value is false")
        #expect(maximize.missingValue(seen: [0, 1]) == -1)
        #expect(maximize.missingValue(seen: [0.8, 3.8]) == -2.2)
        #expect(RankingObjective(metric: "attempts", maximize: false).missingValue(seen: [2, 5]) == 8)
        #expect(maximize.missingValue(seen: []) == 0)
    }

    @Test func withTheObjectiveTiedTheSameWorkForFewerCallsWins() {
        let base = score("c0", objective: (1, 0), calls: 4, tokens: 100)
        let cheaper = score("c1", objective: (1, 0), calls: 2, tokens: 60)
        let slowerOnly = score("c2", objective: (1, 0), calls: 4, tokens: 100, seconds: (0.2, 0.1))
        #expect(Selection.winner(among: [slowerOnly, cheaper], over: base)?.candidate == "c1")
        #expect(Selection.winner(among: [slowerOnly], over: base) == nil, "faster alone is not cheaper")
        #expect(Selection.winner(among: [score("c3", objective: (0.5, 0), calls: 1)], over: base) == nil)
    }

    @Test func wallTimeMeasuredOnceDecidesNothing() {
        func once(_ id: String, seconds: Double) -> CandidateScore {
            CandidateScore(candidate: id, trials: 1, completed: 1, missingObjective: 0, measures: [
                Measure(name: "solved", higherIsBetter: true, mean: 1, noise: 0),
                Measure(name: "llm_calls", higherIsBetter: false, mean: 1, noise: 0),
                Measure(name: "tokens", higherIsBetter: false, mean: 10, noise: 0),
                Measure(name: "wall_s", higherIsBetter: false, mean: seconds, noise: 0, decisive: false),
            ], metricMeans: [:])
        }
        #expect(!Selection.dominates(once("c1", seconds: 0.1), once("c0", seconds: 0.5)))
        #expect(Selection.paretoFront([once("c0", seconds: 0.5), once("c1", seconds: 0.1)]).count == 2)
    }

    @Test func scoresAreMeansAndNoiseIsTheLargestSpreadBetweenRepeats() {
        func trial(_ task: String, _ repetition: Int, solved: Bool?, seconds: Double) -> Trial {
            Trial(candidate: "c0", task: task, repetition: repetition, result: TrialResult(
                outcome: solved == nil ? .failed : .completed, run: nil, reason: nil,
                metrics: solved.map { ["solved": .bool($0)] } ?? [:], llmCalls: 2, tokens: 10, seconds: seconds))
        }
        let trials = [trial("a", 1, solved: true, seconds: 1), trial("a", 2, solved: false, seconds: 3),
                      trial("b", 1, solved: true, seconds: 1), trial("b", 2, solved: nil, seconds: 1)]
        let score = CandidateScore(candidate: "c0", trials: trials, objective: RankingObjective(metric: "solved", maximize: true), worst: 0)
        #expect(score.objective.mean == 0.5)
        #expect(score.objective.noise == 1)
        #expect(score.measures[3].mean == 1.5)
        #expect(score.measures[3].noise == 2)
        #expect(score.missingObjective == 1)
        #expect(score.completed == 3)
    }
}
