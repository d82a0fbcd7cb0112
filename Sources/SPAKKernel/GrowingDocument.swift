import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A JSON document updated in place: a fixed prefix, then items that only ever grow (the
/// trace's events, the calls of `metrics.json`), then a suffix rewritten at every update (the
/// run's status, its metrics). An update cuts the old suffix off, appends the new items and
/// writes the new suffix, so its cost is the new items', not the document's.
final class GrowingDocument {
    /// Where an update left the document: the end of its items, how many there are, and the
    /// file's size with the suffix.
    struct Extent: Equatable {
        var itemsEnd = 0
        var items = 0
        var size = 0

        var value: Value { .map(["items_end": .int(itemsEnd), "items": .int(items), "size": .int(size)]) }

        init() {}

        init?(_ value: Value?) {
            guard let fields = value?.fields, case .int(let end)? = fields["items_end"], case .int(let items)? = fields["items"],
                  case .int(let size)? = fields["size"], end >= 0, items >= 0, size >= end else { return nil }
            itemsEnd = end
            self.items = items
            self.size = size
        }
    }

    private let path: String
    private let descriptor: Int32
    private var extent: Extent
    private var buffer: [UInt8] = []

    /// Whether the file at `path` is as an update that ended at `extent` left it (by its size):
    /// `false` for no extent, a missing file, or one a crash cut short or another writer changed.
    static func isIntact(_ path: String, at extent: Extent?, prefix: String) -> Bool {
        guard let extent, extent.itemsEnd >= prefix.utf8.count else { return false }
        var info = stat()
        return stat(path, &info) == 0 && Int(info.st_size) == extent.size
    }

    /// Opens the document to go on from `extent` (see `isIntact`), or, with `nil`, starts it
    /// again with `prefix` and no items.
    init(path: String, prefix: String, continuing extent: Extent?) throws(RecordError) {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RecordError("cannot write \(path): \(String(cString: strerror(errno)))") }
        self.extent = extent ?? Extent()
        if extent == nil { buffer = Array(prefix.utf8) }
    }

    deinit { close(descriptor) }

    /// Adds one item (a JSON value's bytes).
    func append(_ item: some Collection<UInt8>) throws(RecordError) {
        if extent.items > 0 { buffer.append(0x2C) }
        buffer.append(0x0A)
        buffer.append(contentsOf: item)
        extent.items += 1
        if buffer.count >= 1 << 20 { try writeBuffer() }
    }

    /// Writes the suffix after the items, cuts what followed, and (when `durable`) syncs the
    /// file; returns where the document now ends.
    func finish(suffix: String, durable: Bool) throws(RecordError) -> Extent {
        try writeBuffer()
        let tail = Array(suffix.utf8)
        try write(tail, at: extent.itemsEnd)
        extent.size = extent.itemsEnd + tail.count
        guard ftruncate(descriptor, off_t(extent.size)) == 0, !durable || fsync(descriptor) == 0 else {
            throw RecordError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return extent
    }

    private func writeBuffer() throws(RecordError) {
        guard !buffer.isEmpty else { return }
        try write(buffer, at: extent.itemsEnd)
        extent.itemsEnd += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    private func write(_ bytes: [UInt8], at offset: Int) throws(RecordError) {
        var done = 0
        while done < bytes.count {
            let written = bytes[done...].withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset + done)) }
            guard written > 0 else { throw RecordError("cannot write \(path): \(String(cString: strerror(errno)))") }
            done += written
        }
    }
}
