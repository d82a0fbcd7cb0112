import Foundation
import SPAKKernel

/// A recorded run as the trace tools read it: its identity, snapshot, budgets, final
/// metrics and history. Reading changes nothing and takes no lock.
public struct TracedRun {
    /// `run.json`, the snapshot and the budgets (what `spak status` shows).
    public let view: RunView
    /// The run's events, with its ancestors' before a fork point.
    public let history: RunHistory
    /// `metrics.json` as the run's last stop wrote it (`nil` when there is none, or when it
    /// cannot be read because another process is updating it this instant).
    public let metricsFile: [String: Value]?

    /// Opens a run by id (under `runsDirectory`) or by folder path.
    public init(_ reference: String, runsDirectory: String) throws(RecordError) {
        view = try RunView(reference, runsDirectory: runsDirectory)
        history = try RunHistory(view.folder)
        metricsFile = try? RunHistory.readJSON(view.folder.metricsFile).fields
    }

    /// The run's id: its folder's name (what `spak runs` lists).
    public var id: String { view.folder.id }
    /// The task's name.
    public var task: String { view.info["task"]?.textIfString ?? "?" }
    /// `ready`, `suspended`, `completed` or `failed`.
    public var status: String { view.state.status.name }
    /// `run.json`'s `fork` field, for a forked run.
    public var fork: [String: Value]? { view.info["fork"]?.fields }

    /// The final metrics: from `metrics.json`, else from the `run.completed` event among `events`.
    public func metrics(events: [TraceEvent]) -> [String: Value] {
        if let metrics = metricsFile?["metrics"]?.fields { return metrics }
        return events.last(where: { $0.type == "run.completed" })?["metrics"]?.fields ?? [:]
    }

    /// The kernel's counters that the trace tools compare, from the snapshot.
    public var counters: [String: Value] {
        let counters = view.state.counters
        return ["steps": .int(counters.steps), "llm_calls": .int(counters.llmCalls), "tool_runs": .int(counters.toolRuns),
                "tokens": .int(counters.tokens), "active_seconds": .float(counters.activeSeconds)]
    }

    /// `{"run", "task", "status"}`.
    public var identity: Value {
        .map(["run": .string(id), "task": .string(task), "status": .string(status)])
    }
}
