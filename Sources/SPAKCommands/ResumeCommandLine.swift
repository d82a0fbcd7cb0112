import Foundation
import SPAKKernel

/// The `spak step --resume` command that goes on with a run the way the current command
/// did, quoted so that it works pasted into a POSIX shell in the same folder: the run by its
/// id with `--runs-dir` when that is not the default (else by its folder's path), the options
/// a run does not remember (`--live`, `--allow-write`, `--responder`, `--answers`,
/// `--workspace`, `--cassette`), and the backend options when they chose other settings than
/// the run remembers.
struct ResumeCommandLine {
    /// The words of the command, unquoted.
    let words: [String]

    /// The command resuming `run` as `command` goes on with it; `repeatsBackend`: whether its
    /// backend options must be given again; `live`: with or without `--live` whatever `command`
    /// had (`nil`: as it had).
    init(command: some RunAdvancingCommand, run: RunFolder, repeatsBackend: Bool, live: Bool? = nil) {
        var words = ["spak", "step", "--resume"]
        let runsDir = command.location.runsDir
        if run.path == runsDir + "/" + run.id {
            words.append(run.id)
            if runsDir != RunsLocation.defaultDirectory { words += Self.option("--runs-dir", runsDir) }
        } else {
            words.append(run.path.hasPrefix("-") ? "./" + run.path : run.path)
        }
        if live ?? command.live.live {
            words.append("--live")
            for root in command.live.writableRoots { words += Self.option("--allow-write", root) }
        }
        let answers = command.answers
        if let responder = answers.responder { words += Self.option("--responder", responder) }
        if answers.responderTimeout != AnswerOptions.defaultResponderTimeout {
            words += ["--responder-timeout", Self.number(answers.responderTimeout)]
        }
        if let file = answers.answers { words += Self.option("--answers", file) }
        if let workspace = answers.workspace { words += Self.option("--workspace", workspace) }
        if let cassette = command.cassette.cassette {
            words += Self.option("--cassette", cassette)
            if command.cassette.cassetteMode != .once { words += ["--cassette-mode", command.cassette.cassetteMode.rawValue] }
        }
        if repeatsBackend { words += Self.words(of: command.backend) }
        self.words = words
    }

    /// The command as it is pasted.
    var text: String { words.map(ShellWords.quoted).joined(separator: " ") }

    /// The backend options as they were given.
    private static func words(of options: BackendOptions) -> [String] {
        var words: [String] = []
        let given: [(String, String?)] = [
            ("--backend", options.backend), ("--base-url", options.baseURL), ("--model", options.model),
            ("--backend-config", options.backendConfig), ("--connect-timeout", options.connectTimeout.map(number)),
            ("--first-byte-timeout", options.firstByteTimeout.map(number)), ("--request-timeout", options.requestTimeout.map(number)),
            ("--max-attempts", options.maxAttempts.map(String.init)), ("--retry-delay", options.retryDelay.map(number)),
        ]
        for case (let flag, let value?) in given { words += option(flag, value) }
        if let stream = options.stream { words.append(stream ? "--stream" : "--no-stream") }
        return words
    }

    /// An option and its value: as two words, or as `--flag=VALUE` when the value starts with
    /// `-` (as a word of its own it would be read as an option).
    private static func option(_ flag: String, _ value: String) -> [String] {
        value.hasPrefix("-") ? ["\(flag)=\(value)"] : [flag, value]
    }

    /// A number as an option takes it: `10`, `0.05`.
    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
