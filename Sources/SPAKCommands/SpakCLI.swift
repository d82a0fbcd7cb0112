import ArgumentParser

/// A subcommand that runs against injected I/O and returns its exit code.
protocol SpakSubcommand: ParsableCommand {
    func execute(io: CommandIO) -> ExitStatus
}

/// The root command: only a name, help text and the subcommands.
struct Spak: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spak",
        abstract: "SPAK: a deterministic agent kernel.",
        discussion: """
            Agents are .spak programs: steps, effects (tool.read, tool.write, tool.run, llm.query), \
            invariants and metrics. Exit codes: 0 success, 1 errors in the input or a failed run, \
            2 usage or I/O error, 3 run suspended (waiting for an answer), 4 no such run or an \
            unusable run record, 5 run in use by another process, 6 run suspended because its \
            answer source failed (a model server that gave up; resume it later), 7 a replay \
            diverged from its record (or a cassette held no answer), 8 `spak improve` found \
            nothing better than the original.
            """,
        version: "0.1.0",
        subcommands: [CheckCommand.self, ParseCommand.self, FormatCommand.self, RunCommand.self, StepCommand.self,
                      StatusCommand.self, RunsCommand.self, ReplayCommand.self, ForkCommand.self, TestCommand.self, AnalyzeCommand.self, ImproveCommand.self,
                      TraceCommand.self, McpCommand.self]
    )
}

/// Entry point shared by the executable and the tests.
public enum SpakCLI {
    /// Parses `arguments` (without the program name), runs the command, returns the exit code.
    public static func run(_ arguments: [String], io: CommandIO = .standard) -> Int32 {
        do {
            var command = try Spak.parseAsRoot(arguments)
            if let subcommand = command as? SpakSubcommand { return subcommand.execute(io: io).rawValue }
            // The root command and ArgumentParser's own `help` end by throwing a clean exit
            // that carries the right help text.
            try command.run()
            return ExitStatus.success.rawValue
        } catch {
            let message = Spak.fullMessage(for: error)
            if Spak.exitCode(for: error).isSuccess {
                io.out(message + "\n")
                return ExitStatus.success.rawValue
            }
            io.err(message + "\n")
            return ExitStatus.usageOrIO.rawValue
        }
    }
}
