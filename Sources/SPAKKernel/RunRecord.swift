import Foundation

/// The exported files of a run: `metrics.json` and `trace.json` (formats in
/// docs/trace-format.md, schemas in docs/schema/).
public enum RunRecord {
    /// The version of `trace.json` and `metrics.json`.
    public static let formatVersion = 1

    /// Writes `trace.json`, then `metrics.json` with the per-call figures the trace holds.
    static func export(folder: RunFolder, state: MachineState, programHash: String, metrics: [String: Value],
                       metricErrors: [String: Value]) throws(RecordError) {
        let calls = try exportTrace(folder: folder, state: state, programHash: programHash)
        try writeMetrics(folder: folder, state: state, metrics: metrics, metricErrors: metricErrors, calls: calls)
    }

    /// Writes `metrics.json`: the program's metrics, the kernel's counters and each
    /// `llm.query` call's tokens and latency.
    private static func writeMetrics(folder: RunFolder, state: MachineState, metrics: [String: Value],
                                     metricErrors: [String: Value], calls: LLMCalls) throws(RecordError) {
        var counters = state.counters.value.fields
        counters["tokens_estimated"] = .bool(calls.anyEstimated)
        var document: [String: Value] = [
            "format": .string("spak-metrics"), "version": .int(formatVersion), "run": .string(folder.id),
            "status": .string(state.status.name), "metrics": .map(metrics),
            "counters": .map(counters), "llm": calls.summary,
        ]
        if !metricErrors.isEmpty { document["metric_errors"] = .map(metricErrors) }
        try RunFolder.writeAtomically(JSON.serialize(.map(document)) + "\n", to: folder.metricsFile, durable: true)
    }

    /// Writes `trace.json` from `events.jsonl`, streaming: memory stays flat however long
    /// the run was. Returns the `llm.query` calls it passed.
    private static func exportTrace(folder: RunFolder, state: MachineState, programHash: String) throws(RecordError) -> LLMCalls {
        let info = (try? folder.readJSON(folder.runFile)) ?? .map([:])
        var run = info.fields
        run["status"] = .string(state.status.name)
        if case .failed(let reason) = state.status { run["reason"] = .string(reason) }
        run["program_hash"] = .string(programHash)
        let temporary = folder.path + "/.trace.json.spak-tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
              let output = FileHandle(forWritingAtPath: temporary),
              let input = FileHandle(forReadingAtPath: folder.eventsFile) else {
            throw RecordError("cannot write \(folder.traceFile)")
        }
        var found = LLMCalls()
        do {
            defer { try? output.close(); try? input.close() }
            let header = "{\"format\":\"spak-trace\",\"version\":\(formatVersion),\"run\":\(JSON.serialize(.map(run))),\"events\":["
            try output.write(contentsOf: Data(header.utf8))
            var first = true
            var calls = LLMCalls()
            var partial: [UInt8] = []
            var out: [UInt8] = []
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                let bytes = [UInt8](chunk)
                out.removeAll(keepingCapacity: true)
                var lineStart = 0
                // Only the new chunk is searched; a line longer than a chunk grows `partial`
                // once per chunk, so even a 100 MB event costs linear time.
                while let newline = bytes[lineStart...].firstIndex(of: 0x0A) {
                    partial.append(contentsOf: bytes[lineStart..<newline])
                    // A cheap shape check (a full parse per event would double the export's
                    // cost): every event line is one JSON object.
                    if !partial.isEmpty, partial.first != 0x7B || partial.last != 0x7D {
                        throw RecordError("\(folder.eventsFile) is damaged: a line is not an event; trace.json was not written",
                                          kind: .corrupt)
                    }
                    if !partial.isEmpty {
                        calls.notice(partial)
                        out.append(contentsOf: first ? [0x0A] : [0x2C, 0x0A])
                        out.append(contentsOf: partial)
                        first = false
                    }
                    partial.removeAll(keepingCapacity: true)
                    lineStart = newline + 1
                }
                partial.append(contentsOf: bytes[lineStart...])
                try output.write(contentsOf: Data(out))
            }
            try output.write(contentsOf: Data("\n]}\n".utf8))
            try output.synchronize()
            found = calls
        } catch let error as RecordError {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw RecordError("cannot write \(folder.traceFile): \(error.localizedDescription)")
        }
        guard rename(temporary, folder.traceFile) == 0 else {
            throw RecordError("cannot write \(folder.traceFile): \(String(cString: strerror(errno)))")
        }
        return found
    }
}
