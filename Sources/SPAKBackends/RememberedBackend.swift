import Foundation
import SPAKKernel

/// The backend settings a run started with, kept in its folder (`backend.json`) so that
/// `spak step` and `spak fork` go on with the same server without being told again. It holds
/// what the command line, the environment and the config file chose, and the name of the
/// variable the API key comes from; never the key.
///
///     {"format": "spak-backend", "version": 1, "backend": "openai", "base_url": "…",
///      "model": "…", "api_key_env": "OPENAI_API_KEY", "connect_timeout": 10, …}
public struct RememberedBackend: Sendable, Equatable {
    /// The settings, under a config file's keys.
    let settings: BackendConfigFile

    /// The file's name in a run folder.
    public static let fileName = "backend.json"
    private static let format = "spak-backend"
    private static let version = 1

    /// What `settings` would be remembered as: the key's value, should a setting hold it, is
    /// redacted as everywhere else in the record.
    public init(_ settings: BackendSettings) {
        var remembered = BackendConfigFile(settings)
        if let key = settings.apiKey {
            let secret = Secrets(environment: [settings.apiKeyVariable: key], declared: [settings.apiKeyVariable])
            remembered.baseURL = remembered.baseURL.map(secret.redact)
            remembered.model = remembered.model.map(secret.redact)
        }
        self.settings = remembered
    }

    /// What the run in `folder` remembers; `nil` when it used no backend when it started.
    /// A file this version of spak cannot read makes the run unusable (`corrupt`).
    public static func read(in folder: RunFolder) throws(RecordError) -> RememberedBackend? {
        let path = folder.path + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard case .map(var fields)? = try? JSON.parse(String(decoding: data, as: UTF8.self)) else {
            throw RecordError("\(path) is not a JSON object", kind: .corrupt)
        }
        guard fields.removeValue(forKey: "format") == .string(format), fields.removeValue(forKey: "version") == .int(version) else {
            throw RecordError("\(path) is not a version \(version) `\(format)` file this spak can read", kind: .corrupt)
        }
        do {
            return RememberedBackend(settings: try BackendConfigFile(fields: fields, in: path))
        } catch {
            throw RecordError(error.description, kind: .corrupt)
        }
    }

    /// Writes the settings into `folder`, atomically and durably.
    public func write(to folder: RunFolder) throws(RecordError) {
        var document = settings.fields
        document["format"] = .string(Self.format)
        document["version"] = .int(Self.version)
        try RunFolder.writeAtomically(JSON.serialize(.map(document)) + "\n", to: folder.path + "/" + Self.fileName, durable: true)
    }

    private init(settings: BackendConfigFile) { self.settings = settings }
}
