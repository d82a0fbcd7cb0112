import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `snapshots.jsonl` and `snapshots.idx`: the machine's state before steps begin, so that a
/// run can be forked at any step without re-executing it from the start.
///
/// A snapshot is taken before the first step, then before a step once `interval` events have
/// been logged since the last one; a fork re-executes at most about that many events from the
/// nearest snapshot before its step. `snapshots.jsonl` holds each snapshot as `state.json`
/// would; `snapshots.idx` holds one fixed-width record per snapshot: the log's length and
/// event count then, where the snapshot lies in `snapshots.jsonl`, and how many times each
/// step (in name order) had begun. The snapshot before `STEP#N` is found by binary search over
/// those records, so its cost does not grow with the run's length.
///
/// Both files are written at the next checkpoint and synced before the event log, so no
/// snapshot refers to events that are not on disk; recovery after a crash drops records
/// beyond the log's last snapshot (`truncate`).
final class SnapshotLog {
    /// Events logged between two snapshots, at least.
    static let interval = 64

    /// The program's step names, sorted: the order of the per-step counts in a record.
    let stepNames: [String]
    private let folder: RunFolder
    private var snapshotBytes: [UInt8] = []
    private var indexBytes: [UInt8] = []
    private var snapshotsLength: Int
    /// The event count of the last snapshot taken (`nil`: none yet).
    private var lastEventCount: Int?

    /// Bytes of one record: four 64-bit fields, then a 32-bit count per step.
    static func recordWidth(steps: Int) -> Int { 32 + 4 * steps }

    /// Opens the files of a run to add snapshots.
    init(folder: RunFolder, stepNames: [String]) {
        self.folder = folder
        self.stepNames = stepNames
        snapshotsLength = Self.size(of: folder.snapshotsFile)
        let width = Self.recordWidth(steps: stepNames.count)
        let indexSize = Self.size(of: folder.snapshotIndexFile)
        if indexSize >= width, let last = try? Self.record(at: indexSize / width - 1, in: folder, stepCount: stepNames.count) {
            lastEventCount = last.eventCount
        }
    }

    /// Takes a snapshot of `state` (about to begin a step) if one is due.
    func takeIfDue(_ state: MachineState, programHash: String, eventCount: Int, logLength: Int) {
        if let last = lastEventCount, eventCount - last < Self.interval { return }
        take(state, programHash: programHash, eventCount: eventCount, logLength: logLength)
    }

    /// Takes a snapshot of `state` now.
    func take(_ state: MachineState, programHash: String, eventCount: Int, logLength: Int) {
        var snapshot = state
        snapshot.eventCount = eventCount
        snapshot.logLength = logLength
        let offset = snapshotsLength + snapshotBytes.count
        JSON.write(snapshot.encoded(programHash: programHash), to: &snapshotBytes)
        snapshotBytes.append(0x0A)
        var record = Record(logLength: logLength, eventCount: eventCount, offset: offset,
                            length: snapshotsLength + snapshotBytes.count - offset, starts: [])
        record.starts = stepNames.map { state.counters.stepTimes[$0]?.starts ?? 0 }
        record.append(to: &indexBytes)
        lastEventCount = eventCount
    }

    /// Writes and syncs the snapshots taken since the last call.
    func flush() throws(RecordError) {
        guard !indexBytes.isEmpty else { return }
        try Self.append(snapshotBytes, to: folder.snapshotsFile)
        try Self.append(indexBytes, to: folder.snapshotIndexFile)
        snapshotsLength += snapshotBytes.count
        snapshotBytes.removeAll(keepingCapacity: true)
        indexBytes.removeAll(keepingCapacity: true)
    }

    // MARK: - Records

    /// One record of `snapshots.idx`.
    struct Record: Equatable {
        var logLength: Int
        var eventCount: Int
        /// Where the snapshot's line starts in `snapshots.jsonl`, and its length.
        var offset: Int
        var length: Int
        /// Per step name, in order: times it had begun.
        var starts: [Int]

        func append(to bytes: inout [UInt8]) {
            for field in [logLength, eventCount, offset, length] {
                withUnsafeBytes(of: UInt64(field).littleEndian) { bytes.append(contentsOf: $0) }
            }
            for count in starts { withUnsafeBytes(of: UInt32(clamping: count).littleEndian) { bytes.append(contentsOf: $0) } }
        }

        init(logLength: Int, eventCount: Int, offset: Int, length: Int, starts: [Int]) {
            self.logLength = logLength
            self.eventCount = eventCount
            self.offset = offset
            self.length = length
            self.starts = starts
        }

        init(_ bytes: [UInt8], stepCount: Int) {
            func field(_ at: Int, _ size: Int) -> Int {
                var value: UInt64 = 0
                for index in 0..<size { value |= UInt64(bytes[at + index]) << (8 * UInt64(index)) }
                return Int(clamping: value)
            }
            logLength = field(0, 8)
            eventCount = field(8, 8)
            offset = field(16, 8)
            length = field(24, 8)
            starts = (0..<stepCount).map { field(32 + 4 * $0, 4) }
        }
    }

    /// Record `index` of a run's index file.
    static func record(at index: Int, in folder: RunFolder, stepCount: Int) throws(RecordError) -> Record {
        let width = recordWidth(steps: stepCount)
        return Record(try read(folder.snapshotIndexFile, at: index * width, count: width), stepCount: stepCount)
    }

    /// The number of whole records in a run's index file.
    static func recordCount(in folder: RunFolder, stepCount: Int) -> Int {
        size(of: folder.snapshotIndexFile) / recordWidth(steps: stepCount)
    }

    /// The snapshot a record points to.
    static func snapshot(_ record: Record, in folder: RunFolder) throws(RecordError) -> MachineState {
        guard record.fits(size(of: folder.snapshotsFile)) else {
            throw RecordError("\(folder.snapshotIndexFile) points past the end of \(folder.snapshotsFile)", kind: .corrupt)
        }
        let bytes = try read(folder.snapshotsFile, at: record.offset, count: record.length)
        guard let value = try? JSON.parse(String(decoding: bytes, as: UTF8.self)), let state = MachineState(decoding: value) else {
            throw RecordError("\(folder.snapshotsFile) is damaged at byte \(record.offset)", kind: .corrupt)
        }
        return state
    }

    /// The last record taken before step `stepIndex` (in `stepNames`) began for the
    /// `occurrence`th time: a binary search, since each step's count never decreases.
    static func lastRecord(before occurrence: Int, ofStep stepIndex: Int, in folder: RunFolder, stepCount: Int)
        throws(RecordError) -> Record?
    {
        var low = 0
        var high = recordCount(in: folder, stepCount: stepCount)
        // Invariant: records below `low` qualify, records from `high` on do not.
        while low < high {
            let middle = (low + high) / 2
            if try record(at: middle, in: folder, stepCount: stepCount).starts[stepIndex] < occurrence {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low == 0 ? nil : try record(at: low - 1, in: folder, stepCount: stepCount)
    }

    /// Drops what a crash left past the log's last snapshot: records of events that were
    /// recomputed, a torn record or snapshot line, and records that point past the snapshots
    /// (a damaged or missing `snapshots.jsonl`: forks then start further back, and the run
    /// itself goes on). Never lengthens a file.
    static func truncate(_ folder: RunFolder, stepCount: Int, toLogLength logLength: Int) throws(RecordError) {
        let width = recordWidth(steps: stepCount)
        let indexSize = size(of: folder.snapshotIndexFile)
        let snapshotsSize = size(of: folder.snapshotsFile)
        var kept = indexSize / width
        while kept > 0 {
            let last = try record(at: kept - 1, in: folder, stepCount: stepCount)
            if last.logLength <= logLength, last.fits(snapshotsSize) { break }
            kept -= 1
        }
        let snapshotsEnd = kept == 0 ? 0 : try record(at: kept - 1, in: folder, stepCount: stepCount).end
        if kept * width != indexSize { try cut(folder.snapshotIndexFile, to: kept * width) }
        if snapshotsSize > snapshotsEnd { try cut(folder.snapshotsFile, to: snapshotsEnd) }
    }

    // MARK: - Files

    static func size(of path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    private static func read(_ path: String, at offset: Int, count: Int) throws(RecordError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw RecordError("cannot read \(path): \(String(cString: strerror(errno)))", kind: .corrupt) }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(offset)) }
        guard got == count else { throw RecordError("\(path) is shorter than its index says", kind: .corrupt) }
        return bytes
    }

    private static func append(_ bytes: [UInt8], to path: String) throws(RecordError) {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RecordError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else { throw RecordError("cannot write \(path): \(String(cString: strerror(errno)))") }
            offset += written
        }
        guard fsync(descriptor) == 0 else { throw RecordError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }

    private static func cut(_ path: String, to length: Int) throws(RecordError) {
        guard Glibc.truncate(path, off_t(length)) == 0 else {
            throw RecordError("cannot truncate \(path): \(String(cString: strerror(errno)))")
        }
    }
}

extension SnapshotLog.Record {
    /// Where the snapshot's line ends in `snapshots.jsonl` (only for a record that `fits`).
    var end: Int { offset + length }

    /// Whether the snapshot lies within a `snapshots.jsonl` of `size` bytes (a damaged record
    /// may hold any numbers).
    func fits(_ size: Int) -> Bool {
        let (end, overflow) = offset.addingReportingOverflow(length)
        return !overflow && offset >= 0 && length > 0 && end <= size
    }
}
