import Foundation
import SPAKKernel

/// `spak trace show`: a run as a readable timeline. Steps with their durations and
/// outcomes; under each, its effects (prompts and answers folded to a few lines unless
/// `full`), tool results, invariant checks and retries; then where the run stands, the
/// budgets used and the final metrics.
///
/// The log is read in one pass; only the current step's lines are held at a time.
public struct TraceTimeline {
    /// The run shown.
    public let run: TracedRun
    /// Unfold prompts, answers and captured output; show variable bindings and model attempts.
    public let full: Bool

    /// Shows `run`; `full` unfolds everything.
    public init(_ run: TracedRun, full: Bool) {
        self.run = run
        self.full = full
    }

    private static let inStep = "    "
    private static let detail = "      "

    /// Writes the timeline, a piece at a time, to `emit`.
    public func render(_ emit: (String) -> Void) throws(RecordError) {
        emit(header)
        var tracker = StepTracker()
        var stepText = ""  // the lines of the step in progress, printed under its header when it ends
        var open: StepOccurrence? = nil
        var llmTokens = 0
        try run.history.forEach { event in
            let before = tracker.current
            let occurrence = tracker.advance(event)
            if event.type == "step.started", let unfinished = open, unfinished.startSeq != occurrence?.startSeq {
                emit(Self.stepHeader(before ?? unfinished, note: "did not finish") + stepText)
                stepText = ""
            }
            open = occurrence
            if event.type == "effect.answered", let total = TraceEvent(event["usage"]?.fields ?? [:]).int("total_tokens") {
                llmTokens += total
            }
            let text = lines(for: event, indent: occurrence == nil ? "" : Self.inStep)
            guard let occurrence else {
                emit(text)
                return
            }
            stepText += text
            if event.type == "step.finished" {
                emit(Self.stepHeader(occurrence, note: nil) + stepText)
                stepText = ""
                open = nil
            }
        }
        if let open {
            let note = if case .suspended = run.view.state.status { "waiting" } else { "in progress" }
            emit(Self.stepHeader(open, note: note) + stepText)
        }
        emit(footer)
    }

    /// The whole timeline as one text.
    public func text() throws(RecordError) -> String {
        var out = ""
        try render { out += $0 }
        return out
    }

    // MARK: - Header and footer

    private var header: String {
        let info = run.view.info
        var out = "run:        \(run.id)\ntask:       \(run.task)\nstatus:     \(run.status)\n"
        let parameters = (info["parameters"]?.fields ?? [:]).sorted { $0.key < $1.key }
        if !parameters.isEmpty {
            out += "parameters: " + parameters.map { "\($0.key)=\(JSON.serialize($0.value))" }.joined(separator: " ") + "\n"
        }
        if let created = info["created"]?.textIfString { out += "created:    \(created)\n" }
        if let fork = run.fork {
            out += "forked:     from \(fork["parent"]?.text ?? "?") at \(fork["at"]?.text ?? "?") (seq \(fork["seq"]?.text ?? "?"))\n"
        }
        if let note = run.history.note { out += "note:       \(note)\n" }
        return out + "\n"
    }

    private var footer: String {
        let state = run.view.state
        var out = ""
        switch state.status {
        case .suspended(let pending):
            out += "\nwaiting for an answer to \(pending.effect) #\(pending.index) in step `\(pending.step)` (\(run.view.programName):\(pending.location))\n"
        case .ready:
            out += "\npaused between steps (go on with `spak step \(run.id)`)\n"
        case .completed, .failed:
            break
        }
        if !run.view.budgets.isEmpty { out += "\n" + run.view.budgetLines }
        let metrics = run.metricsFile?["metrics"]?.fields ?? [:]
        let errors = run.metricsFile?["metric_errors"]?.fields ?? [:]
        if !metrics.isEmpty || !errors.isEmpty {
            let incomplete = run.metricsFile?["metrics_from"] == .string("incomplete_run")
            out += incomplete ? "\nmetrics (so far: over the variables of a run that has not completed):\n" : "\nmetrics:\n"
            for (name, value) in metrics.sorted(by: { $0.key < $1.key }) { out += "  \(name) = \(JSON.serialize(value))\n" }
            for (name, why) in errors.sorted(by: { $0.key < $1.key }) { out += "  \(name): not computed: \(why.text)\n" }
        }
        let counters = state.counters
        out += "\ncounters:   \(TextFolding.plural(counters.steps, "step")), \(TextFolding.plural(counters.llmCalls, "llm call")), "
            + "\(TextFolding.plural(counters.toolRuns, "tool run")), \(TextFolding.plural(counters.tokens, "token"))"
            + (counters.estimatedTokens > 0 ? " (\(counters.estimatedTokens) estimated)" : "")
            + ", \(TextFolding.number(counters.activeSeconds)) s active\n"
        return out
    }

    private static func stepHeader(_ occurrence: StepOccurrence, note: String?) -> String {
        var out = "step \(occurrence.label)"
        if let ms = occurrence.durationMS { out += "  (\(TextFolding.duration(ms: ms)))" }
        if let outcome = occurrence.outcome { out += "  \(outcome)" }
        if let note { out += "  (\(note))" }
        return out + "\n"
    }

    // MARK: - Events

    /// The lines that show one event (empty for an event shown elsewhere or only with `full`).
    private func lines(for event: TraceEvent, indent: String) -> String {
        let sub = indent + "  "
        switch event.type {
        case "run.started", "step.started", "step.finished":
            return ""
        case "run.forked":
            return "── forked from \(event.string("parent") ?? "?") at \(event.string("at") ?? "?") (seq \(event.seq.map(String.init) ?? "?")) ──\n"
        case "var.bound":
            guard full else { return "" }
            return indent + "let \(event.string("name") ?? "?") = \(JSON.serialize(event["value"] ?? .null))\n"
        case "effect.requested":
            return requested(event, indent: indent, sub: sub)
        case "effect.answered":
            return answered(event, indent: indent, sub: sub)
        case "effect.refused":
            return indent + "✗ \(event.string("effect") ?? "?") #\(event.int("index") ?? -1) refused: \(event["reason"]?.text ?? "")\n"
        case "effect.attempt":
            guard full else { return "" }
            var out = sub + "attempt \(event.int("attempt") ?? 0): \(event["outcome"]?.text ?? "?")"
            if let ms = event["duration_ms"]?.number { out += " after \(TextFolding.duration(ms: ms))" }
            if let error = event.string("error") { out += ": \(error)" }
            return out + "\n"
        case "effect.unanswered":
            return indent + "! no answer to \(event.string("effect") ?? "?") #\(event.int("index") ?? -1): \(event["reason"]?.text ?? "")\n"
        case "run.suspended":
            return indent + "… suspended, waiting for an answer to \(event.string("effect") ?? "?") #\(event.int("index") ?? -1)\n"
        case "run.resumed":
            return indent + "… resumed: #\(event.int("index") ?? -1) answered\n"
        case "invariant.checked":
            // Checks outside a step say what they followed: the run's start, or a binding.
            var name = event.string("name") ?? "?"
            if event.string("when") == "start" { name += " (before the first step)" }
            if let binding = event.string("binding") { name += " (after `\(binding)` was bound)" }
            if event["ok"] == .bool(true) { return indent + "✓ \(name)\n" }
            return indent + "✗ \(name)" + (event.string("error").map { ": \($0)" } ?? "") + "\n"
        case "retry":
            let head = indent + "↻ retry → \(event.string("target") ?? "?") (attempt \(event.int("attempt") ?? 0) of \(event.int("max") ?? 0))"
            let feedback = event["feedback"]?.text ?? ""
            if feedback.isEmpty { return head + "\n" }
            return head + "\n" + TextFolding.field("feedback", feedback, indent: sub, full: full)
        case "budget.exceeded":
            return indent + "✗ budget \(event.string("budget") ?? "?") exceeded: \(TextFolding.number(event["used"]?.number ?? 0)) of \(TextFolding.number(event["limit"]?.number ?? 0))\n"
        case "run.completed":
            return "run completed\n"
        case "run.failed":
            var out = "run failed"
            if let step = event.string("step") { out += " in step `\(step)`" }
            let reason = event["reason"]?.text ?? ""
            // A reason that begins with its place is not given the place twice.
            if let location = event.string("location"), !reason.hasPrefix("\(run.view.programName):\(location):") {
                out += " (\(run.view.programName):\(location))"
            }
            return out + ": \(reason)\n"
        case "recovery":
            var out = "… recovered after a crash: \(event.int("discarded_events") ?? 0) events recomputed, \(event.int("reused_answers") ?? 0) answers reused"
            if let torn = event.int("torn_bytes") { out += ", a torn last line of \(torn) bytes dropped" }
            return out + "\n"
        default:
            let rest = event.fields.filter { !["seq", "time", "type"].contains($0.key) }
            return indent + event.type + " " + TextFolding.cut(JSON.serialize(.map(rest)), full ? Int.max : 100) + "\n"
        }
    }

    private func requested(_ event: TraceEvent, indent: String, sub: String) -> String {
        let effect = event.string("effect") ?? "?"
        let request = TraceEvent(event["request"]?.fields ?? [:])
        var out = indent + "\(effect) #\(event.int("index") ?? -1)"
        if let location = event.string("location") ?? request.string("location") { out += " at \(run.view.programName):\(location)" }
        switch effect {
        case "llm.query":
            if let template = request.string("template") { out += " (template \(template))" }
            if event["reexecuted"] == .bool(true) { out += " (asked again after a crash)" }
            out += "\n"
            if full, let system = request.string("system") {
                out += TextFolding.field("system", system, indent: sub, full: true)
            }
            out += TextFolding.field("prompt", request.string("prompt") ?? "", indent: sub, full: full)
            return out
        case "tool.run":
            var argv: [String] = []
            if case .list(let words)? = request["argv"] { argv = words.map(\.text) }
            let command = argv.map { $0.isEmpty || $0.contains(where: \.isWhitespace) ? JSON.serialize(.string($0)) : $0 }
                .joined(separator: " ")
            return out + ": " + (full ? command : TextFolding.cut(command, 100)) + "\n"
        case "tool.read":
            return out + ": \(request.string("path") ?? "?")\n"
        case "tool.write":
            let bytes = request.string("content")?.utf8.count ?? 0
            out += ": \(request.string("path") ?? "?") (\(TextFolding.plural(bytes, "byte")))\n"
            if full, let content = request.string("content") { out += TextFolding.field("content", content, indent: sub, full: true) }
            return out
        default:
            return out + " " + TextFolding.cut(JSON.serialize(.map(request.fields)), full ? Int.max : 100) + "\n"
        }
    }

    private func answered(_ event: TraceEvent, indent: String, sub: String) -> String {
        let result = event["result"] ?? .null
        switch event.string("effect") {
        case "llm.query"?:
            var about = [event.string("answered_by")].compactMap { $0 }
            let usage = TraceEvent(event["usage"]?.fields ?? [:])
            if let total = usage.int("total_tokens") {
                about.append(TextFolding.plural(total, "token") + (usage["estimated"] == .bool(true) ? ", estimated" : ""))
            }
            let label = "answer" + (about.isEmpty ? "" : " (\(about.joined(separator: "; ")))")
            return TextFolding.field(label, result.text, indent: sub, full: full)
        case "tool.run"?:
            let fields = TraceEvent(result.fields)
            var out = sub + "→ exit \(fields.int("exit_code").map(String.init) ?? "?")"
            if let signal = fields.int("signal"), signal != 0 { out += ", signal \(signal)" }
            if fields["timed_out"] == .bool(true) { out += ", timed out" }
            if let ms = fields["duration_ms"]?.number { out += " in \(TextFolding.duration(ms: ms))" }
            var streams: [String] = []
            for stream in ["stdout", "stderr"] {
                let reference = TraceEvent(fields[stream]?.fields ?? [:])
                var size = "\(stream) \(TextFolding.plural(reference.int("bytes") ?? 0, "byte"))"
                if let seen = reference.int("seen_bytes"), seen > reference.int("bytes") ?? 0 { size += " of \(seen)" }
                streams.append(size)
            }
            out += "; " + streams.joined(separator: ", ") + (fields["truncated"] == .bool(true) ? " (truncated)" : "")
            if let by = event.string("answered_by") { out += " (\(by))" }
            out += "\n"
            if full {
                for stream in ["stdout", "stderr"] {
                    guard let text = capture(fields[stream]) else { continue }
                    out += TextFolding.field(stream, text, indent: sub, full: true)
                }
            }
            return out
        case "tool.read"?:
            let text = result.text
            var out = sub + "→ \(TextFolding.plural(text.utf8.count, "byte")) read\n"
            if full { out += TextFolding.field("content", text, indent: sub, full: true) }
            return out
        case "tool.write"?:
            return ""
        default:
            return sub + "→ " + TextFolding.cut(result.text, full ? Int.max : 100) + "\n"
        }
    }

    /// The text a `tools/` reference names, looked up in the run's folder and its ancestors'.
    private func capture(_ reference: Value?) -> String? {
        let fields = reference?.fields ?? [:]
        guard case .string(let digest)? = fields["sha256"], (TraceEvent(fields).int("bytes") ?? 0) > 0,
              !digest.contains("/") else { return nil }
        for segment in run.history.segments.reversed() {
            if let data = FileManager.default.contents(atPath: segment.folder.toolsDirectory + "/" + digest) {
                return String(decoding: data, as: UTF8.self)
            }
        }
        return "(tools/\(digest) is missing)"
    }
}
