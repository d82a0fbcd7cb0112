/// The text of `pending/prompt.md`, for a person to read and answer.
enum PendingText {
    static func prompt(_ pending: PendingRequest, runID: String) -> String {
        var text = "# \(pending.effect) in step `\(pending.step)` (program.spak:\(pending.location)), request \(pending.index)\n\n"
        let request = pending.request.fields
        if pending.effect == "llm.query" {
            if let system = request["system"]?.text { text += "## System\n\n\(system)\n\n" }
            text += "## Prompt\n\n\(request["prompt"]?.text ?? "")\n\n"
            if request["format"] == .string("json") { text += "(The answer must be JSON.)\n\n" }
        } else {
            text += "## Command (not run: the run is not --live)\n\n    \(request["argv"]?.text ?? "")\n\n"
            text += "Answer with the command's output, or a JSON object such as {\"exit_code\": 0, \"stdout\": \"...\"}.\n\n"
        }
        text += "---\nWrite the answer to response.txt in this run's folder, then run:\n\n    spak step --resume \(runID)\n"
        return text
    }
}
