import SPAKKernel

extension TraceDiff {
    /// The comparison for programs: one JSON object, keys sorted (format `spak-trace-diff`,
    /// version 1; described in docs/trace-tools.md).
    public var json: String {
        var document: [String: Value] = [
            "format": .string("spak-trace-diff"), "version": .int(1),
            "a": a.identity, "b": b.identity,
            "identical": .bool(identical), "compared": .int(compared),
            "first_difference": .null,
            "steps": .list(steps.map { row in .map(["a": row.a?.json ?? .null, "b": row.b?.json ?? .null]) }),
            "metrics": Self.json(metrics), "counters": Self.json(counters),
        ]
        if let (sideA, sideB) = firstDifference {
            func step(_ side: Side) -> Value {
                side.step.map { .map(["name": .string($0.step), "occurrence": .int($0.number)]) } ?? .null
            }
            document["first_difference"] = .map([
                "a": sideA.event.map { .map($0.fields) } ?? .null, "b": sideB.event.map { .map($0.fields) } ?? .null,
                "step": .map(["a": step(sideA), "b": step(sideB)]),
            ])
        }
        if !notes.isEmpty { document["notes"] = .list(notes.map(Value.string)) }
        return JSON.serialize(.map(document)) + "\n"
    }

    private static func json(_ rows: [Comparison]) -> Value {
        .map(Dictionary(uniqueKeysWithValues: rows.map { row in
            var fields: [String: Value] = ["a": row.a ?? .null, "b": row.b ?? .null]
            if let delta = row.delta { fields["delta"] = delta }
            return (row.name, .map(fields))
        }))
    }
}
