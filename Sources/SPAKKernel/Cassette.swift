import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A cassette (`spak run --cassette FILE`): the answers to a run's `llm.query` and
/// `tool.run` requests, keyed by the SHA-256 of each request's content, so a program can be
/// run again hermetically: nothing asked of a model, nothing executed.
///
/// The file is JSON lines: a header, one entry per answer
/// (`{"key", "effect", "step", "request", "result", "usage"?}`, a `tool.run` result holding its
/// output as text), and an end line once the recording run ended. Entries with equal keys are
/// played back in the order they were recorded.
public final class Cassette {
    /// How a cassette is used.
    public enum Mode: String, Sendable, CaseIterable {
        /// Record when the file is missing or its recording never ended; otherwise play back
        /// only, and a request it lacks stops the run.
        case once
        /// Play back what it holds; answer other requests from the usual sources and add them.
        case new
        /// Record everything again (the file is replaced when a run starts).
        case all
        /// Only play back, even a cassette whose recording never ended; never write.
        case play
    }

    /// One recorded answer.
    struct Entry {
        let key: String
        let effect: String
        let step: String
        let request: Value
        let result: Value
        let usage: TokenUsage?
        /// Its line in the file.
        let line: Int
    }

    public let path: String
    /// The program's file as locations name it (set when the cassette is attached to a run).
    var programName = "program.spak"
    private var entries: [String: [Entry]] = [:]
    private var order: [Entry] = []
    /// Per key: entries already used by the run (played back, or recorded by it).
    private var used: [String: Int] = [:]
    /// Whether answers not found are recorded (rather than stopping the run).
    public let recording: Bool
    private var lines: Int
    /// Whether the next write starts the file (with its header) anew.
    private var startsFile: Bool
    /// Answers this process added.
    private var recorded = 0
    /// Removed from what is recorded; the machine's own, once attached.
    var secrets = Secrets.none

    /// Opens a cassette (nothing is written until an answer is recorded). `startsRun`: the
    /// run starts now (`all` then records the file anew; on a resumed run it goes on adding).
    public init(path: String, mode: Mode, startsRun: Bool) throws(RecordError) {
        self.path = path
        var ended = false
        var count = 0
        let replaces = mode == .all && startsRun
        if !replaces, let data = FileManager.default.contents(atPath: path) {
            for (offset, text) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
                count = offset + 1
                guard case .map(let fields)? = try? JSON.parse(String(text)) else {
                    throw RecordError("\(path):\(offset + 1): not a cassette line", kind: .invalidRequest)
                }
                if offset == 0 {
                    guard fields["format"] == .string("spak-cassette"), fields["version"] == .int(1) else {
                        throw RecordError("\(path) is not a spak cassette (version 1)", kind: .invalidRequest)
                    }
                    continue
                }
                if fields["format"] == .string("spak-cassette-end") {
                    ended = true
                    continue
                }
                guard let key = fields["key"]?.textIfString, let effect = fields["effect"]?.textIfString,
                      let request = fields["request"], let result = fields["result"] else {
                    throw RecordError("\(path):\(offset + 1): an entry needs key, effect, request and result", kind: .invalidRequest)
                }
                let entry = Entry(key: key, effect: effect, step: fields["step"]?.textIfString ?? "", request: request,
                                  result: result, usage: fields["usage"].flatMap(TokenUsage.init), line: offset + 1)
                entries[key, default: []].append(entry)
                order.append(entry)
            }
        }
        if mode == .play, count == 0 {
            throw RecordError("cannot read the cassette \(path)", kind: .invalidRequest)
        }
        recording = mode == .new || mode == .all || (mode == .once && !ended)
        lines = replaces ? 0 : count
        startsFile = lines == 0
    }

    /// Counts the answers a run already took (or gave) for each request, so a resumed run
    /// goes on with the next recorded answer to a repeated request.
    func noteAnswered(_ effect: String, request: Value) {
        used[Self.key(effect: effect, request: request), default: 0] += 1
    }

    /// The content key of a request: SHA-256 of its effect and request as the trace records them.
    static func key(effect: String, request: Value) -> String {
        var bytes: [UInt8] = []
        JSON.write(.map(["effect": .string(effect), "request": request]), to: &bytes)
        return "sha256:" + SHA256.hash(data: bytes).hexString
    }

    /// The recorded answer to a request, or `nil` when the cassette lacks it and is recording.
    /// Throws when it lacks it and only plays back: the message shows the closest entry.
    func answer(for pending: PendingRequest) throws(RecordError) -> Answer? {
        let key = Self.key(effect: pending.effect, request: pending.request)
        let next = used[key, default: 0]
        if let candidates = entries[key], next < candidates.count {
            used[key] = next + 1
            let entry = candidates[next]
            var answer = Answer(value: entry.result, answeredBy: "cassette: \((path as NSString).lastPathComponent)#\(entry.line)")
            answer.usage = entry.usage
            return answer
        }
        guard !recording else { return nil }
        var message = "the cassette \(path) holds no answer to \(pending.effect) in step `\(pending.step)` "
            + "(\(programName):\(pending.location)); the run waits at this request"
        if let recorded = entries[key] {
            message += "\n  it holds \(recorded.count) answer\(recorded.count == 1 ? "" : "s") to this very request, all used: "
                + "the run asks it more often than the recorded one did"
        } else if let closest = closest(to: pending) {
            message += "\n  closest recorded request (\(path):\(closest.line)):\n"
                + String(Divergence.difference(closest.request, pending.request, path: "request").dropLast())
        }
        message += "\n  to record it: --cassette-mode new (keeps the others) or all (records everything again)"
        throw RecordError(message, kind: .notInCassette)
    }

    /// The entry most like a request: same effect, same step if any, then the fewest differing lines.
    private func closest(to pending: PendingRequest) -> Entry? {
        let sameEffect = order.filter { $0.effect == pending.effect }
        let sameStep = sameEffect.filter { $0.step == pending.step }
        return (sameStep.isEmpty ? sameEffect : sameStep).min { a, b in
            Divergence.difference(a.request, pending.request, path: "").count
                < Divergence.difference(b.request, pending.request, path: "").count
        }
    }

    /// Adds an answer the run got elsewhere (when recording).
    func record(_ pending: PendingRequest, result: Value, usage: TokenUsage?) throws(RecordError) {
        guard recording else { return }
        let key = Self.key(effect: pending.effect, request: pending.request)
        used[key, default: 0] += 1
        var entry: [String: Value] = ["key": .string(key),
                                      "effect": .string(pending.effect), "step": .string(pending.step),
                                      "request": pending.request, "result": secrets.redact(result)]
        if let usage { entry["usage"] = usage.value }
        try append(entry)
        recorded += 1
    }

    /// Marks the recording complete (the run ended): from now on `once` only plays it back.
    func finish() throws(RecordError) {
        guard recording else { return }
        try append(["format": .string("spak-cassette-end"), "entries": .int(order.count + recorded)])
    }

    private func append(_ line: [String: Value]) throws(RecordError) {
        var bytes: [UInt8] = []
        let replacing = startsFile
        if startsFile {
            JSON.write(.map(["format": .string("spak-cassette"), "version": .int(1)]), to: &bytes)
            bytes.append(0x0A)
            lines += 1
        }
        JSON.write(.map(line), to: &bytes)
        bytes.append(0x0A)
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (replacing ? O_TRUNC : O_APPEND)
        let descriptor = open(path, flags, 0o644)
        guard descriptor >= 0 else { throw RecordError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            throw RecordError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        startsFile = false
        lines += 1
    }
}
