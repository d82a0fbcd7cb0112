import Foundation
import SPAKKernel
import Testing

@Suite("Child processes")
struct ChildProcessTests {
    private func spec(_ arguments: [String], timeout: Double = 10, outputLimit: Int = 1 << 20) -> ChildProcess.Spec {
        ChildProcess.Spec(executable: ExecutableSearch.find(arguments[0], path: "/usr/bin:/bin", directory: "/")!,
                          arguments: arguments, environment: ["PATH=/usr/bin:/bin"], directory: "/tmp",
                          timeout: timeout, outputLimit: outputLimit)
    }

    @Test("a large input and a large output do not deadlock each other")
    func inputAndOutput() throws {
        var cat = spec(["cat"], outputLimit: 4 << 20)
        let input = (0..<(2 << 20)).map { UInt8($0 % 251) }
        cat.input = input
        let outcome = try ChildProcess.run(cat)
        #expect(outcome.exitStatus == 0 && outcome.signal == nil && !outcome.timedOut)
        #expect(outcome.stdout.bytes == input && !outcome.stdout.truncated)
    }

    @Test("exit status, signal and working directory are reported")
    func statuses() throws {
        let failed = try ChildProcess.run(spec(["sh", "-c", "pwd; exit 3"]))
        #expect(failed.exitStatus == 3 && String(decoding: failed.stdout.bytes, as: UTF8.self) == "/tmp\n")
        let killed = try ChildProcess.run(spec(["sh", "-c", "kill -9 $$"]))
        #expect(killed.exitStatus == nil && killed.signal == 9)
    }

    @Test("output past the cap is counted, not kept")
    func cap() throws {
        let outcome = try ChildProcess.run(spec(["head", "-c", "100000", "/dev/zero"], outputLimit: 10))
        #expect(outcome.stdout.bytes.count == 10 && outcome.stdout.seen == 100_000 && outcome.stdout.truncated)
    }

    @Test("a child that cannot start is a spawn failure naming the step that failed")
    func spawnFailure() {
        var missing = spec(["true"])
        missing.directory = "/nonexistent-spak-folder"
        #expect { try ChildProcess.run(missing) } throws: { error in
            (error as? ChildProcess.SpawnFailure)?.description.contains("cannot enter the working directory") == true
        }
    }

    @Test("at the deadline the group gets SIGTERM, and SIGKILL after the grace period")
    func deadline() throws {
        var stubborn = spec(["sh", "-c", "trap '' TERM; sleep 30 & wait; wait"], timeout: 0.3)
        stubborn.grace = 0.3
        let started = Date()
        let outcome = try ChildProcess.run(stubborn)
        #expect(outcome.timedOut && outcome.signal == 9)
        #expect(Date().timeIntervalSince(started) < 5)
    }
}
