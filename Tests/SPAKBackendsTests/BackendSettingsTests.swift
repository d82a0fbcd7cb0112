import Foundation
import SPAKTestSupport
import Testing
@testable import SPAKBackends

@Suite("Backend settings")
struct BackendSettingsTests {
    private func resolve(_ flags: BackendSettings.Flags = .init(), _ environment: [String: String] = [:],
                         config: String? = nil) throws -> BackendSettings? {
        var path: String?
        if let config { path = try write(config, to: "backend.json", in: try makeScratchDirectory()) }
        return try BackendSettings.resolve(flags: flags, environment: environment, configFile: path)
    }

    @Test("no backend anywhere: none")
    func none() throws {
        #expect(try resolve() == nil)
    }

    @Test("flags, then environment, then the config file, then defaults")
    func precedence() throws {
        let config = #"{"backend": "ollama", "model": "from-file", "base_url": "http://file:1", "max_attempts": 2, "stream": false}"#
        var flags = BackendSettings.Flags()
        let fromFile = try #require(try resolve(flags, [:], config: config))
        #expect(fromFile.kind == .ollama && fromFile.model == "from-file" && fromFile.baseURL == "http://file:1")
        #expect(fromFile.maxAttempts == 2 && fromFile.stream == false && fromFile.endpoint == "http://file:1/api/chat")
        let environment = ["SPAK_BACKEND": "openai", "SPAK_MODEL": "from-env", "SPAK_BASE_URL": "http://env:2/v1/"]
        let fromEnvironment = try #require(try resolve(flags, environment, config: config))
        #expect(fromEnvironment.kind == .openai && fromEnvironment.model == "from-env")
        #expect(fromEnvironment.endpoint == "http://env:2/v1/chat/completions" && fromEnvironment.serverName == "http://env:2")
        flags.model = "from-flag"
        flags.maxAttempts = 7
        let fromFlags = try #require(try resolve(flags, environment, config: config))
        #expect(fromFlags.model == "from-flag" && fromFlags.maxAttempts == 7)
        let defaults = try #require(try resolve(flags, ["SPAK_BACKEND": "ollama"]))
        #expect(defaults.baseURL == "http://127.0.0.1:11434" && defaults.stream && defaults.retryDelay == 1)
        #expect(try resolve(flags, ["SPAK_BACKEND": "ollama", "OLLAMA_HOST": "10.0.0.5:9999"])?.baseURL == "http://10.0.0.5:9999")
    }

    @Test("OLLAMA_HOST is read as Ollama reads it", arguments: [
        ("127.0.0.1", "http://127.0.0.1:11434"), (":8000", "http://127.0.0.1:8000"), ("", "http://127.0.0.1:11434"),
        ("box:1234", "http://box:1234"), ("https://ollama.example.com", "https://ollama.example.com:443"),
        ("http://box", "http://box:80"), ("[::1]", "http://[::1]:11434"), ("http://[::1]:9/base", "http://[::1]:9/base"),
    ])
    func ollamaHost(value: String, url: String) {
        #expect(BackendSettings.ollamaHost(value) == url)
    }

    @Test("the server is named with IPv6 brackets, and only loopback is loopback")
    func serverNames() throws {
        let settings = try #require(try resolve(.init(), ["SPAK_BACKEND": "openai", "SPAK_BASE_URL": "http://[::1]:9/v1"]))
        #expect(settings.serverName == "http://[::1]:9" && settings.isLoopback)
        #expect(try resolve(.init(), ["SPAK_BACKEND": "openai", "SPAK_BASE_URL": "http://127.0.0.9:1"])?.isLoopback == true)
        #expect(try resolve(.init(), ["SPAK_BACKEND": "openai", "SPAK_BASE_URL": "http://10.1.2.3:1"])?.isLoopback == false)
    }

    @Test("a key is never sent unencrypted to another machine")
    func keyOverHTTP() throws {
        let remote = ["SPAK_BACKEND": "openai", "SPAK_BASE_URL": "http://10.1.2.3:8000/v1", "OPENAI_API_KEY": "sk-abcdef"]
        #expect {
            try resolve(.init(), remote)
        } throws: { error in
            "\(error)".contains("refusing to send the API key in OPENAI_API_KEY unencrypted to http://10.1.2.3:8000")
        }
        #expect(try resolve(.init(), remote.merging(["SPAK_BASE_URL": "https://10.1.2.3:8000/v1"]) { $1 })?.apiKey == "sk-abcdef")
        #expect(try resolve(.init(), remote.merging(["SPAK_BASE_URL": "http://localhost:8000/v1"]) { $1 })?.apiKey == "sk-abcdef")
    }

    @Test("the API key comes from the environment only, and its variable is known")
    func apiKey() throws {
        let settings = try #require(try resolve(.init(), ["SPAK_BACKEND": "openai", "OPENAI_API_KEY": "sk-test-123"]))
        #expect(settings.apiKey == "sk-test-123" && settings.apiKeyVariable == "OPENAI_API_KEY")
        let named = try #require(try resolve(.init(), ["MY_LLM_CRED": "abc-xyz"], config: #"{"backend": "openai", "api_key_env": "MY_LLM_CRED"}"#))
        #expect(named.apiKey == "abc-xyz" && named.apiKeyVariable == "MY_LLM_CRED")
        #expect(throws: BackendSettingsError.self) {
            try resolve(.init(), [:], config: #"{"backend": "openai", "api_key": "sk-in-a-file"}"#)
        }
    }

    @Test("bad settings are refused with a message that says which and why",
          arguments: [
              (#"{"backend": "claude"}"#, "unknown backend `claude`"),
              (#"{"backend": "openai", "base_url": "ftp://x"}"#, "not an http"),
              (#"{"backend": "openai", "base_url": "http://user:pw@x"}"#, "credentials"),
              (#"{"backend": "openai", "base_url": "http://x/v1?key=1"}"#, "must not have a query or a fragment"),
              (#"{"backend": "openai", "timeout": 0}"#, "positive"),
              (#"{"backend": "openai", "max_attempts": 0}"#, "between 1 and 100"),
              (#"{"backend": "openai", "retries": 3}"#, "unknown setting `retries`"),
              (#"{"backend": "openai", "stream": "yes"}"#, "true or false"),
              (#"["openai"]"#, "JSON object"),
              ("{", "not JSON"),
          ])
    func refused(config: String, words: String) throws {
        #expect {
            try resolve(.init(), [:], config: config)
        } throws: { error in
            "\(error)".contains(words)
        }
    }

    @Test("a config file named on the command line must exist")
    func missingConfig() {
        #expect(throws: BackendSettingsError.self) {
            try BackendSettings.resolve(flags: .init(), environment: [:], configFile: "/nonexistent/backend.json")
        }
    }
}
