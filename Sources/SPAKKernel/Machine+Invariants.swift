import SPAKDiagnostics
import SPAKSyntax

/// Invariants, the end of a step, and what a failed step's `on_fail` policy does.
///
/// An invariant is checked whenever a variable it reads is bound: at the end of a step for
/// what the step bound, right after a `let` between steps or a loop variable's binding, and
/// (for one that reads only parameters) once before the first step. It is evaluated only when
/// every variable it reads is current: bound, and not left stale by a retry.
extension Machine {
    /// Where an invariant is checked.
    enum CheckPoint {
        /// Before the first step (invariants over parameters only).
        case start
        /// At the end of a step, over what it bound.
        case step(String)
        /// Right after a `let` between steps, or a loop variable's binding (`loop`).
        case binding(String, loop: Bool)
    }

    /// Records the start of a run (`run.started`), then checks the invariants over parameters
    /// only: a violation fails the run at once, at the invariant (there is no step to retry).
    func begin(task: String, parameters: [String: Value]) throws(RecordError) {
        log.append("run.started", ["task": .string(task), "program_hash": .string(programHash), "parameters": .map(parameters)])
        try checkInitialInvariants()
    }

    private func checkInitialInvariants() throws(RecordError) {
        for index in program.initialInvariants {
            if let violation = check(index, at: .start) {
                try fail(violation, at: program.invariants[index].condition.range)
                return
            }
        }
    }

    /// After a binding outside any step: a violated invariant fails the run at once, at the
    /// binding.
    func checkInvariants(afterBinding name: String, at site: SourceRange, loop: Bool) throws(RecordError) {
        guard !program.invariants.isEmpty, let readers = program.invariantsReading[name] else { return }
        for index in readers {
            if let violation = check(index, at: .binding(name, loop: loop)) {
                try fail(violation, at: site)
                return
            }
        }
    }

    /// Ends a step: checks the invariants that read what it bound, then lets its policy act
    /// on the first violation, or finishes it.
    func endStep(_ name: String, policy: OnFailPolicy?) throws(RecordError) {
        var violation: (message: String, at: SourceRange)?
        if !program.invariants.isEmpty, !state.boundInStep.isEmpty {
            var readers = Set<Int>()
            for bound in state.boundInStep { readers.formUnion(program.invariantsReading[bound] ?? []) }
            for index in readers.sorted() {
                if let found = check(index, at: .step(name)), violation == nil {
                    violation = (found, program.invariants[index].condition.range)
                }
            }
        }
        if let violation {
            try violate(step: name, policy: policy, message: violation.message, kind: .invariant, at: violation.at)
            return
        }
        finishStep(name, outcome: "completed")
        if policy != nil {
            if state.variables[Feedback.text] != .string("") { bind(Feedback.text, .string("")) }
            if state.variables[Feedback.kind] != .string("") { bind(Feedback.kind, .string("")) }
        }
        state.pc += 1
    }

    /// Checks one invariant if every variable it reads is current, logging the check with the
    /// values it read; returns the violation's text when it does not hold.
    private func check(_ index: Int, at point: CheckPoint) -> String? {
        let invariant = program.invariants[index]
        var values: [String: Value] = [:]
        for name in invariant.names {
            guard let value = state.variables[name], !state.stale.contains(name) else { return nil }
            values[name] = value
        }
        let holds: Bool
        var problem: String?
        do {
            holds = try Evaluator(variables: state.variables).condition(invariant.condition, what: "invariant `\(invariant.name)`")
        } catch {
            holds = false
            problem = error.message
        }
        var fields: [String: Value] = ["name": .string(invariant.name), "ok": .bool(holds),
                                       "values": .map(values.mapValues(Self.abbreviated))]
        switch point {
        case .start: fields["when"] = .string("start")
        case .step(let step): fields["step"] = .string(step)
        case .binding(let name, _): fields["binding"] = .string(name)
        }
        if let problem { fields["error"] = .string(problem) }
        log.append("invariant.checked", fields)
        guard !holds else { return nil }
        let place: String
        switch point {
        case .start: place = "before the first step"
        case .step(let step): place = "after step `\(step)`"
        case .binding(let name, let loop): place = loop ? "when the loop variable `\(name)` was bound" : "after `let \(name)`"
        }
        let shown = values.keys.sorted().map { "\($0) = \(Self.shortJSON(values[$0]!))" }
        return "invariant `\(invariant.name)` (\(source.text(in: invariant.condition.range))) does not hold \(place)"
            + (problem.map { ": " + $0 } ?? (shown.isEmpty ? "" : "; " + shown.joined(separator: ", ")))
    }

    /// A value as an `invariant.checked` event records it: whole when its JSON is short, else
    /// the JSON's beginning and its size, so a long reply is not copied into the log at every check.
    private static func abbreviated(_ value: Value) -> Value {
        let text = JSON.serialize(value)
        guard text.utf8.count > 256 else { return value }
        return .string(String(text.prefix(200)) + "… (\(text.utf8.count) bytes of JSON)")
    }

    /// A value's JSON for a message, cut at 120 characters.
    private static func shortJSON(_ value: Value) -> String {
        let shown = JSON.serialize(value)
        return shown.count > 120 ? String(shown.prefix(117)) + "..." : shown
    }

    /// A run-time error: inside a step whose policy retries, the step fails and is retried
    /// like a broken invariant, with the error in `feedback`; otherwise (and for refusals,
    /// which no retry may route around) the run fails.
    func failStep(_ error: RuntimeError) throws(RecordError) {
        guard error.retryable, let step = state.currentStep, let policy = program.policies[step], case .retry = policy else {
            try fail(error.message, at: error.range)
            return
        }
        try violate(step: step, policy: policy, message: error.message, kind: .runtimeError, at: error.range)
    }

    /// A step broke an invariant, got an unusable answer or hit a run-time error (`at`: the
    /// invariant, the effect, the expression): retry as its policy says, or fail there.
    func violate(step: String, policy: OnFailPolicy?, message: String, kind: Feedback.Kind, at range: SourceRange) throws(RecordError) {
        let outcome = kind == .runtimeError ? "error" : "violated"
        // A run-time error's feedback says where, since its message alone does not.
        let feedback = kind == .runtimeError
            ? "step `\(step)` failed at \(programName):\(source.location(of: range.start)): \(message)" : message
        guard case .retry(let target, let bound)? = policy, case .integer(let spelling) = bound.kind,
              let limit = Int(spelling) else {
            finishStep(step, outcome: outcome)
            try fail(message, at: range, step: step)
            return
        }
        let used = state.retries[step] ?? 0
        guard used < limit, let targetStart = program.stepStarts[target.name] else {
            finishStep(step, outcome: outcome)
            try fail("\(message); step `\(step)` was retried \(used) time\(used == 1 ? "" : "s") (max \(limit))", at: range, step: step)
            return
        }
        state.retries[step] = used + 1
        finishStep(step, outcome: outcome)
        log.append("retry", ["step": .string(step), "target": .string(target.name), "attempt": .int(used + 1),
                             "max": .int(limit), "feedback": .string(feedback), "kind": .string(kind.rawValue)])
        retire(since: target.name)
        bind(Feedback.text, .string(feedback))
        bind(Feedback.kind, .string(kind.rawValue))
        state.enteringRetry = true
        state.pc = targetStart
    }

    /// A retry abandons the pass that began when `target` last began: what that pass bound
    /// keeps its value (a prompt may show the rejected answer), but is stale for invariants
    /// until the new pass binds it again, so none is ever checked on a value the retry is
    /// about to replace.
    private func retire(since target: String) {
        let since = state.startedAt[target] ?? 0
        for (name, tick) in state.boundAt where tick >= since && !Feedback.names.contains(name) {
            state.stale.insert(name)
        }
    }

    func finishStep(_ name: String, outcome: String) {
        let seconds = clock.now() - stepStart
        state.counters.steps += 1
        state.counters.stepTimes[name, default: .init()].runs += 1
        state.counters.stepTimes[name, default: .init()].seconds += seconds
        state.currentStep = nil
        log.append("step.finished", ["step": .string(name), "outcome": .string(outcome),
                                     "duration_ms": .float((seconds * 1e6).rounded() / 1000)])
    }
}
