import Foundation
import SPAKKernel

/// Which server answers `llm.query`, and how spak talks to it: resolved from command-line
/// flags, then environment variables, then a JSON config file, then defaults (in that order).
/// The API key is read from the environment only, never from a flag or a file.
public struct BackendSettings: Sendable, Equatable {
    /// The two wire protocols.
    public enum Kind: String, Sendable, CaseIterable {
        /// Ollama's `/api/chat` (NDJSON streaming).
        case ollama
        /// Any OpenAI-compatible `/v1/chat/completions` (server-sent events when streaming).
        case openai
    }

    /// The protocol.
    public var kind: Kind
    /// The server's base URL: `http://127.0.0.1:11434` for Ollama, `…/v1` for OpenAI.
    public var baseURL: String
    /// The model a query asks for unless it names its own (`model:`).
    public var model: String?
    /// The environment variable that holds the API key.
    public var apiKeyVariable: String
    /// The API key, if that variable is set (sent as a bearer token, recorded nowhere).
    public var apiKey: String?
    /// Seconds to establish a connection.
    public var connectTimeout: Double = 10
    /// Seconds to wait for the first byte of a streamed reply (its first token), and between
    /// bytes after it. A whole (unstreamed) reply comes only when it is complete, so only the
    /// total timeout applies to it.
    public var firstByteTimeout: Double = 120
    /// Seconds one attempt may take in all (a query's `timeout:` overrides it).
    public var totalTimeout: Double = 600
    /// Attempts per query, the first included.
    public var maxAttempts: Int = 4
    /// The first retry's backoff in seconds; it doubles with each retry, with jitter.
    public var retryDelay: Double = 1
    /// The longest wait before a retry; a `Retry-After` asking for more gives up instead.
    public var maxRetryDelay: Double = 60
    /// Whether replies are streamed (shown as they come when standard error is a terminal,
    /// and recorded whole either way).
    public var stream = true

    /// The sampling temperature when a query names none: deterministic.
    public static let defaultTemperature = 0.0
    /// The sampling seed when a query names none: deterministic.
    public static let defaultSeed = 0

    /// The endpoint chat requests go to.
    public var endpoint: String {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        switch kind {
        case .ollama: return base + "/api/chat"
        case .openai: return base + "/chat/completions"
        }
    }

    /// The server as messages name it: scheme, host and port, without credentials or path.
    public var serverName: String {
        guard let url = URL(string: baseURL), let scheme = url.scheme, let host = url.host else { return baseURL }
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost)\(url.port.map { ":\($0)" } ?? "")"
    }

    /// Whether the base URL names this machine (a loopback address or `localhost`).
    var isLoopback: Bool {
        guard let host = URL(string: baseURL)?.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) else { return false }
        return host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }
}

/// A setting that cannot be used, named with where it came from.
public struct BackendSettingsError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}

extension BackendSettings {
    /// What the command line gave (each `nil` when the flag was not used).
    public struct Flags: Sendable {
        public var backend: String?
        public var baseURL: String?
        public var model: String?
        public var connectTimeout: Double?
        public var firstByteTimeout: Double?
        public var totalTimeout: Double?
        public var maxAttempts: Int?
        public var retryDelay: Double?
        public var stream: Bool?

        /// The flags given (`nil`: not given).
        public init(backend: String? = nil, baseURL: String? = nil, model: String? = nil, connectTimeout: Double? = nil,
                    firstByteTimeout: Double? = nil, totalTimeout: Double? = nil, maxAttempts: Int? = nil,
                    retryDelay: Double? = nil, stream: Bool? = nil) {
            self.backend = backend
            self.baseURL = baseURL
            self.model = model
            self.connectTimeout = connectTimeout
            self.firstByteTimeout = firstByteTimeout
            self.totalTimeout = totalTimeout
            self.maxAttempts = maxAttempts
            self.retryDelay = retryDelay
            self.stream = stream
        }
    }

    /// The default config file, relative to the current folder.
    public static let defaultConfigFile = ".spak/backend.json"

    /// Resolves the settings: flags, then `SPAK_BACKEND`, `SPAK_BASE_URL`, `SPAK_MODEL` (and
    /// the servers' own `OLLAMA_HOST`, `OPENAI_BASE_URL`), then the config file (`configFile`,
    /// else `.spak/backend.json` if it exists), then defaults. For a run that remembers the
    /// settings it started with (`remembered`), they come after the flags and `configFile`
    /// instead of the environment and `.spak/backend.json`, unless those name another backend.
    /// The API key comes from `SPAK_API_KEY`, else the variable the settings name, else the
    /// protocol's usual one. Returns `nil` when no backend is chosen, or `none` is.
    public static func resolve(flags: Flags, environment: [String: String], configFile: String?,
                               remembered: RememberedBackend? = nil) throws(BackendSettingsError) -> BackendSettings? {
        let variable = { (name: String) -> String? in environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let sources = try sources(flags: flags, configFile: configFile, remembered: remembered, variable: variable)
        func first<Setting>(_ setting: KeyPath<BackendConfigFile, Setting?>) -> Setting? {
            sources.lazy.compactMap { $0[keyPath: setting] }.first
        }
        guard let kindName = first(\.backend), kindName != noBackend else { return nil }
        guard let kind = Kind(rawValue: kindName) else {
            throw BackendSettingsError("unknown backend `\(kindName)` (choose one of: "
                                       + "\((Kind.allCases.map(\.rawValue) + [noBackend]).joined(separator: ", ")))")
        }
        let baseURL = first(\.baseURL) ?? (kind == .ollama ? "http://127.0.0.1:11434" : "https://api.openai.com/v1")
        guard let url = URL(string: baseURL), ["http", "https"].contains(url.scheme ?? ""), url.host?.isEmpty == false else {
            throw BackendSettingsError("the base URL `\(baseURL)` is not an http:// or https:// URL")
        }
        guard url.user == nil, url.password == nil else {
            throw BackendSettingsError("the base URL must not hold credentials; put the API key in the environment")
        }
        guard url.query == nil, url.fragment == nil else {
            throw BackendSettingsError("the base URL `\(baseURL)` must not have a query or a fragment: give the path "
                                       + "the API lives under (e.g. http://host:8080/v1)")
        }
        let keyVariable = variable("SPAK_API_KEY") != nil
            ? "SPAK_API_KEY" : first(\.apiKeyVariable) ?? (kind == .ollama ? "OLLAMA_API_KEY" : "OPENAI_API_KEY")
        var settings = BackendSettings(kind: kind, baseURL: baseURL, model: first(\.model), apiKeyVariable: keyVariable,
                                       apiKey: variable(keyVariable))
        settings.connectTimeout = first(\.connectTimeout) ?? settings.connectTimeout
        settings.firstByteTimeout = first(\.firstByteTimeout) ?? settings.firstByteTimeout
        settings.totalTimeout = first(\.totalTimeout) ?? settings.totalTimeout
        settings.retryDelay = first(\.retryDelay) ?? settings.retryDelay
        settings.maxRetryDelay = first(\.maxRetryDelay) ?? settings.maxRetryDelay
        settings.maxAttempts = first(\.maxAttempts) ?? settings.maxAttempts
        settings.stream = first(\.stream) ?? settings.stream
        if settings.apiKey != nil, url.scheme == "http", !settings.isLoopback {
            throw BackendSettingsError("refusing to send the API key in \(keyVariable) unencrypted to \(settings.serverName): "
                                       + "use an https:// base URL, or unset \(keyVariable) if the server needs no key")
        }
        for (name, value) in [("connect timeout", settings.connectTimeout), ("first-byte timeout", settings.firstByteTimeout),
                              ("timeout", settings.totalTimeout)] where !(value > 0 && value <= 1e6) {
            throw BackendSettingsError("the \(name) must be a positive number of seconds (at most 1000000)")
        }
        guard settings.retryDelay >= 0, settings.maxRetryDelay >= 0, settings.retryDelay <= 1e6, settings.maxRetryDelay <= 1e6 else {
            throw BackendSettingsError("retry delays must be between 0 and 1000000 seconds")
        }
        guard (1...100).contains(settings.maxAttempts) else { throw BackendSettingsError("max attempts must be between 1 and 100") }
        return settings
    }

    /// Where settings come from, the first that gives one winning: the flags, then the named
    /// config file and what the run remembers, or else the environment and the config file.
    private static func sources(flags: Flags, configFile: String?, remembered: RememberedBackend?,
                                variable: (String) -> String?) throws(BackendSettingsError) -> [BackendConfigFile] {
        let named = try configFile.map { path throws(BackendSettingsError) in try BackendConfigFile.load(path, required: true) }
        let given = BackendConfigFile(flags)
        if let remembered = remembered?.settings, (given.backend ?? named?.backend).map({ $0 == remembered.backend }) ?? true {
            return [given, named ?? BackendConfigFile(), remembered]
        }
        let config: BackendConfigFile
        if let named { config = named } else { config = try BackendConfigFile.load(defaultConfigFile, required: false) }
        var fromEnvironment = BackendConfigFile()
        fromEnvironment.backend = variable("SPAK_BACKEND")
        fromEnvironment.model = variable("SPAK_MODEL")
        fromEnvironment.baseURL = variable("SPAK_BASE_URL") ?? {
            switch given.backend ?? fromEnvironment.backend ?? config.backend {
            case Kind.ollama.rawValue?: variable("OLLAMA_HOST").map(ollamaHost)
            case Kind.openai.rawValue?: variable("OPENAI_BASE_URL")
            default: nil
            }
        }()
        return [given, fromEnvironment, config]
    }

    /// The backend name that chooses no backend: queries wait for an answer from outside.
    public static let noBackend = "none"

    /// `OLLAMA_HOST` read as Ollama reads it: `HOST`, `HOST:PORT` or a URL. Without a scheme
    /// it is `http` on port 11434; `http://` and `https://` without a port mean 80 and 443; no
    /// host means 127.0.0.1.
    static func ollamaHost(_ value: String) -> String {
        var scheme = "http"
        var defaultPort = "11434"
        var rest = Substring(value.trimmingCharacters(in: .whitespaces))
        if let range = rest.range(of: "://") {
            scheme = String(rest[..<range.lowerBound])
            defaultPort = scheme == "https" ? "443" : "80"
            rest = rest[range.upperBound...]
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var host = authority
        var port: Substring = ""
        let hostEnd = authority.hasPrefix("[") ? authority.firstIndex(of: "]").map { authority.index(after: $0) } : nil
        if let colon = authority[(hostEnd ?? authority.startIndex)...].lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        return "\(scheme)://\(host.isEmpty ? "127.0.0.1" : String(host)):\(port.isEmpty ? defaultPort : String(port))\(rest[slash...])"
    }
}

extension BackendConfigFile {
    /// The settings the command line gave.
    init(_ flags: BackendSettings.Flags) {
        self.init()
        backend = flags.backend
        baseURL = flags.baseURL
        model = flags.model
        connectTimeout = flags.connectTimeout
        firstByteTimeout = flags.firstByteTimeout
        totalTimeout = flags.totalTimeout
        maxAttempts = flags.maxAttempts
        retryDelay = flags.retryDelay
        stream = flags.stream
    }
}
