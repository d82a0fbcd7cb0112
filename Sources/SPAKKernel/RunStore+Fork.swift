import Foundation
import SPAKDiagnostics

extension RunStore {
    /// Creates the folder of a run forked from `parent` in `state` (just before a step), its
    /// own events starting at `seq`. Built under a hidden name and renamed into place, like a
    /// new run.
    static func startFork(of parent: RecordedRun, state: MachineState, seq: Int, at point: String, runsDirectory: String,
                          workspace: String?, secretVariables: Set<String>) throws(RecordError) -> (machine: Machine, lock: RunLock) {
        let task = parent.info["task"]?.textIfString ?? "run"
        let id = newID(task: task)
        let finalFolder = RunFolder(path: runsDirectory + "/" + id)
        let folder = RunFolder(path: runsDirectory + "/.creating-" + id)
        try FileManager.default.createDirectoryIfNeeded(folder.path)
        let lock = try folder.lock()
        try RunFolder.writeAtomically(parent.source.text, to: folder.programFile, durable: true)
        if FileManager.default.fileExists(atPath: parent.folder.templatesDirectory) {
            try copy(parent.folder.templatesDirectory, to: folder.templatesDirectory)
        }
        // A shared workspace stays shared; the parent's own workspace folder is copied as it is
        // now (files are not versioned: those written after the fork point are there too).
        let recordedWorkspace = parent.info["workspace"]?.textIfString
        let workspacePath = workspace ?? recordedWorkspace
        if workspacePath == nil, FileManager.default.fileExists(atPath: parent.folder.defaultWorkspace) {
            try copy(parent.folder.defaultWorkspace, to: folder.defaultWorkspace)
        }
        var info = parent.info
        info["id"] = .string(id)
        info["created"] = .string(ISO8601DateFormatter().string(from: Date()))
        info["fork"] = .map(["parent": .string(parent.folder.id), "at": .string(point), "seq": .int(seq)])
        info["workspace"] = workspacePath.map(Value.string)
        try RunFolder.writeAtomically(JSON.serialize(.map(info)) + "\n", to: folder.runFile, durable: true)

        let secrets = Secrets(environment: ProcessInfo.processInfo.environment,
                              declared: parent.program.secretNames.union(secretVariables))
        let snapshots = SnapshotLog(folder: folder, stepNames: parent.program.stepNames)
        snapshots.take(state, programHash: parent.programHash, eventCount: seq, logLength: 0)
        try snapshots.flush()
        let log = try EventLog(path: folder.eventsFile, count: seq, length: 0)
        log.secrets = secrets
        let source = SourceFile(path: folder.programFile, validatedBytes: Array(parent.source.text.utf8))
        let machine = Machine(program: parent.program, source: source, folder: folder, log: log,
                              workspace: try Workspace(path: workspacePath ?? folder.defaultWorkspace), secrets: secrets,
                              programHash: parent.programHash, state: state)
        machine.programName = parent.info["source"]?.textIfString ?? "program.spak"
        machine.workspaceGiven = workspacePath
        log.append("run.forked", ["parent": .string(parent.folder.id), "at": .string(point)])
        try machine.checkpoint()
        guard rename(folder.path, finalFolder.path) == 0 else {
            throw RecordError("cannot create \(finalFolder.path): \(String(cString: strerror(errno)))")
        }
        machine.folder = finalFolder
        machine.snapshots = SnapshotLog(folder: finalFolder, stepNames: parent.program.stepNames)
        machine.workspace = try Workspace(path: workspacePath ?? finalFolder.defaultWorkspace)
        return (machine, lock)
    }

    private static func copy(_ source: String, to target: String) throws(RecordError) {
        do {
            try FileManager.default.copyItem(atPath: source, toPath: target)
        } catch {
            throw RecordError("cannot copy \(source) to \(target): \(error.localizedDescription)")
        }
    }
}
