import SPAKKernel

extension RunService {
    /// Where a run stopped, as text and as JSON: its id and status, the request it waits at,
    /// why it failed, or its metrics.
    static func outcome(_ stop: Machine.Stop, machine: Machine) -> Output {
        let id = machine.runFolder.id
        let counters = machine.state.counters
        var fields: [String: Value] = [
            "run": .string(id),
            "counters": .map(["steps": .int(counters.steps), "llm_calls": .int(counters.llmCalls), "tool_runs": .int(counters.toolRuns),
                              "tokens": .int(counters.tokens)]),
        ]
        var text: String
        switch stop {
        case .completed:
            fields["status"] = .string("completed")
            fields["metrics"] = .map(machine.finalMetrics)
            text = "run \(id) completed\n" + machine.finalMetrics.keys.sorted().map { "  metric \($0) = \(machine.finalMetrics[$0]!.text)\n" }.joined()
        case .failed(let reason):
            fields["status"] = .string("failed")
            fields["reason"] = .string(reason)
            text = "run \(id) failed: \(reason)\n"
        case .suspended(let pending):
            fields["status"] = .string("suspended")
            fields["pending"] = pendingValue(pending, program: machine.programName)
            text = "run \(id) waits for an answer (use respond):\n" + describe(pending, program: machine.programName)
        case .paused:
            fields["status"] = .string("paused")
            text = "run \(id) paused after a step (use step to go on)\n"
        case .interrupted(let signal):
            fields["status"] = .string("interrupted")
            text = "run \(id) was interrupted by \(Interruption.name(of: signal)) (use step to go on)\n"
        }
        return Output(text: text, structured: .map(fields))
    }

    /// The request as JSON: effect, step, where in the program, the prompt or command, and
    /// the whole request.
    static func pendingValue(_ pending: PendingRequest, program: String) -> Value {
        var fields: [String: Value] = ["index": .int(pending.index), "effect": .string(pending.effect), "step": .string(pending.step),
                                       "location": .string("\(program):\(pending.location)"), "request": pending.request]
        if let prompt = pending.request.fields["prompt"] { fields["prompt"] = prompt }
        if let command = command(of: pending) { fields["command"] = .string(command) }
        return .map(fields)
    }

    /// A `tool.run` request's command, its words joined by spaces.
    static func command(of pending: PendingRequest) -> String? {
        guard case .list(let words)? = pending.request.fields["argv"] else { return nil }
        return words.map(\.text).joined(separator: " ")
    }

    /// The request for a person: what is asked, in which step, and the prompt or command.
    static func describe(_ pending: PendingRequest, program: String) -> String {
        var text = "\(pending.effect) in step `\(pending.step)` (\(program):\(pending.location))\n"
        if let prompt = pending.request.fields["prompt"]?.textIfString { text += "\n" + prompt + "\n" }
        if let command = command(of: pending) {
            text += "\ncommand: \(command)\nanswer with the result as JSON ({\"exit_code\": 0, \"stdout\": \"…\"}) or with its output\n"
        }
        return text
    }
}
