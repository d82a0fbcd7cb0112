import Foundation
import SPAKKernel

/// A run's whole history: for a forked run, its ancestors' events before each fork point,
/// then its own.
///
/// A forked run's `run.json` has `"fork": {"parent": ID, "at": "STEP#N", "seq": K}`; its
/// log starts at seq K with a `run.forked` event, and the parent's events with seq < K are
/// its history. The parent is looked up beside the child (in the folder that holds it).
public struct RunHistory: Sendable {
    /// One run's part of the history: its events with seq below `limit` (all when `nil`).
    public struct Segment: Sendable {
        /// The run's folder.
        public let folder: RunFolder
        /// Events from this seq on belong to a later run of the chain.
        public let limit: Int?
    }

    /// The runs whose events make up the history, oldest ancestor first; the run itself last.
    public let segments: [Segment]
    /// Set when an ancestor is missing: where the history before the earliest seq shown is.
    public let note: String?

    /// The history of the run in `folder`.
    public init(_ folder: RunFolder) throws(RecordError) {
        var chain = [Segment(folder: folder, limit: nil)]
        var seen: Set<String> = [URL(fileURLWithPath: folder.path).standardizedFileURL.path]
        var note: String? = nil
        var current = folder
        while let fork = try Self.readJSON(current.runFile).fields["fork"]?.fields {
            guard let parent = fork["parent"]?.textIfString, case .int(let seq)? = fork["seq"] else {
                throw RecordError("\(current.runFile) has a `fork` without `parent` and `seq`", kind: .corrupt)
            }
            let runsDirectory = (current.path as NSString).deletingLastPathComponent
            guard let parentFolder = try? RunStore.resolve(parent, runsDirectory: runsDirectory.isEmpty ? "." : runsDirectory)
            else {
                note = "the history before seq \(seq) is in run \(parent), which is missing"
                break
            }
            guard seen.insert(URL(fileURLWithPath: parentFolder.path).standardizedFileURL.path).inserted else {
                throw RecordError("\(current.runFile) names an ancestor that is its own descendant (\(parent))", kind: .corrupt)
            }
            chain.insert(Segment(folder: parentFolder, limit: seq), at: 0)
            current = parentFolder
        }
        segments = chain
        self.note = note
    }

    /// The run's own folder.
    public var folder: RunFolder { segments[segments.count - 1].folder }

    /// Calls `body` with each event of the history, in order, reading each log once.
    public func forEach(_ body: (TraceEvent) throws(RecordError) -> Void) throws(RecordError) {
        for segment in segments {
            let reader = try RecordedEventReader(path: segment.folder.eventsFile)
            while let fields = try reader.next() {
                let event = TraceEvent(fields)
                if let limit = segment.limit, let seq = event.seq, seq >= limit { break }
                try body(event)
            }
        }
    }

    /// All the events of the history, in order.
    public func events() throws(RecordError) -> [TraceEvent] {
        var events: [TraceEvent] = []
        try forEach { events.append($0) }
        return events
    }

    /// A JSON file of a run, parsed.
    static func readJSON(_ path: String) throws(RecordError) -> Value {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecordError("\(path) is missing", kind: .corrupt)
        }
        do {
            return try JSON.parse(String(decoding: data, as: UTF8.self))
        } catch {
            throw RecordError("\(path) is corrupted (\(error))", kind: .corrupt)
        }
    }
}
