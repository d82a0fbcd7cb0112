/// The text of `pending/prompt.md`, for a person to read and answer.
enum PendingText {
    /// `program` is the program's file as locations name it; `resume` the command that goes
    /// on once the answer is written, `live` the one that executes a waiting `tool.run`.
    static func prompt(_ pending: PendingRequest, program: String, resume: String, live: String) -> String {
        var text = "# \(pending.effect) in step `\(pending.step)` (\(program):\(pending.location)), request \(pending.index)\n\n"
        let request = pending.request.fields
        if pending.effect == "llm.query" {
            if let system = request["system"]?.text { text += "## System\n\n\(system)\n\n" }
            text += "## Prompt\n\n\(request["prompt"]?.text ?? "")\n\n"
            if let schema = request["schema"] {
                text += "## Schema\n\nThe answer must be JSON matching this JSON Schema (it is checked when it arrives):\n\n"
                    + "```json\n\(JSON.serialize(schema))\n```\n\n"
            } else if request["format"] == .string("json") {
                text += "(The answer must be JSON.)\n\n"
            }
        } else {
            text += "## Command (not run: the run is not --live)\n\n    \(ShellWords.line(request["argv"]))\n\n"
            text += "To run it, go on with `\(live)` (its allow lines admit it). To answer by hand, write the "
                + "command's output, or a JSON object such as {\"exit_code\": 0, \"stdout\": \"...\"}, as below.\n\n"
        }
        text += "---\nWrite the answer to response.txt in this run's folder, then run:\n\n    \(resume)\n"
        return text
    }
}
