import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A run's folder, `.spak/runs/<id>/`. Everything in it is relative to it, so the folder can
/// be copied to another machine and resumed there.
///
///     run.json          what was run: id, task, program hash, parameters (written once)
///     program.spak      the program, copied; templates/ holds the template files it names
///     state.json        the machine's last snapshot (replaced atomically)
///     events.jsonl      the durable event log (append-only)
///     trace.json        the exported trace, brought up to date whenever the run stops
///     metrics.json      the program's metrics and the kernel's counters, likewise
///     .export.json      where that export got to in the log
///     pending/          prompt.md and request.json while the run waits for an answer
///     response.txt      where a person writes the answer
///     tools/            tool.run output, one file per distinct content, named by its SHA-256
///     workspace/        the default workspace of tool.read, tool.write and tool.run
///     snapshots.jsonl   the machine's state before steps, every 64 events or so (for forks)
///     snapshots.idx     where each snapshot lies, with the step counts at it
public struct RunFolder: Sendable {
    /// The folder's path.
    public let path: String

    /// Opens an existing folder (no check that it is a run; see `RunStore.open`).
    public init(path: String) { self.path = path }

    public var runFile: String { path + "/run.json" }
    public var programFile: String { path + "/program.spak" }
    public var templatesDirectory: String { path + "/templates" }
    public var stateFile: String { path + "/state.json" }
    public var eventsFile: String { path + "/events.jsonl" }
    public var traceFile: String { path + "/trace.json" }
    public var metricsFile: String { path + "/metrics.json" }
    /// Where the last export of `trace.json` and `metrics.json` got to (see `RunRecord`).
    var exportFile: String { path + "/.export.json" }
    public var pendingDirectory: String { path + "/pending" }
    public var promptFile: String { path + "/pending/prompt.md" }
    public var requestFile: String { path + "/pending/request.json" }
    public var responseFile: String { path + "/response.txt" }
    public var defaultWorkspace: String { path + "/workspace" }
    /// The machine's state before steps began, for forks (see `SnapshotLog`).
    public var snapshotsFile: String { path + "/snapshots.jsonl" }
    /// Fixed-width records locating each snapshot (see `SnapshotLog`).
    public var snapshotIndexFile: String { path + "/snapshots.idx" }
    /// What `tool.run` calls printed, one file per distinct output, named by its SHA-256.
    public var toolsDirectory: String { path + "/tools" }
    var lockFile: String { path + "/lock" }

    /// The run's id: the folder's name.
    public var id: String { (path as NSString).lastPathComponent }

    /// Writes a file so that a reader sees the old content or the new, never a mix: a
    /// temporary file, fsynced when `durable`, then renamed over the target. The temporary
    /// file's name is fixed (`.NAME.spak-tmp` beside the target): writers of a run hold its
    /// lock, and a write that a crash cut short is redone under the same name, so no
    /// temporary file is left behind.
    public static func writeAtomically(_ text: String, to target: String, durable: Bool) throws(RecordError) {
        try writeAtomically(bytes: Array(text.utf8), to: target, durable: durable)
    }

    /// Writes bytes the way `writeAtomically(_:to:durable:)` writes text.
    public static func writeAtomically(bytes: [UInt8], to target: String, durable: Bool) throws(RecordError) {
        let directory = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        let temporary = (directory.isEmpty ? "" : directory + "/") + "." + name + ".spak-tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RecordError("cannot write \(target): \(String(cString: strerror(errno)))") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                unlink(temporary)
                throw RecordError("cannot write \(target): \(reason)")
            }
            offset += written
        }
        if durable, fsync(descriptor) != 0 {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            unlink(temporary)
            throw RecordError("cannot sync \(target): \(reason)")
        }
        close(descriptor)
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw RecordError("cannot write \(target): \(reason)")
        }
    }

    /// Reads a JSON file of the run.
    func readJSON(_ file: String) throws(RecordError) -> Value {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw RecordError("\(file) is missing", kind: .corrupt)
        }
        do {
            return try JSON.parse(String(decoding: data, as: UTF8.self))
        } catch {
            throw RecordError("\(file) is corrupted (\(error)); the event log is untouched", kind: .corrupt)
        }
    }

    /// Takes the run's lock for this process, refusing if another process holds it.
    public func lock() throws(RecordError) -> RunLock {
        let descriptor = open(lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RecordError("cannot open \(lockFile): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw RecordError("run \(id) is in use by another spak process; wait for it to finish", kind: .busy)
        }
        return RunLock(descriptor: descriptor)
    }

    /// SHA-256 of the program and its template files, in a fixed order: what `run.json` pins.
    public func contentHash() -> String {
        var hasher = SHA256()
        hasher.update(data: FileManager.default.contents(atPath: programFile) ?? Data())
        let templates = (FileManager.default.subpaths(atPath: templatesDirectory) ?? []).sorted()
        for relative in templates {
            let file = templatesDirectory + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            hasher.update(data: Data(relative.utf8))
            hasher.update(data: FileManager.default.contents(atPath: file) ?? Data())
        }
        return "sha256:" + hasher.finalize().hexString
    }
}

/// A held run lock; released when this value is dropped (or the process dies).
public final class RunLock: Sendable {
    private let descriptor: Int32

    init(descriptor: Int32) { self.descriptor = descriptor }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

extension FileManager {
    func createDirectoryIfNeeded(_ path: String) throws(RecordError) {
        do {
            try createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RecordError("cannot create \(path): \(error.localizedDescription)")
        }
    }
}

extension Sequence<UInt8> {
    /// The bytes in lowercase hex (a digest as it is written in the run record).
    var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
