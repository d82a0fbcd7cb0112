import Foundation
import SPAKKernel

/// Backend settings as a config file spells them (`.spak/backend.json` by default, and a
/// run's remembered `backend.json`): one JSON object, each setting checked for its type when
/// it is read. Each setting is `nil` where the file does not give it. Settings resolve from
/// several of these, one per source, the first that gives a setting winning.
struct BackendConfigFile: Equatable {
    var backend: String?
    var baseURL: String?
    var model: String?
    var apiKeyVariable: String?
    var connectTimeout: Double?
    var firstByteTimeout: Double?
    var totalTimeout: Double?
    var maxAttempts: Int?
    var retryDelay: Double?
    var maxRetryDelay: Double?
    var stream: Bool?

    /// The keys a config file may hold.
    static let keys = ["api_key_env", "backend", "base_url", "connect_timeout", "first_byte_timeout", "max_attempts",
                       "max_retry_delay", "model", "retry_delay", "stream", "timeout"]

    /// No settings.
    init() {}

    /// Reads the file at `path`; a missing file is no settings unless it is `required`.
    static func load(_ path: String, required: Bool) throws(BackendSettingsError) -> BackendConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            if required { throw BackendSettingsError("cannot read the backend config file \(path)") }
            return BackendConfigFile()
        }
        let value: Value
        do { value = try JSON.parse(String(decoding: data, as: UTF8.self)) } catch {
            throw BackendSettingsError("\(path): not JSON (\(error))")
        }
        guard case .map(let fields) = value else { throw BackendSettingsError("\(path): the config is a JSON object") }
        return try BackendConfigFile(fields: fields, in: path)
    }

    /// The settings of a config object read from `path` (named in messages). An API key, an
    /// unknown key or a value of the wrong type is refused.
    init(fields: [String: Value], in path: String) throws(BackendSettingsError) {
        if fields["api_key"] != nil {
            throw BackendSettingsError("\(path): an API key is never read from a file; "
                                       + "set it in the environment and name the variable with `api_key_env`")
        }
        if let unknown = fields.keys.sorted().first(where: { !Self.keys.contains($0) }) {
            throw BackendSettingsError("\(path): unknown setting `\(unknown)` (known: \(Self.keys.joined(separator: ", ")))")
        }
        func text(_ key: String) throws(BackendSettingsError) -> String? {
            guard let value = fields[key] else { return nil }
            guard case .string(let text) = value, !text.isEmpty else { throw BackendSettingsError("\(path): `\(key)` must be a non-empty string") }
            return text
        }
        func number(_ key: String) throws(BackendSettingsError) -> Double? {
            guard let value = fields[key] else { return nil }
            guard let number = value.number else { throw BackendSettingsError("\(path): `\(key)` must be a number") }
            return number
        }
        backend = try text("backend")
        baseURL = try text("base_url")
        model = try text("model")
        apiKeyVariable = try text("api_key_env")
        connectTimeout = try number("connect_timeout")
        firstByteTimeout = try number("first_byte_timeout")
        totalTimeout = try number("timeout")
        retryDelay = try number("retry_delay")
        maxRetryDelay = try number("max_retry_delay")
        if let attempts = fields["max_attempts"] {
            guard case .int(let count) = attempts else { throw BackendSettingsError("\(path): `max_attempts` must be a whole number") }
            maxAttempts = count
        }
        if let stream = fields["stream"] {
            guard case .bool(let value) = stream else { throw BackendSettingsError("\(path): `stream` must be true or false") }
            self.stream = value
        }
    }

    /// Every setting of resolved settings (the API key's variable, never the key).
    init(_ settings: BackendSettings) {
        backend = settings.kind.rawValue
        baseURL = settings.baseURL
        model = settings.model
        apiKeyVariable = settings.apiKeyVariable
        connectTimeout = settings.connectTimeout
        firstByteTimeout = settings.firstByteTimeout
        totalTimeout = settings.totalTimeout
        maxAttempts = settings.maxAttempts
        retryDelay = settings.retryDelay
        maxRetryDelay = settings.maxRetryDelay
        stream = settings.stream
    }

    /// The settings as a config object, under the keys a file uses.
    var fields: [String: Value] {
        var fields: [String: Value] = [:]
        let entries: [(String, Value?)] = [
            ("backend", backend.map(Value.string)), ("base_url", baseURL.map(Value.string)), ("model", model.map(Value.string)),
            ("api_key_env", apiKeyVariable.map(Value.string)), ("connect_timeout", connectTimeout.map(Value.float)),
            ("first_byte_timeout", firstByteTimeout.map(Value.float)), ("timeout", totalTimeout.map(Value.float)),
            ("max_attempts", maxAttempts.map(Value.int)), ("retry_delay", retryDelay.map(Value.float)),
            ("max_retry_delay", maxRetryDelay.map(Value.float)), ("stream", stream.map(Value.bool)),
        ]
        for case (let key, let value?) in entries { fields[key] = value }
        return fields
    }
}
