import Foundation
import SPAKCheck
import SPAKKernel

/// An answer written by a person (`response.txt`, `--response FILE`, standard input).
enum ResponseText {
    /// The answer in `data`: UTF-8, not empty, at most 64 MiB, without its final line break;
    /// `nil` (with the reason printed) when it cannot be used.
    static func answer(_ data: Data, from source: String, io: CommandIO) -> Answer? {
        guard data.count <= Frontend.maxFileSize else {
            io.err("spak: error: the answer (\(source)) is larger than 64 MiB; nothing was recorded\n")
            return nil
        }
        guard var text = String(validating: data, as: UTF8.self) else {
            io.err("spak: error: the answer (\(source)) is not UTF-8 text; nothing was recorded\n")
            return nil
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            io.err("spak: error: the answer (\(source)) is empty; nothing was recorded\n")
            return nil
        }
        if text.hasSuffix("\r\n") { text.removeLast() } else if text.hasSuffix("\n") { text.removeLast() }
        return Answer(value: .string(text), answeredBy: source)
    }

    /// The answer in a file (`-`: standard input).
    static func answer(fromFile path: String, io: CommandIO) -> Answer? {
        let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
        guard let data else {
            io.err("spak: error: cannot read the answer from \(path)\n")
            return nil
        }
        return answer(data, from: path == "-" ? "stdin" : "response-file: \(path)", io: io)
    }
}
