import MCP

/// The tools `spak mcp` offers, with their input schemas, and how a call reaches the service.
enum ToolCatalog {
    private static func schema(_ properties: [String: MCP.Value], required: [String]) -> MCP.Value {
        .object(["type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) }),
                 "additionalProperties": false])
    }

    private static func string(_ description: String) -> MCP.Value {
        .object(["type": "string", "description": .string(description)])
    }

    private static func boolean(_ description: String) -> MCP.Value {
        .object(["type": "boolean", "description": .string(description)])
    }

    private static let run = string("A run's id (see list_runs).")

    /// Every tool.
    static let tools: [Tool] = [
        Tool(name: "check", description: "Check a .spak program: every syntax and semantic error, with file:line:col.",
             inputSchema: schema(["path": string("The program's path, relative to the server's root.")], required: ["path"]),
             annotations: .init(readOnlyHint: true)),
        Tool(name: "start_run",
             description: "Check a program, start a run, and execute until it ends or waits for an answer (an llm.query, or a tool.run when the server is not --live). The result holds the pending prompt.",
             inputSchema: schema([
                 "program": string("The program's path, relative to the server's root."),
                 "params": .object(["type": "object", "description": "Task parameters by name (strings, numbers, booleans, lists, maps).",
                                    "additionalProperties": true]),
                 "workspace": string("The folder tool.read, tool.write and tool.run work in, relative to the root (default: the run's own workspace/)."),
                "step": boolean("Execute only the first step, then pause."),
             ], required: ["program"])),
        Tool(name: "status", description: "A run's state: where it is, the pending request, its variables and budgets.",
             inputSchema: schema(["run": run], required: ["run"]), annotations: .init(readOnlyHint: true)),
        Tool(name: "pending", description: "The request a run waits at: the rendered prompt (or command) and the whole request.",
             inputSchema: schema(["run": run], required: ["run"]), annotations: .init(readOnlyHint: true)),
        Tool(name: "respond",
             description: "Answer the request a run waits at (the model's reply, or a command's result), record it, and execute until the run ends or waits again.",
             inputSchema: schema(["run": run, "answer": string("The answer: the reply text, or for a tool.run its result as JSON or its output.")],
                                 required: ["run", "answer"])),
        Tool(name: "step", description: "Execute the next step of a paused run, then pause again.",
             inputSchema: schema(["run": run], required: ["run"])),
        Tool(name: "trace", description: "A run as a readable timeline (spak trace show).",
             inputSchema: schema(["run": run, "full": boolean("Show prompts and answers whole.")], required: ["run"]),
             annotations: .init(readOnlyHint: true)),
        Tool(name: "fork",
             description: "Start a new run from the state before a step of a run (STEP, or STEP#N for its Nth start), optionally answering its first request.",
             inputSchema: schema(["run": run, "at": string("STEP or STEP#N."), "answer": string("The answer to the new run's first request.")],
                                 required: ["run", "at"])),
        Tool(name: "list_runs", description: "Every run under the server's root.", inputSchema: schema([:], required: []),
             annotations: .init(readOnlyHint: true)),
    ]

    /// Calls the tool a request names, with its arguments checked against the schema.
    static func call(_ name: String, _ arguments: [String: MCP.Value], on service: RunService) throws -> RunService.Output {
        guard let tool = tools.first(where: { $0.name == name }) else {
            throw MCPError.invalidParams("unknown tool `\(name)`; the tools are \(tools.map(\.name).joined(separator: ", "))")
        }
        try checkArguments(arguments, against: tool)
        func text(_ key: String) -> String? { arguments[key]?.stringValue }
        func flag(_ key: String) -> Bool { arguments[key]?.boolValue ?? false }
        switch name {
        case "check": return try service.check(path: text("path")!)
        case "start_run":
            var parameters: [String: String] = [:]
            for (key, value) in arguments["params"]?.objectValue ?? [:] {
                guard let text = ValueBridge.parameterText(value) else {
                    throw MCPError.invalidParams("params.\(key): give a string, number, boolean, list or map")
                }
                parameters[key] = text
            }
            return try service.start(path: text("program")!, parameters: parameters, workspace: text("workspace"), step: flag("step"))
        case "status": return try service.status(run: text("run")!)
        case "pending": return try service.pending(run: text("run")!)
        case "respond": return try service.respond(run: text("run")!, answer: text("answer")!)
        case "step": return try service.step(run: text("run")!)
        case "trace": return try service.trace(run: text("run")!, full: flag("full"))
        case "fork": return try service.fork(run: text("run")!, at: text("at")!, answer: text("answer"))
        default: return service.listRuns()
        }
    }

    /// Required arguments present, no unknown ones, and each of its schema's type.
    private static func checkArguments(_ arguments: [String: MCP.Value], against tool: Tool) throws {
        guard case .object(let schema) = tool.inputSchema, case .object(let properties)? = schema["properties"] else { return }
        for case .string(let key) in schema["required"]?.arrayValue ?? [] where arguments[key] == nil {
            throw MCPError.invalidParams("\(tool.name): `\(key)` is required")
        }
        for (key, value) in arguments {
            guard case .object(let property)? = properties[key], case .string(let type)? = property["type"] else {
                throw MCPError.invalidParams("\(tool.name): unknown argument `\(key)` (it takes \(properties.keys.sorted().joined(separator: ", ")))")
            }
            let matches = switch (type, value) {
            case ("string", .string), ("boolean", .bool), ("object", .object): true
            default: false
            }
            guard matches else { throw MCPError.invalidParams("\(tool.name): `\(key)` must be a \(type)") }
        }
    }
}
