import SPAKKernel

extension TraceDiff {
    /// Rows of the step table the text shows; `--json` lists them all.
    static let shownSteps = 50

    /// The comparison for a person: the two runs, where they part, the steps from there side
    /// by side, and the differences in metrics and counters.
    public var text: String {
        var out = "A: \(a.id)  (task \(a.task), \(a.status))\nB: \(b.id)  (task \(b.task), \(b.status))\n"
        for note in notes { out += "note: \(note)\n" }
        guard let (sideA, sideB) = firstDifference else {
            return out + "\nruns \(a.id) and \(b.id) do not differ (\(TextFolding.plural(compared, "event")) compared)\n"
        }
        out += "\n" + partingLine(sideA, sideB) + "\n"
        out += Self.show(sideA, name: "A", run: a) + Self.show(sideB, name: "B", run: b)
        out += Self.contentDiff(sideA.event, sideB.event)
        if !steps.isEmpty {
            out += "\nsteps from there on (A | B; ≠ marks rows that differ, durations aside):\n"
            let cellsA = steps.prefix(Self.shownSteps).map { Self.cell($0.a) }
            let width = cellsA.map(\.count).max() ?? 0
            for (row, cellA) in zip(steps.prefix(Self.shownSteps), cellsA) {
                let same = row.a.flatMap { x in row.b.map { x.sameResults(as: $0) } } ?? false
                out += (same ? "  " : "≠ ") + cellA.padding(toLength: width, withPad: " ", startingAt: 0) + " | " + Self.cell(row.b) + "\n"
            }
            if steps.count > Self.shownSteps {
                out += "  … \(TextFolding.plural(steps.count - Self.shownSteps, "more row")) (--json lists them all)\n"
            }
        }
        out += Self.table("metrics", metrics) + Self.table("counters", counters)
        return out
    }

    /// `runs part at event seq 16 of A / seq 16 of B, in step `ask` #2`.
    private func partingLine(_ sideA: Side, _ sideB: Side) -> String {
        func position(_ side: Side, _ name: String) -> String {
            if let seq = side.event?.seq { return "seq \(seq) of \(name)" }
            return "the end of \(name)" + (side.lastSeq.map { " (after seq \($0))" } ?? "")
        }
        func step(_ side: Side) -> String { side.step.map { "in step `\($0.step)` #\($0.number)" } ?? "between steps" }
        let place = step(sideA) == step(sideB) ? step(sideA) : "\(step(sideA)) of A / \(step(sideB)) of B"
        return "runs part at event \(position(sideA, "A")) / \(position(sideB, "B")), \(place)"
    }

    /// One side's differing event, as compact JSON of what was compared.
    private static func show(_ side: Side, name: String, run: TracedRun) -> String {
        guard let event = side.event else {
            return "  \(name): run \(name) ends here (\(run.status))\n"
        }
        let essence = event.essence ?? event.fields
        let rest = essence.filter { $0.key != "type" }
        return "  \(name): \(event.type) " + TextFolding.cut(JSON.serialize(.map(rest)), 160) + "\n"
    }

    /// What differs inside the two events: a prompt, an answer, a bound value.
    private static func contentDiff(_ a: TraceEvent?, _ b: TraceEvent?) -> String {
        guard let a, let b, a.type == b.type else { return "" }
        func diff(_ label: String, _ x: String, _ y: String) -> String {
            let lines = LineDiff.unified(from: x, to: y)
            return lines.isEmpty ? "" : "  \(label) (- A, + B):\n" + lines.split(separator: "\n", omittingEmptySubsequences: false)
                .dropLast().map { "    " + $0 + "\n" }.joined()
        }
        switch a.type {
        case "effect.requested":
            let x = TraceEvent(a["request"]?.fields ?? [:]), y = TraceEvent(b["request"]?.fields ?? [:])
            if let px = x.string("prompt"), let py = y.string("prompt"), px != py { return diff("prompt", px, py) }
            if x["argv"] != y["argv"] {
                return diff("argv", (x["argv"].map(JSON.serialize) ?? ""), (y["argv"].map(JSON.serialize) ?? ""))
            }
            return ""
        case "effect.answered":
            return diff("result", a["result"]?.text ?? "", b["result"]?.text ?? "")
        case "var.bound":
            return "  value of \(a.string("name") ?? "?") in A: \(TextFolding.cut(JSON.serialize(a["value"] ?? .null), 160))\n"
                + "  value of \(b.string("name") ?? "?") in B: \(TextFolding.cut(JSON.serialize(b["value"] ?? .null), 160))\n"
        case "retry":
            return diff("feedback", a["feedback"]?.text ?? "", b["feedback"]?.text ?? "")
        default:
            return ""
        }
    }

    /// One side of a table row: `ask #2  violated  1.4 ms  "-1"  ✗ positive`.
    private static func cell(_ occurrence: StepOccurrence?) -> String {
        guard let occurrence else { return "—" }
        var parts = [occurrence.label, occurrence.outcome ?? "unfinished"]
        if let ms = occurrence.durationMS { parts.append(TextFolding.duration(ms: ms)) }
        if let answer = occurrence.answer { parts.append(JSON.serialize(.string(TextFolding.firstLine(answer, width: 24)))) }
        if let code = occurrence.exitCode { parts.append("exit \(code)") }
        if !occurrence.checks.isEmpty {
            parts.append(occurrence.checks.map { ($0.ok ? "✓" : "✗") + $0.name }.joined(separator: " "))
        }
        return parts.joined(separator: "  ")
    }

    /// `metrics:` then `  last: 5 → 4 (-1)` per entry.
    private static func table(_ title: String, _ rows: [Comparison]) -> String {
        guard !rows.isEmpty else { return "" }
        var out = "\n\(title) (A → B):\n"
        for row in rows {
            func shown(_ value: Value?) -> String {
                guard let value else { return "—" }
                if case .float(let number) = value { return TextFolding.number(number) }
                return JSON.serialize(value)
            }
            out += "  \(row.name): \(shown(row.a)) → \(shown(row.b))"
            if let delta = row.delta?.number, delta != 0 {
                out += " (\(delta > 0 ? "+" : "")\(TextFolding.number(delta)))"
            }
            out += "\n"
        }
        return out
    }
}
