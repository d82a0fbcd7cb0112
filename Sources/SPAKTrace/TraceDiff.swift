import SPAKKernel

/// `spak trace diff`: where two runs part, and how they compare from there.
///
/// Runs are compared by the essences of their events (`EventComparison`): circumstantial
/// events and incidental fields (times, durations, who answered) are left out, so two runs
/// of one program with the same answers do not differ. A forked run is compared with its
/// history (`RunHistory`), so it shares its parent's events up to the fork point.
public struct TraceDiff {
    /// One run's side of the first difference.
    public struct Side {
        /// The differing event; `nil` where this run has no more events.
        public let event: TraceEvent?
        /// The step occurrence the event belongs to (for a run that ended: the one its last event belongs to).
        public let step: StepOccurrence?
        /// The seq of this run's last event, for a run that ended before the other.
        public let lastSeq: Int?
    }

    /// A named number or value on both sides.
    public struct Comparison {
        /// The metric's or counter's name.
        public let name: String
        /// A's value, if it has one.
        public let a: Value?
        /// B's value, if it has one.
        public let b: Value?

        /// `b - a` when both are numbers (an int when both are ints).
        public var delta: Value? {
            if case .int(let x)? = a, case .int(let y)? = b { return .int(y - x) }
            guard let x = a?.number, let y = b?.number else { return nil }
            return .float(y - x)
        }
    }

    /// The first run.
    public let a: TracedRun
    /// The second run.
    public let b: TracedRun
    /// How many events (circumstantial ones aside) the runs share before they part.
    public let compared: Int
    /// Where they part; `nil` when they do not differ.
    public let firstDifference: (a: Side, b: Side)?
    /// The step occurrences from the parting point on, aligned by position.
    public let steps: [(a: StepOccurrence?, b: StepOccurrence?)]
    /// The final metrics of both runs, by name.
    public let metrics: [Comparison]
    /// The kernel's counters of both runs (`steps`, `llm_calls`, `tool_runs`, `tokens`, `active_seconds`).
    public let counters: [Comparison]
    /// Notes on histories that could not be read whole (a forked run whose parent is missing).
    public let notes: [String]

    /// Whether the runs do not differ.
    public var identical: Bool { firstDifference == nil }

    /// Compares two runs.
    public init(_ a: TracedRun, _ b: TracedRun) throws(RecordError) {
        self.a = a
        self.b = b
        let eventsA = try a.history.events()
        let eventsB = try b.history.events()
        let essentialA = Self.essential(eventsA)
        let essentialB = Self.essential(eventsB)
        var shared = 0
        while shared < essentialA.count, shared < essentialB.count, essentialA[shared].essence == essentialB[shared].essence {
            shared += 1
        }
        compared = shared
        let (occurrencesA, ownersA) = StepOccurrence.list(of: eventsA)
        let (occurrencesB, ownersB) = StepOccurrence.list(of: eventsB)
        if shared == essentialA.count, shared == essentialB.count {
            firstDifference = nil
            steps = []
        } else {
            func side(_ events: [TraceEvent], _ essential: [(index: Int, essence: [String: Value])],
                      _ occurrences: [StepOccurrence], _ owners: [Int?]) -> Side {
                if shared < essential.count {
                    let index = essential[shared].index
                    return Side(event: events[index], step: owners[index].map { occurrences[$0] }, lastSeq: nil)
                }
                return Side(event: nil, step: owners.last.flatMap { $0 }.map { occurrences[$0] }, lastSeq: events.last?.seq)
            }
            firstDifference = (side(eventsA, essentialA, occurrencesA, ownersA), side(eventsB, essentialB, occurrencesB, ownersB))
            // The shared prefix starts the same steps on both sides: the table begins at the
            // step the runs were in when they parted, or at the next one.
            var started = 0
            var inStep = false
            for entry in essentialA.prefix(shared) {
                switch eventsA[entry.index].type {
                case "step.started": started += 1; inStep = true
                case "step.finished": inStep = false
                default: break
                }
            }
            let first = inStep ? started - 1 : started
            let count = max(occurrencesA.count, occurrencesB.count)
            steps = first < count
                ? (first..<count).map { ($0 < occurrencesA.count ? occurrencesA[$0] : nil, $0 < occurrencesB.count ? occurrencesB[$0] : nil) }
                : []
        }
        metrics = Self.compare(a.metrics(events: eventsA), b.metrics(events: eventsB))
        counters = Self.compare(a.counters, b.counters)
        notes = [("A", a.history.note), ("B", b.history.note)].compactMap { side, note in note.map { "run \(side): \($0)" } }
    }

    /// The events that take part in a comparison, with their essences.
    private static func essential(_ events: [TraceEvent]) -> [(index: Int, essence: [String: Value])] {
        events.indices.compactMap { index in events[index].essence.map { (index, $0) } }
    }

    private static func compare(_ a: [String: Value], _ b: [String: Value]) -> [Comparison] {
        Set(a.keys).union(b.keys).sorted().map { Comparison(name: $0, a: a[$0], b: b[$0]) }
    }
}
