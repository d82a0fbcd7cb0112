import ArgumentParser
import Foundation
import SPAKBackends
import SPAKCheck
import SPAKDiagnostics
import SPAKKernel

/// `spak test [DIR]`: run each agent test with its cassette and check its expectations.
struct TestCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run agent programs' tests against their cassettes and check what the runs end with.",
        discussion: """
            A test is DIR/NAME.spak (expectations, if any, in NAME.test.json beside it) or a \
            NAME.test.json whose "program" names the program. Each runs from its cassette \
            (NAME.cassette.jsonl unless the test names one): no model is asked and no command \
            runs, so tests are hermetic. The run must end as the test expects: status (default \
            completed), variables, metrics, counters, invariants (see docs/time-travel.md, \
            section "spak test"). With --record, a missing cassette is recorded from --backend, \
            --responder, --answers or (for tool.run) --live. Exit codes: 0 every test passed, 1 \
            a test failed, 2 no tests or an unreadable test.
            """
    )

    @ArgumentParser.Argument(help: "The folder holding the tests.")
    var directory = "tests"

    @Flag(help: "Record missing cassettes, answering from the sources given.")
    var record = false

    @Option(help: "The folder that holds the tests' run folders.")
    var runsDir = ".spak/test-runs"

    @OptionGroup var live: LiveOptions
    @OptionGroup var answers: AnswerOptions
    @OptionGroup(title: "Model backend") var backend: BackendOptions

    func validate() throws {
        if !record, live.live || answers.namesSources || backend.backend != nil {
            throw ValidationError("answer sources (--live, --responder, --answers, --backend) are for --record only")
        }
    }

    func execute(io: CommandIO) -> ExitStatus {
        let specs: [TestSpec]
        do {
            specs = try Self.discover(directory)
        } catch {
            io.err("spak: error: \(error)\n")
            return .usageOrIO
        }
        guard !specs.isEmpty else {
            io.err("spak: error: no tests in \(directory) (NAME.spak or NAME.test.json files)\n")
            return .usageOrIO
        }
        let width = specs.map(\.name.count).max() ?? 0
        var failed = 0
        for spec in specs {
            let (problems, run) = check(spec, io: io)
            let name = spec.name.padding(toLength: width, withPad: " ", startingAt: 0)
            if problems.isEmpty {
                io.out("PASS \(name)  \(run.map { "(run \($0))" } ?? "")\n")
            } else {
                failed += 1
                io.out("FAIL \(name)  \(problems[0])\n")
                for problem in problems.dropFirst() { io.out("     \(String(repeating: " ", count: width))  \(problem)\n") }
                if let run { io.out("     \(String(repeating: " ", count: width))  run: \(runsDir)/\(run)\n") }
            }
        }
        io.out("\(specs.count) test\(specs.count == 1 ? "" : "s"): \(specs.count - failed) passed, \(failed) failed\n")
        return failed == 0 ? .success : .failure
    }

    /// Runs one test; returns what went wrong (empty: it passed) and its run's id.
    private func check(_ spec: TestSpec, io: CommandIO) -> ([String], String?) {
        let checked: CheckedProgram
        do { checked = try Frontend.check(path: spec.program) } catch { return (["\(error)"], nil) }
        guard !checked.hasErrors, let task = checked.parse.program.task else {
            return (["the program has errors:\n" + DiagnosticRenderer().render(checked.bag)], nil)
        }
        if !record, !FileManager.default.fileExists(atPath: spec.cassette) {
            return (["no cassette \(spec.cassette); record one with `spak test --record` and an answer source"], nil)
        }
        var runID: String?
        do {
            let values = try Parameters.resolve(spec.parameters, for: task)
            // Without --record nothing but the cassette answers, whatever the environment says.
            let model = record ? try backend.backend(io: io, otherSources: answers.namesSources) : nil
            var source = record ? try answers.source(backend: model) : AnswerChain(sources: [])
            let tape = try Cassette(path: spec.cassette, mode: record ? .once : .play, startsRun: true)
            let started = try RunStore.start(checked, parameters: values, runsDirectory: runsDir, workspace: answers.workspace,
                                             secretVariables: model?.secretVariables ?? [])
            runID = started.machine.runFolder.id
            if let files = spec.workspace { try Self.copyContents(of: files, into: started.machine.workspaceRoot) }
            try live.apply(to: started.machine)
            try started.machine.attach(tape)
            let stop = try withExtendedLifetime(started.lock) { try started.machine.run(answers: &source) }
            var problems = try spec.expectations.failures(of: started.machine.runFolder)
            if case .suspended(let pending) = stop, spec.expectations.status != "suspended" {
                problems.insert("the run waits for an answer to \(pending.effect) in step `\(pending.step)` that the cassette "
                                + "does not hold\(record ? " and no source gave" : "")", at: 0)
            }
            return (problems, runID)
        } catch {
            return (["\(error)"], runID)
        }
    }

    /// The tests in a folder (and its subfolders), by name.
    static func discover(_ directory: String) throws(RecordError) -> [TestSpec] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RecordError("no folder \(directory)", kind: .invalidRequest)
        }
        let files = (FileManager.default.subpaths(atPath: directory) ?? []).sorted()
        let present = Set(files)
        var specs: [TestSpec] = []
        for file in files {
            let full = directory + "/" + file
            if file.hasSuffix(".spak") {
                let stem = String(file.dropLast(5))
                let spec = present.contains(stem + ".test.json") ? directory + "/" + stem + ".test.json" : nil
                specs.append(try TestSpec(name: stem, spec: spec, program: full))
            } else if file.hasSuffix(".test.json"), !present.contains(String(file.dropLast(10)) + ".spak") {
                specs.append(try TestSpec(name: String(file.dropLast(10)), spec: full, program: nil))
            }
        }
        return specs
    }

    private static func copyContents(of source: String, into target: String) throws(RecordError) {
        do {
            for name in try FileManager.default.contentsOfDirectory(atPath: source) {
                try FileManager.default.copyItem(atPath: source + "/" + name, toPath: target + "/" + name)
            }
        } catch {
            throw RecordError("cannot copy the test's workspace \(source): \(error.localizedDescription)")
        }
    }
}
