import Foundation
import SPAKKernel

/// A backend config file (`.spak/backend.json` by default): one JSON object of settings, each
/// checked for its type when the file is read.
struct BackendConfigFile {
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
        if fields["api_key"] != nil {
            throw BackendSettingsError("\(path): an API key is never read from a file; "
                                       + "set it in the environment and name the variable with `api_key_env`")
        }
        if let unknown = fields.keys.sorted().first(where: { !keys.contains($0) }) {
            throw BackendSettingsError("\(path): unknown setting `\(unknown)` (known: \(keys.joined(separator: ", ")))")
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
        var file = BackendConfigFile()
        file.backend = try text("backend")
        file.baseURL = try text("base_url")
        file.model = try text("model")
        file.apiKeyVariable = try text("api_key_env")
        file.connectTimeout = try number("connect_timeout")
        file.firstByteTimeout = try number("first_byte_timeout")
        file.totalTimeout = try number("timeout")
        file.retryDelay = try number("retry_delay")
        file.maxRetryDelay = try number("max_retry_delay")
        if let attempts = fields["max_attempts"] {
            guard case .int(let count) = attempts else { throw BackendSettingsError("\(path): `max_attempts` must be a whole number") }
            file.maxAttempts = count
        }
        if let stream = fields["stream"] {
            guard case .bool(let value) = stream else { throw BackendSettingsError("\(path): `stream` must be true or false") }
            file.stream = value
        }
        return file
    }
}
