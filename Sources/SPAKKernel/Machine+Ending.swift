import Foundation
import SPAKDiagnostics
import SPAKSyntax

/// How a run ends (completed, failed, a budget exceeded), and the exported files written
/// whenever it stops.
extension Machine {
    func finish() throws(RecordError) {
        let alreadyCompleted = state.status == .completed
        let (metrics, errors) = evaluateMetrics(nullWhereUnknown: true)
        state.status = .completed
        finalMetrics = metrics
        var fields: [String: Value] = ["metrics": .map(metrics)]
        if !errors.isEmpty { fields["metric_errors"] = .map(errors) }
        if !alreadyCompleted { log.append("run.completed", fields) }
        try checkpoint()
        try cassette?.finish()
        try export(RunRecord.Standing(status: "completed", metrics: metrics, metricErrors: errors))
    }

    /// Ends the run as failed: `at` is where (a location is put before the reason), `step` the
    /// step that failed when it has already ended (else the step in progress, if any).
    func fail(_ reason: String, at range: SourceRange?, step: String? = nil) throws(RecordError) {
        var message = secrets.redact(reason)
        var fields: [String: Value] = [:]
        if let range {
            let location = source.location(of: range.start)
            message = "\(programName):\(location): \(message)"
            fields["location"] = .string(location.description)
        }
        if let step = step ?? state.currentStep { fields["step"] = .string(step) }
        fields["reason"] = .string(message)
        state.status = .failed(reason: message)
        log.append("run.failed", fields)
        try closeFailed()
    }

    /// In a replay: ends the run the way the record says it ended, where what ended it (a
    /// command that could not be started) is not re-enacted.
    func failAsRecorded(_ event: [String: Value]) throws(RecordError) {
        let reason = event["reason"]?.textIfString ?? "failed"
        state.status = .failed(reason: reason)
        log.append("run.failed", event.filter { ["reason", "step", "location"].contains($0.key) })
        try closeFailed()
    }

    private func closeFailed() throws(RecordError) {
        try checkpoint()
        try cassette?.finish()
        try exportStanding()
    }

    /// A budget ran out (or, with `detail`, would run out before the next call): the run fails.
    func exceed(_ budget: String, limit: Double, used measured: Double, detail: String? = nil) throws(RecordError) {
        let used = replay?.recordedBudgetExceeded(budget)?["used"]?.number ?? measured
        log.append("budget.exceeded", ["budget": .string(budget), "limit": .float(limit), "used": .float(used)])
        let shown = budget == "wall_time" ? String(format: "%.1fs", used) : String(Int(used))
        let written = budget == "wall_time" ? "\(Int(limit))s" : String(Int(limit))
        try fail("budget `\(budget) <= \(written)` exceeded (\(detail ?? "used: \(shown)"))", at: nil)
    }

    /// The evaluation's metrics over the variables the run has now, and why each that cannot
    /// be evaluated cannot (`nullWhereUnknown`: such a metric is also in the values, as null).
    public func evaluateMetrics(nullWhereUnknown: Bool = false) -> (values: [String: Value], errors: [String: Value]) {
        var values: [String: Value] = [:]
        var errors: [String: Value] = [:]
        let evaluator = Evaluator(variables: state.variables)
        for metric in program.metrics {
            do {
                // A secret assembled from harmless parts is removed here too, as where values are bound.
                values[metric.name.name] = secrets.redact(try evaluator.evaluate(metric.value))
            } catch {
                if nullWhereUnknown { values[metric.name.name] = .null }
                errors[metric.name.name] = .string(secrets.redact(error.message))
            }
        }
        return (values, errors)
    }

    /// Brings `trace.json` and `metrics.json` up to the last snapshot, saying how the run
    /// stands now (`interruptedBy`: the signal that stopped it); a replay writes nothing.
    func exportStanding(interruptedBy signal: String? = nil) throws(RecordError) {
        guard replay == nil else { return }
        if case .completed = state.status {
            let (metrics, errors) = evaluateMetrics(nullWhereUnknown: true)
            try export(RunRecord.Standing(status: "completed", metrics: metrics, metricErrors: errors))
            return
        }
        var details: [String: Value] = [:]
        let status: String
        switch state.status {
        case .failed(let reason):
            status = "failed"
            details["reason"] = .string(reason)
        case .suspended(let pending):
            status = "suspended"
            details["waiting"] = .map(["index": .int(pending.index), "effect": .string(pending.effect), "step": .string(pending.step)])
        case .ready, .completed:
            status = signal == nil ? "paused" : "interrupted"
            if let signal { details["interrupted_by"] = .string(signal) }
            if let step = state.currentStep { details["in_step"] = .string(step) }
        }
        let (metrics, errors) = evaluateMetrics()
        try export(RunRecord.Standing(status: status, details: details, metrics: metrics, metricErrors: errors))
    }

    /// An ended run's files are written again from the whole log and synced (see `RunRecord`).
    private func export(_ standing: RunRecord.Standing) throws(RecordError) {
        guard replay == nil else { return }
        try RunRecord.export(folder: folder, state: state, programHash: programHash, standing: standing,
                             final: state.status.isFinal)
    }

    /// Writes the trace and metrics of an ended run again if a crash came between its final
    /// snapshot and their export; returns whether it had to.
    public func exportIfBehind() throws(RecordError) -> Bool {
        guard state.status.isFinal, RunRecord.isBehind(folder: folder, state: state) else { return false }
        try exportStanding()
        return true
    }
}
