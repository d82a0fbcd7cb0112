import Foundation
import SPAKDiagnostics

/// Where a replayed program first did something other than its record, in plain words: the
/// event the record holds beside the one the program logged, their difference, where in the
/// program it happened, and what probably caused it.
public struct Divergence: Sendable, CustomStringConvertible {
    /// The recorded event (`nil`: the record had ended).
    public let recorded: [String: Value]?
    /// The event the program logged (`nil`: the program ended first).
    public let replayed: [String: Value]?
    /// The step in progress.
    public let step: String?
    /// `FILE:LINE:COLUMN` in the replayed program, where known.
    public let location: String?
    /// The most likely reason, from comparing the recorded program with the replayed one.
    public let cause: String

    public var description: String {
        var out = "the program diverges from the record"
        if case .int(let seq)? = recorded?["seq"] { out += " at event \(seq)" }
        var place: [String] = []
        if let step { place.append("step `\(step)`") }
        if let location { place.append(location) }
        if !place.isEmpty { out += " (" + place.joined(separator: ", ") + ")" }
        out += "\n  the record holds: " + (recorded.map(Self.summary) ?? "nothing more (the recorded run ended here)")
        out += "\n  the program now:  " + (replayed.map(Self.summary) ?? "nothing more (it ends here)")
        if let recorded, let replayed,
           let old = EventComparison.essence(of: recorded), let new = EventComparison.essence(of: replayed) {
            let difference = Self.difference(.map(old), .map(new), path: "")
            if !difference.isEmpty { out += "\n" + String(difference.dropLast()) }
        }
        out += "\n  probable cause: " + cause
        return out
    }

    /// One line saying what an event is.
    static func summary(_ event: [String: Value]) -> String {
        let type = event["type"]?.textIfString ?? "?"
        func field(_ key: String) -> String { event[key].map { $0.textIfString ?? JSON.serialize($0) } ?? "?" }
        switch type {
        case "run.started": return "the run starts (task `\(field("task"))`)"
        case "step.started": return "step `\(field("step"))` begins"
        case "step.finished": return "step `\(field("step"))` ends (\(field("outcome")))"
        case "var.bound": return "`\(field("name"))` is bound"
        case "effect.requested": return "\(field("effect")) is asked (request \(field("index")))"
        case "effect.answered": return "the answer to request \(field("index")) (\(field("effect")))"
        case "effect.refused": return "\(field("effect")) is refused"
        case "invariant.checked":
            return "invariant `\(field("name"))` is checked: it \(event["ok"] == .bool(true) ? "holds" : "does not hold")"
        case "retry": return "step `\(field("step"))` is retried from `\(field("target"))`"
        case "budget.exceeded": return "budget `\(field("budget"))` runs out"
        case "run.completed": return "the run completes"
        case "run.failed": return "the run fails: \(field("reason"))"
        case "run.suspended": return "waits for an answer to request \(field("index")) (\(field("effect"))), which the record does not hold"
        default: return type
        }
    }

    /// The differing fields of two values, each under its path: texts of several lines as a
    /// line diff, other values as `-` recorded and `+` now.
    static func difference(_ old: Value, _ new: Value, path: String) -> String {
        guard old != new else { return "" }
        if case .map(let a) = old, case .map(let b) = new {
            return Set(a.keys).union(b.keys).sorted().map { key in
                difference(a[key] ?? .null, b[key] ?? .null, path: path.isEmpty ? key : path + "." + key)
            }.joined()
        }
        if case .string(let a) = old, case .string(let b) = new, a.contains("\n") || b.contains("\n") {
            return "  \(path):\n" + LineDiff.unified(from: a, to: b).split(separator: "\n", omittingEmptySubsequences: false)
                .dropLast().map { "    " + $0 }.joined(separator: "\n") + "\n"
        }
        func shown(_ value: Value) -> String {
            let text = JSON.serialize(value)
            return text.count > 300 ? String(text.prefix(299)) + "…" : text
        }
        return "  \(path):\n    - \(shown(old))\n    + \(shown(new))\n"
    }
}

/// Finds the probable cause of a divergence by comparing the program (and templates) a run
/// recorded with the program replayed against it.
struct DivergenceCause {
    let old: ProgramOutline
    let new: ProgramOutline
    /// A template's text in the run's copy and now (for `template:` paths).
    let templates: (String) -> (recorded: String?, now: String?)
    /// The name the replayed program is shown under.
    let newName: String

    func explain(recorded: [String: Value]?, replayed: [String: Value]?, at range: SourceRange?) -> String {
        guard let recorded else { return "the program goes on past the end of the run it is replayed against" + edited }
        guard let replayed else { return "the program ends where the run went on" + edited }
        let oldType = recorded["type"]?.textIfString ?? ""
        let newType = replayed["type"]?.textIfString ?? ""
        func text(_ key: String, _ event: [String: Value]) -> String { event[key]?.textIfString ?? "" }
        if oldType == "effect.requested", newType == "effect.requested", text("effect", recorded) == text("effect", replayed) {
            return requestCause(recorded, replayed, at: range)
        }
        if oldType == "step.started", newType == "step.started" {
            let was = text("step", recorded), now = text("step", replayed)
            var cause = "the program runs step `\(now)` where the run ran step `\(was)`"
            if new.steps[was] == nil { cause += "; step `\(was)` is no longer in the program" }
            if old.steps[now] == nil { cause += "; step `\(now)` is new" }
            return cause
        }
        if oldType == "var.bound", newType == "var.bound" {
            let was = text("name", recorded), now = text("name", replayed)
            guard was == now else {
                return "the program binds `\(now)` where the run bound `\(was)`: statements were added, removed or reordered"
                    + (range.map { " before \(newName):\(new.line($0))" } ?? "")
            }
            return valueCause(was)
        }
        if oldType == "invariant.checked", newType == "invariant.checked" {
            return namedCause("invariant", text("name", recorded), old.invariants, new.invariants)
                ?? namedCause("invariant", text("name", replayed), old.invariants, new.invariants)
                ?? "the invariant's outcome differs though its text did not change: a value it reads differs" + edited
        }
        if oldType == "run.completed", newType == "run.completed" {
            let names = Set(recorded["metrics"]?.fields.keys ?? [:].keys).union(replayed["metrics"]?.fields.keys ?? [:].keys)
            for name in names.sorted() {
                if let cause = namedCause("metric", name, old.metrics, new.metrics) { return cause }
            }
            return "the metrics differ though their text did not change" + edited
        }
        return "the program's flow changed: the run's record has \(Divergence.summary(recorded)) here" + edited
    }

    /// A request that differs: its template file, its call, or the values it renders.
    private func requestCause(_ recorded: [String: Value], _ replayed: [String: Value], at range: SourceRange?) -> String {
        let request = replayed["request"]?.fields ?? [:]
        if let path = request["template"]?.textIfString {
            let (was, now) = templates(path)
            if let was, let now, let line = LineDiff.firstChangedLine(from: was, to: now) {
                return "the prompt template changed at \(path):\(line)"
            }
            if now == nil { return "the prompt template \(path) cannot be read" }
        }
        if let location = recorded["location"]?.textIfString, let oldCall = old.effect(at: location), let range,
           old.text(oldCall, limit: 10_000) != new.text(range, limit: 10_000) {
            return "the call at \(newName):\(new.line(range)) was edited (the run's program had `\(old.text(oldCall))` at line \(old.source.location(of: oldCall.start).line))"
        }
        if (recorded["request"]?.fields["template"]) != request["template"] {
            return "the call now names another template"
        }
        return "the request is built the same way from values that differ from the run's" + edited
    }

    /// A bound value that differs: its `let` or the effect binding it.
    private func valueCause(_ name: String) -> String {
        let oldTexts = (old.lets[name] ?? []).map { old.text($0) }
        for range in new.lets[name] ?? [] where !oldTexts.contains(new.text(range)) {
            let was = oldTexts.first.map { " (the run had `\($0)`)" } ?? ""
            return "`let \(name)` was edited at \(newName):\(new.line(range))\(was)"
        }
        let oldCalls = (old.bindings[name] ?? []).map { old.text($0, limit: 10_000) }
        for range in new.bindings[name] ?? [] where !oldCalls.contains(new.text(range, limit: 10_000)) {
            return "the call binding `\(name)` was edited at \(newName):\(new.line(range))"
        }
        return "the value of `\(name)` differs though the statements binding it did not change" + edited
    }

    /// An invariant or metric whose text changed, was added or was removed.
    private func namedCause(_ kind: String, _ name: String, _ was: [String: SourceRange], _ now: [String: SourceRange]) -> String? {
        switch (was[name], now[name]) {
        case (let a?, let b?) where old.text(a, limit: 10_000) != new.text(b, limit: 10_000):
            return "\(kind) `\(name)` was edited at \(newName):\(new.line(b)) (the run had `\(old.text(a))`)"
        case (nil, let b?): return "\(kind) `\(name)` is new (\(newName):\(new.line(b)))"
        case (_?, nil): return "\(kind) `\(name)` was removed"
        default: return nil
        }
    }

    /// Where the program text first differs from the run's, when it does.
    private var edited: String {
        guard let line = LineDiff.firstChangedLine(from: old.source.text, to: new.source.text) else { return "" }
        return " (the program differs from the run's from line \(line))"
    }
}
