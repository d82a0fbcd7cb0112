import ArgumentParser
import SPAKMCP

/// `spak mcp`: serve runs to an agent client (Gemini CLI, Claude Code, any MCP host) over
/// the Model Context Protocol on standard input and output.
struct McpCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve runs to an agent client over the Model Context Protocol (stdio).",
        discussion: """
            Tools: check, start_run, status, pending, respond, step, trace, fork, list_runs; \
            resources: each run's trace.json, metrics.json and pending prompt \
            (spak://runs/ID/FILE). The client is the latent simulator: a run waits at each \
            llm.query, the client reads the prompt and answers it with respond, and the answer \
            is recorded as given by the client. Runs are ordinary run folders under \
            ROOT/.spak/runs: the command line can resume them, and the server can answer runs \
            the command line started. Programs outside ROOT are refused. With --live, \
            tool.run commands that a program's allow lines admit are executed; a client cannot \
            grant it. Standard output carries the protocol only; messages go to standard \
            error. See docs/mcp.md. Exit codes: 0 the client closed the connection, 2 usage \
            (a root that is not a folder).
            """
    )

    @Option(help: ArgumentHelp("The folder the server acts under: programs are read, and runs kept (in .spak/runs), beneath it.",
                               valueName: "DIR"))
    var root = "."

    @Flag(help: "Execute tool.run commands that the programs' allow lines admit (granted here, never by a client).")
    var live = false

    func execute(io: CommandIO) -> ExitStatus {
        let service: RunService
        do { service = try RunService(root: root, live: live) } catch {
            io.err("spak: error: \(error)\n")
            return .usageOrIO
        }
        MCPStdio.serve(MCPSession(service: service, version: Spak.configuration.version))
        return .success
    }
}
