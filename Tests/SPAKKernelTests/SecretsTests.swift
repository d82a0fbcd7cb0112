import SPAKKernel
import Testing

@Suite("Secrets")
struct SecretsTests {
    @Test("credential-like names and declared names are secret; short values are not")
    func whichVariables() {
        let secrets = Secrets(
            environment: ["OPENAI_API_KEY": "sk-abcdef", "GH_TOKEN": "ghp_123456", "DB_PASSWORD_FILE": "/run/pw",
                          "MY_CRED": "hunter2!", "PATH": "/usr/bin", "SHORT_KEY": "abc", "HOME": "/root"],
            declared: ["MY_CRED"])
        #expect(Set(secrets.entries.map(\.name)) == ["OPENAI_API_KEY", "GH_TOKEN", "DB_PASSWORD_FILE", "MY_CRED"])
        #expect(Secrets.looksSecret("aws_secret") && Secrets.looksSecret("admin_password_2") && !Secrets.looksSecret("KEYRING"))
    }

    @Test("values, map keys and bytes are redacted, the longest secret first")
    func redaction() {
        let secrets = Secrets(environment: ["A_TOKEN": "tok-1234", "B_TOKEN": "tok-1234-extended"])
        #expect(secrets.redact("x tok-1234-extended y tok-1234") == "x [redacted B_TOKEN] y [redacted A_TOKEN]")
        let value = Value.map(["tok-1234": .list([.string("tok-1234"), .int(3)])])
        #expect(secrets.redact(value) == .map(["[redacted A_TOKEN]": .list([.string("[redacted A_TOKEN]"), .int(3)])]))
        #expect(secrets.redact(Array("ab tok-1234 cd".utf8)) == Array("ab [redacted A_TOKEN] cd".utf8))
    }

    @Test("a secret cut by the output cap is redacted when at least four of its bytes remain")
    func truncatedTail() {
        let secrets = Secrets(environment: ["A_TOKEN": "tok-1234"])
        #expect(secrets.redact(Array("out: tok-1".utf8), truncated: true) == Array("out: [redacted A_TOKEN]".utf8))
        #expect(secrets.redact(Array("out: tok".utf8), truncated: true) == Array("out: tok".utf8))
        #expect(secrets.redact(Array("out: tok-1".utf8), truncated: false) == Array("out: tok-1".utf8))
    }

    @Test("no secrets: everything passes through unchanged")
    func none() {
        #expect(Secrets.none.isEmpty)
        #expect(Secrets.none.redact("sk-anything") == "sk-anything")
    }
}
