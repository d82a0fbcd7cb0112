import Foundation
@testable import SPAKCommands
import SPAKKernel
import SPAKTestSupport
import Testing

/// The command a suspended run's message tells to resume it with works pasted as it is: the
/// runs folder and the options a run does not remember are in it, quoted for a shell.
@Suite("The resume command a run prints")
struct ResumeCommandTests {
    @Test("words a shell would read otherwise are single-quoted", arguments: [
        ("hello-20261130-101500-3f2a", "hello-20261130-101500-3f2a"), ("runs/a_b.c", "runs/a_b.c"), ("", "''"),
        ("my runs", "'my runs'"), ("it's", #"'it'\''s'"#), ("$HOME", "'$HOME'"), ("a;b", "'a;b'"), ("~/runs", "'~/runs'"),
        ("python3 lab/responder.py --set cpu", "'python3 lab/responder.py --set cpu'"), ("é", "'é'"),
    ])
    func quoting(word: String, quoted: String) {
        #expect(ShellWords.quoted(word) == quoted)
    }

    @Test("a run in another runs folder is resumed with it, and with the options it does not remember")
    func options() throws {
        let runs = try makeScratchDirectory().appendingPathComponent("runs dir/it's").path
        let answers = try write("", to: "no answers.jsonl", in: try makeScratchDirectory())
        let run = runSpak(["run", Repository.path("examples/hello.spak"), "--runs-dir", runs, "--answers", answers,
                           "--responder-timeout", "2.5"])
        #expect(run.status == 3)
        let id = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first)
        let quotedRuns = ShellWords.quoted(runs)
        #expect(run.out.contains("then run: spak step --resume \(id) --runs-dir \(quotedRuns) --responder-timeout 2.5 "
                                 + "--answers \(ShellWords.quoted(answers))\n"))
        let byPath = runSpak(["step", "--resume", runs + "/" + id])
        #expect(byPath.status == 2 && byPath.err.contains("no answer for llm.query"))
    }
}
