import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The exported files of a run, `trace.json` and `metrics.json` (formats in
/// docs/trace-format.md, schemas in docs/schema/), brought up to date whenever the run stops:
/// suspended, paused, interrupted, failed or completed.
///
/// Both are `GrowingDocument`s: each stop appends the events logged since the last one (and
/// the `llm.query` calls among them) and rewrites the small suffix that says how the run
/// stands, so a stop costs the same at any length of history. Where the last export got to
/// is kept in `.export.json`; when that file is missing or does not match the documents (an
/// older run, a crash in the middle of an export), both are written again from the whole log.
public enum RunRecord {
    /// The version of `trace.json`.
    public static let traceVersion = 1
    /// The version of `metrics.json` (2: metrics of runs that have not completed).
    public static let metricsVersion = 2

    /// How the run stands, as the exported files say it.
    struct Standing {
        /// `suspended`, `paused`, `interrupted`, `failed` or `completed`.
        let status: String
        /// What the trace's `run` object adds: `reason`, `waiting`, `interrupted_by`.
        var details: [String: Value] = [:]
        /// The metrics: of the completed run, or evaluated over the variables the run has now.
        let metrics: [String: Value]
        /// Why a metric has no value.
        let metricErrors: [String: Value]
    }

    /// Where the last export got to.
    private struct Progress {
        /// The bytes of `events.jsonl` exported.
        var logLength = 0
        var trace: GrowingDocument.Extent?
        var metrics: GrowingDocument.Extent?
        var calls = LLMCalls()

        var value: Value {
            .map(["format": .string("spak-export"), "version": .int(1), "log_length": .int(logLength),
                  "trace": trace?.value ?? .null, "metrics": metrics?.value ?? .null, "llm": calls.value])
        }

        init() {}

        init?(_ value: Value) {
            let fields = value.fields
            guard fields["format"] == .string("spak-export"), fields["version"] == .int(1),
                  case .int(let length)? = fields["log_length"], length >= 0,
                  let trace = GrowingDocument.Extent(fields["trace"]), let metrics = GrowingDocument.Extent(fields["metrics"]),
                  let calls = fields["llm"].flatMap(LLMCalls.init) else { return nil }
            logLength = length
            self.trace = trace
            self.metrics = metrics
            self.calls = calls
        }
    }

    /// Brings `trace.json` and `metrics.json` up to the snapshot `state` (its `log_length`).
    /// When the run has ended (`final`), both are written again from the whole log, which is
    /// checked line by line on the way (damage anywhere in it is found, as it was never read
    /// twice before), and synced. A damaged log removes both rather than leave a trace that
    /// disagrees with it.
    static func export(folder: RunFolder, state: MachineState, programHash: String, standing: Standing,
                       final: Bool) throws(RecordError) {
        do {
            try update(folder: folder, state: state, programHash: programHash, standing: standing, final: final)
        } catch {
            if error.kind == .corrupt { forget(folder, documents: true) }
            throw error
        }
    }

    /// Forgets where the last export got to (and with `documents`, the exported files too), so
    /// the next export starts from the whole log.
    static func forget(_ folder: RunFolder, documents: Bool = false) {
        var files = [folder.exportFile]
        if documents { files += [folder.traceFile, folder.metricsFile] }
        for file in files { try? FileManager.default.removeItem(atPath: file) }
    }

    /// Forgets the export if it went past `logLength` (recovery cut the log back there: what
    /// followed is recomputed, not necessarily to the same bytes).
    static func forgetExport(beyond logLength: Int, in folder: RunFolder) {
        let progress = (try? folder.readJSON(folder.exportFile)).flatMap(Progress.init)
        if (progress?.logLength ?? Int.max) > logLength { forget(folder) }
    }

    private static func update(folder: RunFolder, state: MachineState, programHash: String, standing: Standing,
                               final: Bool) throws(RecordError) {
        var progress = final ? Progress() : (try? folder.readJSON(folder.exportFile)).flatMap(Progress.init) ?? Progress()
        let tracePrefix = #"{"format":"spak-trace","version":\#(traceVersion),"events":["#
        let metricsPrefix = #"{"format":"spak-metrics","version":\#(metricsVersion),"llm":{"calls":["#
        // Both documents go on from the last export only if both are as it left them; else both
        // start again from the whole log.
        if progress.logLength > state.logLength
            || !GrowingDocument.isIntact(folder.traceFile, at: progress.trace, prefix: tracePrefix)
            || !GrowingDocument.isIntact(folder.metricsFile, at: progress.metrics, prefix: metricsPrefix) {
            progress = Progress()
        }
        let trace = try GrowingDocument(path: folder.traceFile, prefix: tracePrefix, continuing: progress.trace)
        let metrics = try GrowingDocument(path: folder.metricsFile, prefix: metricsPrefix, continuing: progress.metrics)
        try copyEvents(of: folder, from: progress.logLength, to: state.logLength, into: trace, metrics: metrics,
                       calls: &progress.calls)
        progress.logLength = state.logLength
        progress.trace = try trace.finish(suffix: traceSuffix(folder: folder, programHash: programHash, standing: standing),
                                          durable: final)
        progress.metrics = try metrics.finish(suffix: metricsSuffix(folder: folder, state: state, standing: standing,
                                                                    calls: progress.calls), durable: final)
        try RunFolder.writeAtomically(JSON.serialize(progress.value) + "\n", to: folder.exportFile, durable: final)
    }

    /// Whether the exported files stop short of the snapshot (a crash came between the
    /// snapshot and the export), or are missing.
    static func isBehind(folder: RunFolder, state: MachineState) -> Bool {
        guard let progress = (try? folder.readJSON(folder.exportFile)).flatMap(Progress.init) else { return true }
        return progress.logLength != state.logLength
    }

    /// Passes the log's bytes from `start` to `end` into the trace, and the `llm.query` calls
    /// among them into `metrics.json`, a chunk at a time (memory stays flat however long the
    /// run was).
    private static func copyEvents(of folder: RunFolder, from start: Int, to end: Int, into trace: GrowingDocument,
                                   metrics: GrowingDocument, calls: inout LLMCalls) throws(RecordError) {
        guard end > start else { return }
        let descriptor = open(folder.eventsFile, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw RecordError("cannot read \(folder.eventsFile): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var offset = start
        var partial: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(1 << 20, end - start))
        while offset < end {
            let wanted = min(chunk.count, end - offset)
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, wanted, off_t(offset)) }
            guard count > 0 else {
                throw RecordError("\(folder.eventsFile) is shorter than the run's snapshot says; trace.json was not written", kind: .corrupt)
            }
            offset += count
            var lineStart = 0
            // Only the new chunk is searched; a line longer than a chunk grows `partial` once per
            // chunk, so even a 100 MB event costs linear time.
            while let newline = chunk[lineStart..<count].firstIndex(of: 0x0A) {
                if partial.isEmpty {
                    try pass(chunk[lineStart..<newline], folder: folder, trace: trace, metrics: metrics, calls: &calls)
                } else {
                    partial.append(contentsOf: chunk[lineStart..<newline])
                    try pass(partial[...], folder: folder, trace: trace, metrics: metrics, calls: &calls)
                    partial.removeAll(keepingCapacity: true)
                }
                lineStart = newline + 1
            }
            partial.append(contentsOf: chunk[lineStart..<count])
        }
        if !partial.isEmpty { try pass(partial[...], folder: folder, trace: trace, metrics: metrics, calls: &calls) }
    }

    private static func pass(_ line: ArraySlice<UInt8>, folder: RunFolder, trace: GrowingDocument, metrics: GrowingDocument,
                             calls: inout LLMCalls) throws(RecordError) {
        guard !line.isEmpty else { return }
        // A cheap shape check (a full parse per event would double the export's cost): every
        // event line is one JSON object.
        guard line.first == 0x7B, line.last == 0x7D else {
            throw RecordError("\(folder.eventsFile) is damaged: a line is not an event; trace.json was not written", kind: .corrupt)
        }
        try trace.append(line)
        if let call = calls.notice(line) {
            var bytes: [UInt8] = []
            JSON.write(call, to: &bytes)
            try metrics.append(bytes)
        }
    }

    /// `],"run":RUN}` where RUN is `run.json` with how the run stands.
    private static func traceSuffix(folder: RunFolder, programHash: String, standing: Standing) -> String {
        var run = ((try? folder.readJSON(folder.runFile)) ?? .map([:])).fields
        run["status"] = .string(standing.status)
        run["program_hash"] = .string(programHash)
        run.merge(standing.details) { _, detail in detail }
        return "\n],\"run\":\(JSON.serialize(.map(run)))}\n"
    }

    /// The end of `metrics.json`: the totals of its calls, then everything else.
    private static func metricsSuffix(folder: RunFolder, state: MachineState, standing: Standing, calls: LLMCalls) -> String {
        var counters = state.counters.value.fields
        counters["tokens_estimated"] = .bool(calls.anyEstimated)
        var document: [String: Value] = [
            "run": .string(folder.id), "status": .string(standing.status), "metrics": .map(standing.metrics),
            "metrics_from": .string(standing.status == "completed" ? "completed_run" : "incomplete_run"),
            "counters": .map(counters),
        ]
        if !standing.metricErrors.isEmpty { document["metric_errors"] = .map(standing.metricErrors) }
        let totals = JSON.serialize(.map(calls.totals))
        let rest = JSON.serialize(.map(document))
        return "\n]," + totals.dropFirst() + "," + rest.dropFirst() + "\n"
    }
}
