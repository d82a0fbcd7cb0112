extension StepOccurrence {
    /// A run's step occurrences in order, and for each event the index of the occurrence it
    /// belongs to (`nil` for an event between steps).
    static func list(of events: [TraceEvent]) -> (occurrences: [StepOccurrence], owners: [Int?]) {
        var tracker = StepTracker()
        var occurrences: [StepOccurrence] = []
        var owners: [Int?] = []
        owners.reserveCapacity(events.count)
        for event in events {
            guard let current = tracker.advance(event) else {
                owners.append(nil)
                continue
            }
            if event.type == "step.started" || occurrences.isEmpty {
                occurrences.append(current)
            } else {
                occurrences[occurrences.count - 1] = current
            }
            owners.append(occurrences.count - 1)
        }
        return (occurrences, owners)
    }
}
