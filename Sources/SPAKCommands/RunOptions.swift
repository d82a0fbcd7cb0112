import ArgumentParser
import Foundation
import SPAKBackends
import SPAKKernel

/// Options every run command shares.
struct RunsLocation: ParsableArguments {
    /// Where runs are kept unless `--runs-dir` says otherwise.
    static let defaultDirectory = ".spak/runs"

    @Option(help: "The folder that holds run folders.")
    var runsDir = RunsLocation.defaultDirectory
}

/// Whether `tool.run` commands really run.
struct LiveOptions: ParsableArguments {
    @Flag(help: "Execute tool.run commands that the program's allow lines admit (without it, a tool.run is answered like an llm.query).")
    var live = false

    @Option(name: .customLong("allow-write"), help: ArgumentHelp(
        "With --live, also let commands write beneath DIR (repeatable); they may always write in the workspace and /dev.",
        valueName: "DIR"))
    var writableRoots: [String] = []

    func validate() throws {
        if !live, !writableRoots.isEmpty { throw ValidationError("--allow-write needs --live") }
        for root in writableRoots where !FileManager.default.fileExists(atPath: root) {
            throw ValidationError("--allow-write \(root): no such folder")
        }
    }

    /// Lets the machine run commands, if `--live` was given.
    func apply(to machine: Machine) throws(RecordError) {
        guard live else { return }
        let roots = writableRoots.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
        try machine.enableLiveTools(writableRoots: roots, environment: ProcessInfo.processInfo.environment)
    }
}

/// Where automatic answers come from.
struct AnswerOptions: ParsableArguments {
    @Option(help: "Answer each request by running CMD with the request's JSON on standard input; its standard output is the answer.")
    var responder: String?

    /// Seconds a responder may take unless `--responder-timeout` says otherwise.
    static let defaultResponderTimeout = 300.0

    @Option(help: "Seconds a responder may take for one answer before it is stopped (the run stays suspended).")
    var responderTimeout = AnswerOptions.defaultResponderTimeout

    @Option(help: "Take answers from FILE in order (one JSON value per line).")
    var answers: String?

    @Option(help: "The folder tool.read, tool.write and tool.run work in (default: the run's workspace/ folder).")
    var workspace: String?

    func validate() throws {
        if responder != nil, answers != nil { throw ValidationError("give --responder or --answers, not both") }
        if responderTimeout <= 0 { throw ValidationError("--responder-timeout must be positive") }
    }

    /// Whether the command line names a source of answers (`--responder`, `--answers`).
    var namesSources: Bool { responder != nil || answers != nil }

    /// The sources in the order they are asked: the model backend (for `llm.query`), then
    /// the responder or the answers file.
    func source(backend: ModelBackend?) throws(AnswerFailure) -> AnswerChain {
        var chain = AnswerChain(sources: [])
        if let backend { chain.sources.append(BackendAnswers(backend: backend)) }
        if let responder { chain.sources.append(ResponderSource(command: responder, timeout: responderTimeout)) }
        if let answers { chain.sources.append(try AnswersFileSource(path: answers)) }
        return chain
    }
}

/// `--cassette FILE`: answers recorded by request content, for hermetic runs.
struct CassetteOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Record the run's llm.query and tool.run answers into FILE, or play them back from it (nothing asked, nothing executed).",
        valueName: "FILE"))
    var cassette: String?

    @Option(help: ArgumentHelp(
        "once: record if FILE is missing or unfinished, else only play back (a request it lacks stops the run, exit 7); new: also record requests it lacks; all: record everything again; play: only play back.",
        valueName: "MODE"))
    var cassetteMode: Cassette.Mode = .once

    func validate() throws {
        if cassette == nil, cassetteMode != .once { throw ValidationError("--cassette-mode needs --cassette") }
    }

    /// Opens the cassette, if one was named: before a run is created, so a bad one leaves nothing behind.
    func open(startsRun: Bool) throws(RecordError) -> Cassette? {
        guard let cassette else { return nil }
        return try Cassette(path: cassette, mode: cassetteMode, startsRun: startsRun)
    }
}

extension Cassette.Mode: ExpressibleByArgument {}
