import Foundation
import SPAKCheck
import SPAKKernel

/// `--responder CMD`: each request's JSON goes to the command's standard input, and its
/// standard output is the answer (the seed's "mock script"). The responder is the user's own
/// program: it runs in the current folder (or `directory`) with spak's whole environment, unconfined.
struct ResponderSource: AnswerSource {
    let command: String
    /// How long one answer may take before the responder is stopped and the run stays
    /// suspended at the request.
    let timeout: Double
    /// The folder the responder runs in.
    var directory = FileManager.default.currentDirectoryPath

    mutating func answer(_ request: PendingRequest, answersUsed: inout Int) throws(AnswerFailure) -> Answer? {
        let words: [String]
        do { words = try CommandWords.split(command) } catch { throw AnswerFailure("the responder `\(command)` cannot be split into words") }
        guard !words.isEmpty else { throw AnswerFailure("the responder command is empty") }
        let environment = ProcessInfo.processInfo.environment
        guard let executable = ExecutableSearch.find(words[0], path: environment["PATH"] ?? "/usr/bin:/bin", directory: directory) else {
            throw AnswerFailure("cannot start the responder `\(command)`: `\(words[0])` is not an executable on PATH")
        }
        var spec = ChildProcess.Spec(executable: executable, arguments: words,
                                     environment: environment.map { "\($0.key)=\($0.value)" }, directory: directory,
                                     timeout: timeout, outputLimit: Frontend.maxFileSize)
        spec.grace = 0.5
        spec.input = Array((JSON.serialize(request.value) + "\n").utf8)
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(spec)
        } catch {
            throw AnswerFailure("cannot start the responder `\(command)`: \(error)")
        }
        guard !outcome.timedOut else {
            throw AnswerFailure("the responder `\(command)` gave no answer within \(Int(timeout)) s and was stopped")
        }
        guard outcome.exitStatus == 0 else {
            let detail = String(decoding: outcome.stderr.bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let status = outcome.exitStatus.map { "exited with \($0)" } ?? "was killed by signal \(outcome.signal ?? 0)"
            throw AnswerFailure("the responder `\(command)` \(status)\(detail.isEmpty ? "" : ": \(detail)")")
        }
        guard !outcome.stdout.truncated else {
            throw AnswerFailure("the responder `\(command)` printed more than 64 MiB")
        }
        var text = String(decoding: outcome.stdout.bytes, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw AnswerFailure("the responder `\(command)` printed nothing")
        }
        return Answer(value: .string(text), answeredBy: "responder: \(command)")
    }
}

/// `--answers FILE`: answers in order, one JSON value per line (a string is the answer text;
/// an object with `exit_code` is a `tool.run` result; `{"answer": "..."}` is also accepted).
/// When the file runs out, the run suspends for a person.
struct AnswersFileSource: AnswerSource {
    let path: String
    /// The non-blank lines with their 1-based line numbers in the file.
    private let lines: [(number: Int, text: String)]

    init(path: String) throws(AnswerFailure) {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else { throw AnswerFailure("cannot read the answers file \(path)") }
        lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated().map { (number: $0.offset + 1, text: String($0.element)) }
            .filter { !$0.text.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    mutating func answer(_ request: PendingRequest, answersUsed: inout Int) throws(AnswerFailure) -> Answer? {
        guard answersUsed < lines.count else { return nil }
        let (number, line) = lines[answersUsed]
        let value: Value
        do { value = try JSON.parse(line) } catch { throw AnswerFailure("\(path):\(number): not a JSON value (\(error))") }
        answersUsed += 1
        let by = "answers: \(path)#\(number)"
        switch value {
        case .string: return Answer(value: value, answeredBy: by)
        case .map(let fields):
            // A reply is text: a non-string `answer` is taken as its JSON.
            if let answer = fields["answer"] { return Answer(value: .string(answer.text), answeredBy: by) }
            return Answer(value: .string(JSON.serialize(value)), answeredBy: by)
        default:
            throw AnswerFailure("\(path):\(number): an answer is a JSON string or object")
        }
    }
}

/// Tries sources in order; the first that answers wins.
struct AnswerChain: AnswerSource {
    var sources: [any AnswerSource]

    mutating func answer(_ request: PendingRequest, answersUsed: inout Int) throws(AnswerFailure) -> Answer? {
        for index in sources.indices {
            if let answer = try sources[index].answer(request, answersUsed: &answersUsed) { return answer }
        }
        return nil
    }
}
