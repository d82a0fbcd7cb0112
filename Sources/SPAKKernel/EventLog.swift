import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A problem with a run's files, or with what was asked of the run, that stops the kernel
/// from going on safely. Nothing already recorded is changed when one is thrown.
public struct RecordError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem: commands give each kind its own exit code.
    public enum Kind: Sendable {
        /// A file could not be read or written (a full disk, permissions).
        case io
        /// No run by that name.
        case unknownRun
        /// A record file is damaged, or the record contradicts itself.
        case corrupt
        /// The run's program was edited after the run started.
        case programChanged
        /// The run is not in a state that allows what was asked (resume with nothing pending).
        case wrongState
        /// Another process holds the run.
        case busy
        /// A cassette that only plays back holds no answer to a request.
        case notInCassette
        /// What was asked names something the run does not have (a step it never ran).
        case invalidRequest
        /// The source asked for an answer failed (a model server that gave up, a responder
        /// that crashed); the run is suspended at the request and can be resumed later.
        case unanswered
        /// A stop request (Ctrl-C, SIGTERM) came while the run waited for an answer; the run
        /// still waits at its request.
        case interrupted
    }

    /// What kind of problem.
    public let kind: Kind
    /// What is wrong, in words a user can act on.
    public let message: String

    /// Creates an error.
    public init(_ message: String, kind: Kind = .io) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// `events.jsonl`: the durable, append-only record of a run, one JSON event per line.
///
/// Events are buffered and written in batches; `sync()` writes them and fsyncs the file.
/// The machine syncs at every effect boundary and before it suspends or ends, so what an
/// effect returned is on disk before anything depends on it. Events after the last sync
/// are recomputable from the last snapshot, which is how recovery treats them.
public final class EventLog {
    /// The file's path (empty for a log that only observes).
    public let path: String
    private let descriptor: Int32
    /// For a replay: receives every event instead of the file (nothing is written).
    private let observer: ((inout [String: Value]) -> Void)?
    // The log is used by one machine on one thread; the runtime's exclusivity checks on these
    // hot properties cost more than the work they guard.
    @exclusivity(unchecked) private var buffer: [UInt8] = []
    /// Events written or buffered so far (the next event's sequence number).
    @exclusivity(unchecked) public private(set) var count: Int
    /// Bytes written or buffered so far.
    @exclusivity(unchecked) public private(set) var length: Int
    /// Where events get their time.
    let clock: any Clock
    /// Removed from every event before it is written.
    var secrets = Secrets.none

    /// Opens (or creates) the log for appending; `count` and `length` say where it stands.
    public init(path: String, count: Int, length: Int, clock: any Clock = SystemClock()) throws(RecordError) {
        self.path = path
        self.count = count
        self.length = length
        self.clock = clock
        observer = nil
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RecordError("cannot open \(path): \(String(cString: strerror(errno)))") }
    }

    /// A log that writes nothing and hands each event to `observer` (a replay compares them
    /// with the record); `count` is the first event's sequence number.
    init(observing observer: @escaping (inout [String: Value]) -> Void, count: Int, clock: any Clock = SystemClock()) {
        path = ""
        descriptor = -1
        self.observer = observer
        self.count = count
        length = 0
        self.clock = clock
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Appends an event: `type` and the fields, plus `seq` and `time`.
    public func append(_ type: String, _ fields: [String: Value] = [:]) {
        var event = secrets.isEmpty ? fields : fields.mapValues { secrets.redact($0) }
        event["type"] = .string(type)
        event["seq"] = .int(count)
        event["time"] = .float((clock.now() * 1000).rounded() / 1000)
        if let observer {
            count += 1
            observer(&event)
            return
        }
        let before = buffer.count
        JSON.write(.map(event), to: &buffer)
        buffer.append(0x0A)
        count += 1
        length += buffer.count - before
        // A failed batch write is retried (from where it stopped) and reported at the next sync.
        if buffer.count >= 1 << 16 { try? writeBuffer() }
    }

    /// Writes buffered events and fsyncs the file.
    public func sync() throws(RecordError) {
        guard descriptor >= 0 else { return }
        try writeBuffer()
        guard fsync(descriptor) == 0 else { throw RecordError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }

    private func writeBuffer() throws(RecordError) {
        var offset = 0
        defer { buffer.removeFirst(offset) }  // what was written is never written again
        while offset < buffer.count {
            let written = buffer[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else {
                throw RecordError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// What lies in the log past a snapshot: whole events, and a torn last line if a crash
    /// cut one short.
    public struct Tail: Sendable {
        /// The events, in order.
        public var events: [Value] = []
        /// The byte offset and length of a torn last line, if any.
        public var torn: (offset: Int, length: Int)?
    }

    /// Reads the events after byte `offset` (a snapshot's log length). A bad line that is
    /// not the last is corruption, not a crash, and is an error.
    public static func tail(of path: String, after offset: Int) throws(RecordError) -> Tail {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw RecordError("cannot read \(path)") }
        defer { try? handle.close() }
        let data: Data
        do {
            try handle.seek(toOffset: UInt64(offset))
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw RecordError("cannot read \(path): \(error.localizedDescription)")
        }
        var tail = Tail()
        let bytes = [UInt8](data)
        var lineStart = 0
        while lineStart < bytes.count {
            let newline = bytes[lineStart...].firstIndex(of: 0x0A)
            let lineEnd = newline ?? bytes.count
            let text = String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self)
            let event = try? JSON.parse(text)
            if newline == nil || event == nil {
                guard newline == nil || lineEnd + 1 == bytes.count else {
                    throw RecordError("\(path) is corrupted at byte \(offset + lineStart): a line there is not an event",
                                      kind: .corrupt)
                }
                tail.torn = (offset + lineStart, bytes.count - lineStart)
                break
            }
            tail.events.append(event!)
            lineStart = lineEnd + 1
        }
        return tail
    }

    /// Cuts the file back to `length` bytes (dropping recomputable events after a snapshot).
    public static func truncate(_ path: String, to length: Int) throws(RecordError) {
        guard Glibc.truncate(path, off_t(length)) == 0 else {
            throw RecordError("cannot truncate \(path): \(String(cString: strerror(errno)))")
        }
    }
}
