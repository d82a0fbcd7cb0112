import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKSyntax

/// `spak replay`: re-executes a run's program, or an edited one, with every effect answered
/// from the record and none performed, checking each event against the record.
public enum Replay {
    /// How a replay ended.
    public enum Outcome: Sendable {
        /// Every event matched; `status` is where the recorded run stands (`completed`,
        /// `failed`, or `suspended`/`ready` when it had not ended: the replay matched all of it).
        case matched(status: String)
        /// The first place the program did something the record does not hold.
        case diverged(Divergence)
    }

    /// What a replay found.
    public struct Report: Sendable {
        public let run: String
        public let outcome: Outcome
        /// Events compared and found equal.
        public let matchedEvents: Int
    }

    /// Replays a run against its own program, or against `edited` (a checked program whose
    /// templates are read beside it).
    public static func run(_ folder: RunFolder, edited: CheckedProgram? = nil) throws(RecordError) -> Report {
        let record = try RecordedRun(folder: folder)
        var program = record.program
        var source = record.source
        var taskName = record.taskName
        var templateDirectory: String?
        if let edited, let task = edited.parse.program.task {
            if let fork = record.fork {
                throw RecordError("run \(folder.id) is a fork of \(fork.parent): its history before \(fork.at) is in that run; "
                                  + "replay the first run of the line with --program instead", kind: .invalidRequest)
            }
            program = LoweredProgram(task)
            taskName = task.name.name
            source = edited.parse.file
            templateDirectory = (edited.parse.file.path as NSString).deletingLastPathComponent
        }
        if record.state.status.isFinal, SnapshotLog.size(of: folder.eventsFile) < record.state.logLength {
            throw RecordError("\(folder.eventsFile) is shorter than the run's last snapshot says: the record is damaged", kind: .corrupt)
        }
        let session = try ReplaySession(folder: folder, offset: 0, recordIsFinal: record.state.status.isFinal)
        var origin = try record.origin()
        if let edited, let task = edited.parse.program.task {
            // Parameters the edited program adds take their defaults; the run's own are kept.
            let declared = Set(task.parameters.map(\.name.name))
            let given = origin.variables.filter { declared.contains($0.key) }.map { ($0.key, $0.value.text) }
            for (name, value) in (try? Parameters.resolve(given, for: task)) ?? [:] where origin.variables[name] == nil {
                origin.variables[name] = value
            }
        }
        let machine = record.replayMachine(program: program, source: source, state: origin, session: session,
                                           templateDirectory: templateDirectory)
        if record.fork == nil {
            try machine.begin(task: taskName, parameters: record.info["parameters"]?.fields ?? [:])
        }
        var nobody = SuspendForPerson()
        let stop = session.halted ? .paused : try machine.run(answers: &nobody)
        if let failure = session.failure { throw failure }
        switch stop {
        case .completed, .failed: session.programEnded()
        default: break
        }
        if case .suspended(let pending) = stop, record.state.status.isFinal { session.noAnswer(to: pending) }
        guard session.halt == .diverged else {
            return Report(run: folder.id, outcome: .matched(status: record.state.status.name), matchedEvents: session.matched)
        }
        return Report(run: folder.id, outcome: .diverged(divergence(record, machine, session, edited)), matchedEvents: session.matched)
    }

    private static func divergence(_ record: RecordedRun, _ machine: Machine, _ session: ReplaySession,
                                   _ edited: CheckedProgram?) -> Divergence {
        let range = machine.haltedAt.flatMap { machine.sourceRange(ofInstructionAt: $0, event: session.replayed) }
        let name = edited.map { $0.parse.file.path } ?? machine.programName
        let cause = DivergenceCause(
            old: ProgramOutline(record.source), new: ProgramOutline(machine.source),
            templates: { path in
                let recorded = FileManager.default.contents(atPath: record.folder.templatesDirectory + "/" + TemplateFiles.storedPath(path))
                let nowPath = machine.templateDirectory.map { path.hasPrefix("/") || $0.isEmpty ? path : $0 + "/" + path }
                    ?? record.folder.templatesDirectory + "/" + TemplateFiles.storedPath(path)
                let now = FileManager.default.contents(atPath: nowPath)
                return (recorded.map { String(decoding: $0, as: UTF8.self) }, now.map { String(decoding: $0, as: UTF8.self) })
            },
            newName: name)
        return Divergence(recorded: session.recorded, replayed: session.replayed, step: session.recorded?["step"]?.textIfString ?? session.replayed?["step"]?.textIfString ?? machine.state.currentStep,
                          location: range.map { "\(name):\(machine.source.location(of: $0.start))" },
                          cause: cause.explain(recorded: session.recorded, replayed: session.replayed, at: range))
    }
}
