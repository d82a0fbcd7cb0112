import Foundation
@testable import SPAKBackends
import SPAKKernel
import SPAKTestSupport
import Testing

@Suite("A run's remembered backend settings")
struct RememberedBackendTests {
    /// Settings a run started with: an OpenAI-compatible server, its key in OPENAI_API_KEY.
    private func started(_ key: String? = "sk-remembered-1") throws -> BackendSettings {
        var flags = BackendSettings.Flags(backend: "openai", baseURL: "http://127.0.0.1:8080/v1", model: "started")
        flags.maxAttempts = 3
        flags.stream = false
        let environment = key.map { ["OPENAI_API_KEY": $0] } ?? [:]
        return try #require(try BackendSettings.resolve(flags: flags, environment: environment, configFile: nil))
    }

    private func resume(_ flags: BackendSettings.Flags = .init(), _ environment: [String: String] = [:], config: String? = nil,
                        remembered: RememberedBackend?) throws -> BackendSettings? {
        var path: String?
        if let config { path = try write(config, to: "named.json", in: try makeScratchDirectory()) }
        return try BackendSettings.resolve(flags: flags, environment: environment, configFile: path, remembered: remembered)
    }

    @Test("a resumed run takes its own settings over the environment's; a flag, or a config file named, over those")
    func precedence() throws {
        let remembered = RememberedBackend(try started())
        let elsewhere = ["SPAK_BACKEND": "openai", "SPAK_BASE_URL": "http://127.0.0.1:9/v1", "SPAK_MODEL": "env", "OPENAI_API_KEY": "sk-now"]
        let plain = try #require(try resume(.init(), elsewhere, remembered: remembered))
        #expect(plain.baseURL == "http://127.0.0.1:8080/v1" && plain.model == "started" && plain.maxAttempts == 3 && !plain.stream)
        #expect(plain.apiKeyVariable == "OPENAI_API_KEY" && plain.apiKey == "sk-now", "the key is read anew, from the variable remembered")
        let flagged = try #require(try resume(.init(model: "flag"), elsewhere, remembered: remembered))
        #expect(flagged.model == "flag" && flagged.baseURL == "http://127.0.0.1:8080/v1")
        let named = try #require(try resume(.init(), elsewhere, config: #"{"max_attempts": 9}"#, remembered: remembered))
        #expect(named.maxAttempts == 9 && named.model == "started")
    }

    @Test("naming another backend leaves the remembered settings aside, and `none` chooses no backend")
    func otherBackend() throws {
        let remembered = RememberedBackend(try started())
        let ollama = try #require(try resume(.init(backend: "ollama"), ["SPAK_MODEL": "env"], remembered: remembered))
        #expect(ollama.kind == .ollama && ollama.baseURL == "http://127.0.0.1:11434" && ollama.model == "env" && ollama.maxAttempts == 4)
        #expect(try resume(.init(backend: "none"), remembered: remembered) == nil)
        #expect(try resume(.init(), ["SPAK_BACKEND": "none"], remembered: nil) == nil)
        #expect {
            try resume(.init(backend: "claude"), remembered: nil)
        } throws: { "\($0)".contains("unknown backend `claude` (choose one of: ollama, openai, none)") }
    }

    @Test("the file round-trips, holds the key's variable and never its value, and a damaged one is refused")
    func file() throws {
        let folder = RunFolder(path: try makeScratchDirectory().path)
        let settings = try started()
        try RememberedBackend(settings).write(to: folder)
        let text = try String(contentsOfFile: folder.path + "/backend.json", encoding: .utf8)
        #expect(text.contains(#""api_key_env":"OPENAI_API_KEY""#) && !text.contains("sk-remembered-1"))
        #expect(text.hasPrefix("{") && text.contains(#""format":"spak-backend""#) && text.contains(#""version":1"#))
        #expect(try RememberedBackend.read(in: folder) == RememberedBackend(settings))
        #expect(try RememberedBackend.read(in: RunFolder(path: try makeScratchDirectory().path)) == nil)
        for damaged in ["not json", #"{"format": "spak-backend", "version": 2}"#,
                        #"{"format": "spak-backend", "version": 1, "backend": "openai", "api_key": "sk-x"}"#] {
            _ = try write(damaged, to: "backend.json", in: URL(fileURLWithPath: folder.path))
            #expect {
                try RememberedBackend.read(in: folder)
            } throws: { ($0 as? RecordError)?.kind == .corrupt }
        }
    }
}
