import SPAKKernel

/// The tools `spak mcp` offers, with their input schemas, and how a call reaches the service.
enum ToolCatalog {
    private static func schema(_ properties: [String: Value], required: [String]) -> Value {
        .map(["type": .string("object"), "properties": .map(properties), "required": .list(required.map(Value.string)),
              "additionalProperties": .bool(false)])
    }

    private static func string(_ description: String) -> Value {
        .map(["type": .string("string"), "description": .string(description)])
    }

    private static func boolean(_ description: String) -> Value {
        .map(["type": .string("boolean"), "description": .string(description)])
    }

    private static let run = string("A run's id (see list_runs).")

    /// One tool: its name, what it does, its arguments' schema, and whether it only reads.
    struct Tool {
        let name: String
        let description: String
        let inputSchema: Value
        var readOnly = false

        var value: Value {
            .map(["name": .string(name), "description": .string(description), "inputSchema": inputSchema,
                  "annotations": .map(["readOnlyHint": .bool(readOnly), "destructiveHint": .bool(false), "openWorldHint": .bool(false)])])
        }
    }

    /// Every tool, in the order `tools/list` gives them.
    static let tools: [Tool] = [
        Tool(name: "check", description: "Check a .spak program: every syntax and semantic error, with file:line:col.",
             inputSchema: schema(["path": string("The program's path, relative to the server's root.")], required: ["path"]),
             readOnly: true),
        Tool(name: "start_run",
             description: "Check a program, start a run, and execute until it ends or waits for an answer (an llm.query, or a tool.run when the server is not --live). The result holds the pending prompt.",
             inputSchema: schema([
                 "program": string("The program's path, relative to the server's root."),
                 "params": .map(["type": .string("object"), "additionalProperties": .bool(true),
                                 "description": .string("Task parameters by name (strings, numbers, booleans, lists, maps).")]),
                 "workspace": string("The folder tool.read, tool.write and tool.run work in, relative to the root (default: the run's own workspace/)."),
                 "step": boolean("Execute only the first step, then pause."),
             ], required: ["program"])),
        Tool(name: "status", description: "A run's state: where it is, the pending request, its variables and budgets.",
             inputSchema: schema(["run": run], required: ["run"]), readOnly: true),
        Tool(name: "pending", description: "The request a run waits at: the rendered prompt (or command) and the whole request.",
             inputSchema: schema(["run": run], required: ["run"]), readOnly: true),
        Tool(name: "respond",
             description: "Answer the request a run waits at (the model's reply, or a command's result), record it, and execute until the run ends or waits again.",
             inputSchema: schema(["run": run, "answer": string("The answer: the reply text, or for a tool.run its result as JSON or its output."),
                                  "index": .map(["type": .string("integer"),
                                                 "description": .string("The request's index (from pending): refused if the run waits at another, so a retried call cannot answer the next question.")])],
                                 required: ["run", "answer"])),
        Tool(name: "step", description: "Execute the next step of a paused run, then pause again.",
             inputSchema: schema(["run": run], required: ["run"])),
        Tool(name: "trace", description: "A run as a readable timeline (spak trace show).",
             inputSchema: schema(["run": run, "full": boolean("Show prompts and answers whole.")], required: ["run"]), readOnly: true),
        Tool(name: "fork",
             description: "Start a new run from the state before a step of a run (STEP, or STEP#N for its Nth start), optionally answering its first request.",
             inputSchema: schema(["run": run, "at": string("STEP or STEP#N."), "answer": string("The answer to the new run's first request.")],
                                 required: ["run", "at"])),
        Tool(name: "list_runs", description: "Every run under the server's root.", inputSchema: schema([:], required: []), readOnly: true),
    ]

    /// Calls the tool a request names, with its arguments checked against the schema.
    static func call(_ name: String, _ arguments: [String: Value], on service: RunService) throws -> RunService.Output {
        guard let tool = tools.first(where: { $0.name == name }) else {
            throw ProtocolError.invalidParams("unknown tool `\(name)`; the tools are \(tools.map(\.name).joined(separator: ", "))")
        }
        try checkArguments(arguments, against: tool)
        func text(_ key: String) -> String? { arguments[key]?.textIfString }
        func flag(_ key: String) -> Bool { arguments[key] == .bool(true) }
        switch name {
        case "check": return try service.check(path: text("path")!)
        case "start_run":
            var parameters: [String: String] = [:]
            if case .map(let values)? = arguments["params"] {
                for (key, value) in values {
                    guard value != .null else { throw ProtocolError.invalidParams("start_run: params.\(key) is null; leave it out for its default") }
                    parameters[key] = value.text
                }
            }
            return try service.start(path: text("program")!, parameters: parameters, workspace: text("workspace"), step: flag("step"))
        case "status": return try service.status(run: text("run")!)
        case "pending": return try service.pending(run: text("run")!)
        case "respond":
            let index: Int? = if case .int(let number)? = arguments["index"] { number } else { nil }
            return try service.respond(run: text("run")!, answer: text("answer")!, index: index)
        case "step": return try service.step(run: text("run")!)
        case "trace": return try service.trace(run: text("run")!, full: flag("full"))
        case "fork": return try service.fork(run: text("run")!, at: text("at")!, answer: text("answer"))
        default: return service.listRuns()
        }
    }

    /// Required arguments present, no unknown ones, and each of its schema's type.
    private static func checkArguments(_ arguments: [String: Value], against tool: Tool) throws(ProtocolError) {
        guard case .map(let schema) = tool.inputSchema, case .map(let properties)? = schema["properties"] else { return }
        if case .list(let required)? = schema["required"] {
            for case .string(let key) in required where arguments[key] == nil {
                throw ProtocolError.invalidParams("\(tool.name): `\(key)` is required")
            }
        }
        for (key, value) in arguments {
            guard case .map(let property)? = properties[key], case .string(let type)? = property["type"] else {
                throw ProtocolError.invalidParams(
                    "\(tool.name): unknown argument `\(key)` (it takes \(properties.keys.sorted().joined(separator: ", ")))")
            }
            let matches = switch (type, value) {
            case ("string", .string), ("boolean", .bool), ("object", .map), ("integer", .int): true
            default: false
            }
            guard matches else { throw ProtocolError.invalidParams("\(tool.name): `\(key)` must be a \(type)") }
        }
    }
}
