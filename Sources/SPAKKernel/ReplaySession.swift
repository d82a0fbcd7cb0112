/// A replay in progress: the machine re-executes a program while every event it logs is
/// checked against the record, and every effect is answered from the record instead of being
/// performed. It halts at the first divergence, at the end of a record that has not ended, or
/// (for a fork) just before a chosen step begins.
final class ReplaySession {
    /// Why the replay stopped before the program did.
    enum Halt: Equatable {
        /// The program logged something the record does not hold here.
        case diverged
        /// The record stops here and the run it recorded had not ended (it waits, or was paused).
        case recordEnded
        /// The fork target: the step is about to begin.
        case target
    }

    /// One event of the record that the program determines, with the attempts logged before it.
    struct Upcoming {
        let event: [String: Value]
        let attempts: [Value]
    }

    private let reader: RecordedEventReader
    private let folder: RunFolder
    /// Whether the recorded run had ended (completed or failed) when the replay began.
    private let recordIsFinal: Bool
    private var upcoming: Upcoming?
    private var readAll = false
    /// The time of the last event matched, and the time the recorded run spent waiting for
    /// answers between processes (from `run.suspended` to `run.resumed`), for `RecordedClock`.
    private var lastTime = 0.0
    private var suspendedAt: Double?
    private var waited = 0.0
    /// The fork target: stop before this step begins for this time.
    let target: (step: String, occurrence: Int)?

    /// Why the replay halted, if it did.
    private(set) var halt: Halt?
    /// The first divergence: what the record holds (`nil`: it had ended) and what the program
    /// logged (`nil`: it ended first).
    private(set) var recorded: [String: Value]?
    private(set) var replayed: [String: Value]?
    /// The record could not be read.
    private(set) var failure: RecordError?
    /// Events compared and found equal.
    private(set) var matched = 0
    /// The sequence number of the recorded event the replay halted before (a fork's start).
    private(set) var haltSeq: Int?

    init(folder: RunFolder, offset: Int, recordIsFinal: Bool, target: (step: String, occurrence: Int)? = nil) throws(RecordError) {
        self.folder = folder
        reader = try RecordedEventReader(path: folder.eventsFile, offset: offset)
        self.recordIsFinal = recordIsFinal
        self.target = target
    }

    /// Whether the machine should stop now.
    var halted: Bool { halt != nil }

    /// The next event of the record that the program determines, read if needed.
    private func peek() -> Upcoming? {
        if upcoming == nil, !readAll {
            var attempts: [Value] = []
            do {
                while let event = try reader.next() {
                    if EventComparison.isEssential(event) {
                        upcoming = Upcoming(event: event, attempts: attempts)
                        break
                    }
                    switch event["type"]?.textIfString {
                    case "effect.attempt":
                        attempts.append(.map(event.filter { !["index", "seq", "time", "type"].contains($0.key) }))
                    case "run.suspended":
                        suspendedAt = event["time"]?.number
                    case "run.resumed":
                        if let since = suspendedAt, let time = event["time"]?.number { waited += max(0, time - since) }
                        suspendedAt = nil
                    default:
                        break
                    }
                }
                if upcoming == nil { readAll = true }
            } catch {
                failure = error
                halt = .diverged
            }
        }
        return upcoming
    }

    /// Checks an event the machine logged against the record.
    func observe(_ event: inout [String: Value]) {
        guard halt == nil, EventComparison.isEssential(event) else { return }
        guard let next = peek() else {
            if halt != nil { return }
            if recordIsFinal {
                replayed = event
                halt = .diverged
            } else {
                halt = .recordEnded
            }
            return
        }
        guard EventComparison.sameEssence(next.event, event) else {
            recorded = next.event
            replayed = event
            halt = .diverged
            return
        }
        matched += 1
        lastTime = next.event["time"]?.number ?? lastTime
        upcoming = nil
    }

    /// Called when the program has ended: the record must have ended too.
    func programEnded() {
        guard halt == nil, let next = peek() else { return }
        recorded = next.event
        halt = .diverged
    }

    /// Whether the machine must stop before a step begins (`occurrence`: the time it would
    /// begin now, from 1): the fork target.
    func haltsBefore(step: String, occurrence: Int) -> Bool {
        guard halt == nil, let target, target.step == step, target.occurrence == occurrence else { return false }
        halt = .target
        haltSeq = peek().flatMap { if case .int(let seq)? = $0.event["seq"] { seq } else { nil } }
        return true
    }

    /// The record's `budget.exceeded` event for `budget`, if the budget ran out here (the
    /// clock is an input the record holds: a replay does not measure time).
    func recordedBudgetExceeded(_ budget: String) -> [String: Value]? {
        guard halt == nil, let next = peek(), next.event["type"] == .string("budget.exceeded"),
              next.event["budget"] == .string(budget) else { return nil }
        return next.event
    }

    /// The recorded run's clock at this point: when the next event was logged (or the last,
    /// at the end), less the time it spent waiting for answers.
    func recordedNow() -> Double {
        (peek()?.event["time"]?.number ?? lastTime) - waited
    }

    /// The recorded end of the run right after a request it made, if that is what the record
    /// holds (a command that could not be started fails the run instead of answering).
    func recordedFailure() -> [String: Value]? {
        guard halt == nil, let next = peek(), next.event["type"] == .string("run.failed") else { return nil }
        return next.event
    }

    /// The program waits for an answer to `pending` where the record, which ended, holds
    /// something else.
    func noAnswer(to pending: PendingRequest) {
        guard halt == nil else { return }
        recorded = peek()?.event
        replayed = ["type": .string("run.suspended"), "index": .int(pending.index), "effect": .string(pending.effect)]
        halt = .diverged
    }

    /// The recorded answer to a request the machine has just made, or `nil` when the record
    /// holds none (it ends there, or the replay halted).
    func answer(for pending: PendingRequest) throws(RecordError) -> Answer? {
        guard halt == nil, let next = peek() else { return nil }
        let event = next.event
        guard event["type"] == .string("effect.answered"), event["index"] == .int(pending.index),
              let result = event["result"] else { return nil }
        var answer = Answer(value: result, answeredBy: event["answered_by"]?.textIfString ?? "record")
        if pending.effect == "tool.run" {
            answer = Answer(value: try ToolCaptures.binding(of: result, from: folder), answeredBy: answer.answeredBy)
            answer.recorded = result
        }
        answer.details = event["execution"]?.fields ?? [:]
        answer.usage = event["usage"].flatMap(TokenUsage.init)
        answer.attempts = next.attempts
        if case .int(let used)? = event["answers_used"] { answer.answersUsed = used }
        return answer
    }
}

/// The clock of a replay: the recorded run's own, so step durations, active seconds and the
/// `wall_time` budget come out as that run measured them.
final class RecordedClock: Clock, @unchecked Sendable {
    private let session: ReplaySession

    init(_ session: ReplaySession) { self.session = session }

    func now() -> Double { session.recordedNow() }
}
