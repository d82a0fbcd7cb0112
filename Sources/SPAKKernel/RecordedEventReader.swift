import Foundation

/// Reads a run's `events.jsonl` forward from a byte offset, one event at a time, in chunks:
/// a replay or a fork reads only as far as it goes. A last line that a crash tore is the end
/// of the log; a bad line before it is corruption.
public final class RecordedEventReader {
    private let path: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    /// The file offset of `buffer`'s first byte.
    private var base: Int
    private var atEnd = false

    /// Opens the log at `offset` (a snapshot's log length, or 0).
    public init(path: String, offset: Int = 0) throws(RecordError) {
        self.path = path
        base = offset
        guard let handle = FileHandle(forReadingAtPath: path) else { throw RecordError("cannot read \(path)", kind: .corrupt) }
        self.handle = handle
        do { try handle.seek(toOffset: UInt64(offset)) } catch {
            throw RecordError("cannot read \(path): \(error.localizedDescription)", kind: .corrupt)
        }
    }

    deinit { try? handle.close() }

    /// The next event, or `nil` at the end of the log.
    public func next() throws(RecordError) -> [String: Value]? {
        while true {
            if let newline = buffer[position...].firstIndex(of: 0x0A) {
                let lineOffset = base + position
                let line = buffer[position..<newline]
                position = newline + 1
                guard !line.isEmpty else { continue }
                guard case .map(let event)? = try? JSON.parse(bytes: Array(line)) else {
                    // A bad line followed by more data is damage, not a torn end.
                    if try fill() || position < buffer.count {
                        throw RecordError("\(path) is corrupted at byte \(lineOffset): a line there is not an event",
                                          kind: .corrupt)
                    }
                    return nil
                }
                return event
            }
            guard try fill() else { return nil }  // a last line without a newline is torn
        }
    }

    /// Reads the next chunk; returns whether there was one.
    private func fill() throws(RecordError) -> Bool {
        guard !atEnd else { return false }
        let chunk: Data?
        do { chunk = try handle.read(upToCount: 1 << 18) } catch {
            throw RecordError("cannot read \(path): \(error.localizedDescription)", kind: .corrupt)
        }
        guard let chunk, !chunk.isEmpty else {
            atEnd = true
            return false
        }
        buffer.removeFirst(position)
        base += position
        position = 0
        buffer.append(contentsOf: chunk)
        return true
    }
}
