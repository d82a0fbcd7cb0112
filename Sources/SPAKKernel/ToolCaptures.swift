import Crypto
import Foundation

/// The `tools/` folder of a run: what `tool.run` calls printed, byte for byte, one file per
/// distinct content named by its SHA-256. The trace refers to these files instead of
/// holding the output; the variable a call binds holds the output as text.
///
/// A call's result is recorded as
///
///     {"exit_code": 0, "signal": 0, "timed_out": false, "duration_ms": 12, "truncated": false,
///      "stdout": {"sha256": "…", "bytes": 5, "seen_bytes": 5},
///      "stderr": {"sha256": "…", "bytes": 0, "seen_bytes": 0}}
///
/// (`utf8: false` is added to a stream that is not valid UTF-8: its text replaces the bad
/// bytes with U+FFFD, while its file keeps them).
enum ToolCaptures {
    /// The name of the fields that hold the two streams.
    static let streams = ["stdout", "stderr"]

    /// Stores one stream's kept bytes and returns its reference.
    static func store(_ bytes: [UInt8], seen: Int, in folder: RunFolder) throws(RecordError) -> Value {
        let digest = hexDigest(bytes)
        var reference: [String: Value] = ["sha256": .string(digest), "bytes": .int(bytes.count),
                                          "seen_bytes": .int(max(seen, bytes.count))]
        if String(validating: bytes, as: UTF8.self) == nil { reference["utf8"] = .bool(false) }
        guard !bytes.isEmpty else { return .map(reference) }
        let file = folder.toolsDirectory + "/" + digest
        if !FileManager.default.fileExists(atPath: file) {
            try FileManager.default.createDirectoryIfNeeded(folder.toolsDirectory)
            try RunFolder.writeAtomically(bytes: bytes, to: file, durable: true)
        }
        return .map(reference)
    }

    /// The bytes a reference names, checked against its hash.
    static func load(_ reference: Value, from folder: RunFolder) throws(RecordError) -> [UInt8] {
        guard case .string(let digest)? = reference.fields["sha256"], case .int(let count)? = reference.fields["bytes"],
              digest.utf8.count == 64, digest.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw RecordError("a tool.run result in the log names no valid output file", kind: .corrupt)
        }
        guard count > 0 else { return [] }
        let file = folder.toolsDirectory + "/" + digest
        guard let data = FileManager.default.contents(atPath: file) else {
            throw RecordError("\(file), a tool.run output the log names, is missing", kind: .corrupt)
        }
        let bytes = [UInt8](data)
        guard hexDigest(bytes) == digest else {
            throw RecordError("\(file) does not hold what the log recorded (its hash differs)", kind: .corrupt)
        }
        return bytes
    }

    /// SHA-256 in lowercase hex, the name of a `tools/` file.
    private static func hexDigest(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).hexString
    }

    /// What a program binds from a recorded result: the streams as text.
    static func binding(of recorded: Value, from folder: RunFolder) throws(RecordError) -> Value {
        var fields = recorded.fields
        for stream in streams {
            fields[stream] = .string(String(decoding: try load(fields[stream] ?? .null, from: folder), as: UTF8.self))
        }
        return .map(fields)
    }

    /// The recorded form of a result given as text (by an answers file, a responder or a
    /// person): its streams go to files like a live call's.
    static func record(_ binding: Value, in folder: RunFolder) throws(RecordError) -> Value {
        var fields = binding.fields
        for stream in streams {
            let bytes = Array((fields[stream]?.text ?? "").utf8)
            fields[stream] = try store(bytes, seen: bytes.count, in: folder)
        }
        return .map(fields)
    }
}
