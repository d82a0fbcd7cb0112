import Foundation
import SPAKTestSupport
import Testing

@Suite("spak check")
struct CheckCommandTests {
    @Test("the shipped examples check clean (exit 0)")
    func examples() {
        let run = runSpak(["check"] + Repository.examplePrograms)
        #expect(run.status == 0)
        #expect(run.out == "5 files checked: 0 errors, 0 warnings\n")
    }

    @Test("errors print as FILE:LINE:COLUMN: error: … and exit 1")
    func errors() throws {
        let path = Repository.path("Tests/Fixtures/diagnostics/E301-undefined-name.spak")
        let run = runSpak(["check", path])
        #expect(run.status == 1)
        #expect(run.out.hasPrefix("\(path):4:17: error: cannot find `coutn` in this task [E301]\n"))
        #expect(run.out.contains("= fix-it: replace `coutn` with `count`"))
        #expect(run.out.hasSuffix("1 file checked: 1 error, 0 warnings\n"))
    }

    @Test("warnings alone still exit 0")
    func warningsOnly() {
        let run = runSpak(["check", Repository.path("Tests/Fixtures/diagnostics/W316-empty-step.spak")])
        #expect(run.status == 0)
        #expect(run.out.contains(": warning: step `nothing` does nothing [W316]"))
    }

    @Test("--format json is machine-readable")
    func json() throws {
        let run = runSpak(["check", "--format", "json", Repository.path("Tests/Fixtures/diagnostics/E335-invalid-budget.spak")])
        #expect(run.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any])
        #expect(object["errorCount"] as? Int == 2)
        let first = try #require((object["diagnostics"] as? [[String: Any]])?.first)
        #expect(first["id"] as? String == "E335")
        #expect(first["line"] as? Int == 5 && first["column"] as? Int == 12)
        #expect((first["fixIts"] as? [[String: Any]])?.first?["replacement"] as? String == "llm.calls")
    }

    @Test("bad input never crashes: each gets a clear message and its documented exit code")
    func badInput() throws {
        let scratch = try makeScratchDirectory()
        let empty = try write("", to: "empty.spak", in: scratch)
        let binary = scratch.appendingPathComponent("binary.spak")
        var random = SystemRandomNumberGenerator()
        try Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &random) }).write(to: binary)
        let nul = try write("task t() {\u{0}}", to: "nul.spak", in: scratch)
        let garbageLine = try write("task t() { step s { let x = 1 " + String(repeating: "@", count: 10_000_000) + " } }",
                                    to: "garbage-line.spak", in: scratch)
        let longString = try write("task t() { step s { let x = \"" + String(repeating: "a", count: 10_000_000) + "\" } }",
                                   to: "long-string.spak", in: scratch)
        let deep = try write("task t() { step s { let x = " + String(repeating: "[", count: 10_000)
                             + String(repeating: "]", count: 10_000) + " } }", to: "deep.spak", in: scratch)
        let cases: [(String, Int32, String)] = [
            (garbageLine, 1, "error: unexpected character `@` [E101]"),
            (longString, 0, "1 file checked: 0 errors, 0 warnings"),
            (deep, 1, "nesting is deeper than 200 levels"),
            (empty, 1, "error: empty program"),
            (binary.path, 1, "error: "),
            (nul, 1, "unexpected character U+0000"),
            (scratch.path, 2, "it is a directory"),
            (scratch.appendingPathComponent("missing.spak").path, 2, "no such file"),
        ]
        for (path, status, message) in cases {
            let run = runSpak(["check", path])
            #expect(run.status == status, "\(path)")
            #expect(run.out.utf8.count < 20_000, "a long line is shown as a window, not whole")
            #expect((run.out + run.err).contains(message), "\(path): \(run.out)\(run.err)")
        }
    }

    @Test("usage errors exit 2; help exits 0")
    func usage() {
        #expect(runSpak(["check"]).status == 2)
        #expect(runSpak(["check", "--format", "xml", "a.spak"]).status == 2)
        #expect(runSpak(["frobnicate"]).status == 2)
        let help = runSpak(["check", "--help"])
        #expect(help.status == 0 && help.out.contains("USAGE: spak check"))
    }
}

@Suite("spak parse")
struct ParseCommandTests {
    @Test("--json prints the tree with 1-based positions")
    func json() throws {
        let run = runSpak(["parse", "--json", Repository.path("examples/hello.spak")])
        #expect(run.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any])
        let task = try #require(object["task"] as? [String: Any])
        #expect(task["name"] as? String == "hello")
        #expect(task["at"] as? String == "2:1")
    }

    @Test("the outline is one node per line")
    func outline() {
        let run = runSpak(["parse", Repository.path("examples/hello.spak")])
        #expect(run.status == 0)
        #expect(run.out.contains("task @2:1 name=\"hello\""))
        #expect(run.out.contains("step @8:3 name=\"greet\""))
    }

    @Test("syntax errors go to standard error with exit 1")
    func syntaxError() {
        let run = runSpak(["parse", Repository.path("Tests/Fixtures/diagnostics/E205-chained-comparison.spak")])
        #expect(run.status == 1)
        #expect(run.out.isEmpty && run.err.contains("[E205]"))
    }
}

@Suite("spak fmt")
struct FormatCommandTests {
    @Test("rewrites a file in place, idempotently, and --check then passes")
    func rewrite() throws {
        let scratch = try makeScratchDirectory()
        let path = try write(try Repository.text("Tests/Fixtures/format/messy.spak"), to: "messy.spak", in: scratch)
        let check = runSpak(["fmt", "--check", path])
        #expect(check.status == 1 && check.out == "would reformat \(path)\n")
        #expect(runSpak(["fmt", path]).out == "formatted \(path)\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Repository.text("Tests/Fixtures/format/messy.expected.spak"))
        #expect(runSpak(["fmt", path]).out.isEmpty)
        #expect(runSpak(["fmt", "--check", path]).status == 0)
    }

    @Test("the shipped examples are already formatted")
    func examplesFormatted() {
        let run = runSpak(["fmt", "--check"] + Repository.examplePrograms)
        #expect(run.status == 0, "\(run.out)")
    }

    @Test("a file with syntax errors is reported and left untouched")
    func syntaxError() throws {
        let scratch = try makeScratchDirectory()
        let source = "task t() { step s { let = 1 } }\n"
        let path = try write(source, to: "bad.spak", in: scratch)
        let run = runSpak(["fmt", path])
        #expect(run.status == 1 && run.err.contains("[E201]"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == source)
    }

    @Test("writing keeps the file's permissions and writes through a symbolic link")
    func permissionsAndLinks() throws {
        let scratch = try makeScratchDirectory()
        let target = try write("task t(){step s{let x=1}}", to: "real.spak", in: scratch)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target)
        let link = scratch.appendingPathComponent("link.spak").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(runSpak(["fmt", link]).status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        #expect(try String(contentsOfFile: target, encoding: .utf8).hasPrefix("task t() {\n"))
        #expect(try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int == 0o600)
    }

    @Test("--stdout prints instead of writing")
    func stdout() throws {
        let scratch = try makeScratchDirectory()
        let path = try write("task t(){step s{let x=1}}", to: "t.spak", in: scratch)
        #expect(runSpak(["fmt", "--stdout", path]).out == "task t() {\n  step s {\n    let x = 1\n  }\n}\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "task t(){step s{let x=1}}")
    }
}

/// Help text is compared verbatim with Snapshots/; run with SPAK_RECORD=1 to re-record
/// (the test then fails, so a re-recording is never mistaken for a pass).
@Suite("Help text")
struct HelpSnapshotTests {
    @Test("help matches its snapshot", arguments: [
        ["--help"], ["check", "--help"], ["parse", "--help"], ["fmt", "--help"], ["run", "--help"], ["step", "--help"],
        ["status", "--help"], ["runs", "--help"], ["replay", "--help"], ["fork", "--help"], ["test", "--help"],
        ["trace", "show", "--help"], ["trace", "diff", "--help"], ["analyze", "--help"], ["improve", "--help"], ["mcp", "--help"],
    ])
    func help(arguments: [String]) throws {
        let name = (arguments.count == 1 ? "spak" : arguments.dropLast().joined(separator: "-")) + "-help.txt"
        let path = Repository.path("Tests/SPAKCommandsTests/Snapshots/" + name)
        let output = runSpak(arguments).out
        if ProcessInfo.processInfo.environment["SPAK_RECORD"] == "1" {
            try Data(output.utf8).write(to: URL(fileURLWithPath: path))
            Issue.record("recorded \(name); run again without SPAK_RECORD")
            return
        }
        #expect(output == (try String(contentsOfFile: path, encoding: .utf8)))
    }
}
