import Foundation
import SPAKDiagnostics
import SPAKSyntax

/// A read-only look at a run (`spak status`): its snapshot, pending request and budgets.
public struct RunView {
    /// The run's folder.
    public let folder: RunFolder
    /// `run.json`: id, task, parameters, created (and `fork` for a forked run).
    public let info: [String: Value]
    /// `state.json`: the last snapshot.
    public let state: MachineState
    /// The program's budgets: limit by budget name (`llm.calls`, `llm.tokens`, `tool.runs`, `wall_time`).
    public let budgets: [String: Double]

    /// Reads a run's record without taking its lock or changing anything.
    public init(_ reference: String, runsDirectory: String) throws(RecordError) {
        folder = try RunStore.resolve(reference, runsDirectory: runsDirectory)
        info = try folder.readJSON(folder.runFile).fields
        guard let state = MachineState(decoding: try folder.readJSON(folder.stateFile)) else {
            throw RecordError("\(folder.stateFile) is not a state this version of spak wrote", kind: .corrupt)
        }
        self.state = state
        let source = FileManager.default.contents(atPath: folder.programFile).map { Array($0) } ?? []
        let task = SPAKParser.parse(SourceFile(path: folder.programFile, validatedBytes: source)).program.task
        budgets = task.map { LoweredProgram($0).budgets } ?? [:]
    }

    /// The program's file as the run was started with it (`run.json`'s `source`): the name
    /// locations are given with.
    public var programName: String { info["source"]?.textIfString ?? "program.spak" }

    /// The budgets a run spends (`llm.calls`, `llm.tokens`, `tool.runs`, `wall_time`); the
    /// others (`tool.timeout`, `tool.output`, `tool.cpu`, `tool.memory`) cap each call.
    public static let spentBudgets: Set<String> = ["llm.calls", "llm.tokens", "tool.runs", "wall_time"]

    /// The counters a budget limits, by budget name.
    public var used: [String: Double] {
        ["llm.calls": Double(state.counters.llmCalls), "llm.tokens": Double(state.counters.tokens),
         "tool.runs": Double(state.counters.toolRuns), "wall_time": state.counters.activeSeconds]
    }

    /// For a person.
    public var text: String {
        var out = "run:     \(folder.id)\ntask:    \(info["task"]?.textIfString ?? "?")\nstatus:  \(state.status.name)\n"
        switch state.status {
        case .suspended(let pending):
            out += "waiting: \(pending.effect) in step `\(pending.step)` (\(programName):\(pending.location)), request \(pending.index)\n"
            out += "         prompt in \(folder.promptFile); answer in \(folder.responseFile)\n"
        case .failed(let reason):
            out += "reason:  \(reason)\n"
        default:
            if let step = state.currentStep { out += "in step: \(step)\n" }
        }
        let counters = state.counters
        out += "steps:   \(counters.steps)   llm calls: \(counters.llmCalls)   tool runs: \(counters.toolRuns)   tokens: \(counters.tokens)\(counters.estimatedTokens > 0 ? " (\(counters.estimatedTokens) estimated)" : "")\n"
        out += budgetLines
        out += "variables:\n"
        for (name, value) in state.variables.sorted(by: { $0.key < $1.key }) {
            var shown = JSON.serialize(value)
            if shown.count > 100 { shown = String(shown.prefix(97)) + "..." }
            out += "  \(name) = \(shown)\n"
        }
        return out
    }

    /// The budgets, spent against their limits, then the per-call caps, a line each.
    public var budgetLines: String {
        var out = ""
        let spent = budgets.filter { Self.spentBudgets.contains($0.key) }
        if !spent.isEmpty {
            out += "budgets (spent of limit):\n"
            for (name, limit) in spent.sorted(by: { $0.key < $1.key }) {
                out += "  \(name): \(Self.number(used[name] ?? 0)) of \(Self.number(limit))\(name == "wall_time" ? " s" : "")\n"
            }
        }
        let caps = budgets.filter { !Self.spentBudgets.contains($0.key) }
        if !caps.isEmpty {
            out += "per-call caps (each tool.run):\n"
            for (name, limit) in caps.sorted(by: { $0.key < $1.key }) {
                let unit = name == "tool.timeout" || name == "tool.cpu" ? " s" : " bytes"
                out += "  \(name): \(Self.number(limit))\(unit)\n"
            }
        }
        return out
    }

    /// A whole number without a fraction, others with up to three decimals.
    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.3f", value)
    }

    /// For tools: the snapshot plus the run's identity and budgets.
    public var json: String {
        var document = state.encoded(programHash: info["program_hash"]?.textIfString ?? "").fields
        document["run"] = .map(info)
        document["budgets"] = .map(Dictionary(uniqueKeysWithValues: budgets.filter { Self.spentBudgets.contains($0.key) }.map { name, limit in
            (name, Value.map(["limit": .float(limit), "used": .float(used[name] ?? 0)]))
        }))
        document["caps"] = .map(budgets.filter { !Self.spentBudgets.contains($0.key) }.mapValues(Value.float))
        return JSON.serialize(.map(document)) + "\n"
    }
}
