import Foundation
import SPAKKernel

/// Reads `events.jsonl` in one streaming pass, one event at a time, without holding the file
/// in memory.
///
/// A last line that does not parse or has no newline is a write a crash cut short and is
/// skipped; a line that does not parse followed by another line is corruption
/// (`RecordError` kind `.corrupt`).
public enum EventReader {
    /// Calls `body` with each event of the file, in order, until it returns `false`.
    public static func forEach(
        in path: String, _ body: (TraceEvent) throws(RecordError) -> Bool
    ) throws(RecordError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw RecordError("cannot read \(path)", kind: .corrupt)
        }
        defer { try? handle.close() }
        var pending: [UInt8] = []
        var offset = 0  // the byte offset of `pending`'s first byte
        var badLine: Int? = nil  // the offset of a line that did not parse, if it is the last so far
        func line(_ bytes: ArraySlice<UInt8>, at start: Int) throws(RecordError) -> Bool {
            if let bad = badLine {
                throw RecordError("\(path) is corrupted at byte \(bad): a line there is not an event", kind: .corrupt)
            }
            guard let value = try? JSON.parse(String(decoding: bytes, as: UTF8.self)), case .map(let fields) = value else {
                badLine = start
                return true
            }
            return try body(TraceEvent(fields))
        }
        while true {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: 1 << 16)
            } catch {
                throw RecordError("cannot read \(path): \(error.localizedDescription)", kind: .corrupt)
            }
            guard let chunk, !chunk.isEmpty else { break }
            pending.append(contentsOf: chunk)
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                guard try line(pending[start..<newline], at: offset + start) else { return }
                start = newline + 1
            }
            pending.removeFirst(start)
            offset += start
        }
        // A last line without a newline is a write a crash cut short, as the kernel reads it.
        if !pending.isEmpty, let bad = badLine {
            throw RecordError("\(path) is corrupted at byte \(bad): a line there is not an event", kind: .corrupt)
        }
    }

    /// All the events of the file, in order.
    public static func events(in path: String) throws(RecordError) -> [TraceEvent] {
        var events: [TraceEvent] = []
        try forEach(in: path) { event in
            events.append(event)
            return true
        }
        return events
    }
}
