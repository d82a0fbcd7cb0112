import Foundation
import SPAKDiagnostics
import SPAKSyntax

/// A run's record opened for re-execution without performing any effect: what `spak replay`
/// checks a program against and what `spak fork` re-executes from a snapshot. Nothing in the
/// folder is changed and no lock is taken.
struct RecordedRun {
    let folder: RunFolder
    /// `run.json`.
    let info: [String: Value]
    /// `state.json`: where the recorded run stands.
    let state: MachineState
    /// The program the run recorded, and its lowered form.
    let source: SourceFile
    let program: LoweredProgram
    /// The program's task name.
    let taskName: String
    let programHash: String

    /// Opens a run's record; refuses one whose program copy was edited.
    init(folder: RunFolder) throws(RecordError) {
        self.folder = folder
        info = try folder.readJSON(folder.runFile).fields
        guard let state = MachineState(decoding: try folder.readJSON(folder.stateFile)) else {
            throw RecordError("\(folder.stateFile) is not a state this version of spak wrote", kind: .corrupt)
        }
        self.state = state
        guard let hash = info["program_hash"]?.textIfString else { throw RecordError("\(folder.runFile) has no program hash", kind: .corrupt) }
        guard folder.contentHash() == hash else {
            throw RecordError("the program copy in \(folder.path) was edited after the run started; restore it to use the record",
                              kind: .programChanged)
        }
        programHash = hash
        guard let data = FileManager.default.contents(atPath: folder.programFile) else {
            throw RecordError("\(folder.programFile) is missing", kind: .corrupt)
        }
        source = SourceFile(path: folder.programFile, validatedBytes: Array(data))
        let parse = SPAKParser.parse(source)
        guard let task = parse.program.task, !parse.hasErrors else { throw RecordError("\(folder.programFile) no longer parses", kind: .corrupt) }
        program = LoweredProgram(task)
        taskName = task.name.name
    }

    /// For a forked run: the run it was forked from, the step it was forked at, and the first
    /// sequence number of its own events.
    var fork: (parent: String, at: String, seq: Int)? {
        guard case .map(let fork)? = info["fork"], let parent = fork["parent"]?.textIfString,
              let at = fork["at"]?.textIfString, case .int(let seq)? = fork["seq"] else { return nil }
        return (parent, at, seq)
    }

    /// The state a replay of this run starts from: the task's parameters, or for a fork the
    /// snapshot it was forked with (the first in its snapshot file).
    func origin() throws(RecordError) -> MachineState {
        guard fork != nil else { return MachineState(parameters: info["parameters"]?.fields ?? [:]) }
        guard SnapshotLog.recordCount(in: folder, stepCount: program.stepNames.count) > 0 else {
            throw RecordError("\(folder.snapshotIndexFile), which holds the forked run's first state, is missing", kind: .corrupt)
        }
        return try SnapshotLog.snapshot(try SnapshotLog.record(at: 0, in: folder, stepCount: program.stepNames.count), in: folder)
    }

    /// A machine that re-executes `program` from `state`, checked against this record by
    /// `session`: it performs nothing and writes nothing.
    func replayMachine(program: LoweredProgram, source: SourceFile, state: MachineState, session: ReplaySession,
                       templateDirectory: String?) -> Machine {
        let log = EventLog(observing: { session.observe(&$0) }, count: state.eventCount)
        let machine = Machine(program: program, source: source, folder: folder, log: log, workspace: ClosedDoor(),
                              clock: RecordedClock(session), programHash: programHash, state: state)
        machine.replay = session
        machine.templateDirectory = templateDirectory
        machine.programName = info["source"]?.textIfString ?? "program.spak"
        return machine
    }
}

/// The file door of a replay: files are never touched, every answer comes from the record.
private struct ClosedDoor: FileDoor {
    var root: String { "" }
    func read(_ relative: String, limit: Int) throws(Workspace.Refusal) -> String { "" }
    func write(_ relative: String, _ text: String) throws(Workspace.Refusal) {}
}
