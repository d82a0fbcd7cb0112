import ArgumentParser
import Foundation
import SPAKBackends
import SPAKKernel

/// Which model server answers `llm.query`, if any: flags, then what the run remembers, or
/// else environment variables and a config file (docs/backends.md).
struct BackendOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Answer llm.query with a model server: ollama (its /api/chat) or openai (any OpenAI-compatible /v1/chat/completions); none: no server, not even one the environment, a config file or the run names.",
        valueName: "ollama|openai|none"))
    var backend: String?

    @Option(name: .customLong("base-url"), help: ArgumentHelp(
        "The server's base URL (default: http://127.0.0.1:11434 for ollama, https://api.openai.com/v1 for openai).",
        valueName: "URL"))
    var baseURL: String?

    @Option(help: ArgumentHelp("The model a query asks for unless it names its own with model:.", valueName: "NAME"))
    var model: String?

    @Option(name: .customLong("backend-config"), help: ArgumentHelp(
        "A JSON file of backend settings (default: .spak/backend.json, if it exists).", valueName: "FILE"))
    var backendConfig: String?

    @Option(help: ArgumentHelp("Seconds to connect to the server (default: 10).", valueName: "SECONDS"))
    var connectTimeout: Double?

    @Option(help: ArgumentHelp("Seconds to wait for a reply's first byte, and between bytes after it (default: 120).", valueName: "SECONDS"))
    var firstByteTimeout: Double?

    @Option(help: ArgumentHelp("Seconds one attempt may take in all; a query's timeout: overrides it (default: 600).", valueName: "SECONDS"))
    var requestTimeout: Double?

    @Option(help: ArgumentHelp("Attempts per query, the first included (default: 4).", valueName: "N"))
    var maxAttempts: Int?

    @Option(help: ArgumentHelp("Seconds before the first retry; doubled for each further one, with jitter (default: 1).", valueName: "SECONDS"))
    var retryDelay: Double?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Stream replies (the default; shown as they come when standard error is a terminal), or ask for whole ones."))
    var stream: Bool?

    func validate() throws {
        guard backend == BackendSettings.noBackend else { return }
        let others: [(String, Bool)] = [
            ("--base-url", baseURL != nil), ("--model", model != nil), ("--backend-config", backendConfig != nil),
            ("--connect-timeout", connectTimeout != nil), ("--first-byte-timeout", firstByteTimeout != nil),
            ("--request-timeout", requestTimeout != nil), ("--max-attempts", maxAttempts != nil),
            ("--retry-delay", retryDelay != nil), ("--stream/--no-stream", stream != nil),
        ]
        if let (name, _) = others.first(where: \.1) {
            throw ValidationError("--backend none asks no model server, so \(name) has nothing to set")
        }
    }

    /// The backend these options choose, else the one the run remembers (`remembered`), else
    /// the environment and the config file; `nil` when none is chosen, or `--backend none`.
    /// When the command names other answer sources (`--responder`, `--answers`) and no
    /// `--backend`, a backend set only by the run's memory, the environment or a config file
    /// is not used: what the command line says wins. Streamed text is shown on `io`'s standard
    /// error when it is a terminal.
    func backend(io: CommandIO, otherSources: Bool, remembered: RememberedBackend? = nil) throws(BackendSettingsError)
        -> ModelBackend?
    {
        if otherSources, backend == nil, backendConfig == nil { return nil }
        let flags = BackendSettings.Flags(
            backend: backend, baseURL: baseURL, model: model, connectTimeout: connectTimeout, firstByteTimeout: firstByteTimeout,
            totalTimeout: requestTimeout, maxAttempts: maxAttempts, retryDelay: retryDelay, stream: stream)
        guard let settings = try BackendSettings.resolve(flags: flags, environment: ProcessInfo.processInfo.environment,
                                                         configFile: backendConfig, remembered: remembered) else {
            return nil
        }
        return ModelBackend(settings: settings, liveOutput: isatty(STDERR_FILENO) == 1 ? io.err : nil)
    }
}
