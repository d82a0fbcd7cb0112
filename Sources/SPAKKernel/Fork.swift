import Foundation
import SPAKDiagnostics

/// `spak fork RUN --at STEP[#N]`: a new run that starts from the state a run was in just
/// before a step began (the Nth time, inside loops and retries). The state comes from the
/// nearest snapshot before that point, advanced by re-executing at most a few dozen recorded
/// events, so a fork costs the same early and late in a long run. The new run records its
/// parent and the fork point; its own events continue the parent's numbering.
public enum Fork {
    /// A fork point: a step and which time it began (`nil`: the only time).
    public struct Point: Sendable, CustomStringConvertible {
        public let step: String
        public let occurrence: Int?

        /// Reads `STEP` or `STEP#N`.
        public init(_ text: String) throws(RecordError) {
            let parts = text.split(separator: "#", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), !parts[0].isEmpty else {
                throw RecordError("--at takes STEP or STEP#N, not `\(text)`", kind: .invalidRequest)
            }
            step = String(parts[0])
            if parts.count == 2 {
                guard let number = Int(parts[1]), number >= 1 else {
                    throw RecordError("--at \(text): N counts the times the step began, from 1", kind: .invalidRequest)
                }
                occurrence = number
            } else {
                occurrence = nil
            }
        }

        public var description: String { occurrence.map { "\(step)#\($0)" } ?? step }
    }

    /// A forked run, ready to go on.
    public struct Started {
        public let machine: Machine
        public let lock: RunLock
        /// The fork point, with its occurrence.
        public let point: String
        /// The sequence number of the parent's event the fork starts before.
        public let seq: Int
    }

    /// Creates the forked run. `workspace` overrides the parent's; without it a run with an
    /// explicit workspace shares it, and one with the default workspace gets a copy of the
    /// parent's files as they are now.
    public static func start(_ reference: String, at point: Point, runsDirectory: String, workspace: String?,
                              secretVariables: Set<String> = []) throws(RecordError) -> Started {
        let parent = try RecordedRun(folder: RunStore.resolve(reference, runsDirectory: runsDirectory))
        let occurrence = try resolve(point, in: parent)
        let state = try stateBefore(step: point.step, occurrence: occurrence, in: parent)
        let label = "\(point.step)#\(occurrence)"
        let started = try RunStore.startFork(of: parent, state: state.state, seq: state.seq, at: label,
                                             runsDirectory: runsDirectory, workspace: workspace,
                                             secretVariables: secretVariables)
        return Started(machine: started.machine, lock: started.lock, point: label, seq: state.seq)
    }

    /// Which time the step began, checked against the run.
    private static func resolve(_ point: Point, in run: RecordedRun) throws(RecordError) -> Int {
        guard run.program.stepStarts[point.step] != nil else {
            let steps = run.program.stepNames.map { "`\($0)`" }.joined(separator: ", ")
            throw RecordError("run \(run.folder.id) has no step `\(point.step)`"
                              + (steps.isEmpty ? " (its program has no steps)" : "; its steps are \(steps)"), kind: .invalidRequest)
        }
        let began = run.state.counters.stepTimes[point.step]?.starts ?? 0
        guard began > 0 else {
            throw RecordError("step `\(point.step)` never began in run \(run.folder.id)", kind: .invalidRequest)
        }
        guard let occurrence = point.occurrence else {
            guard began == 1 else {
                throw RecordError("step `\(point.step)` began \(began) times in run \(run.folder.id); say which: "
                                  + "\(point.step)#1 … \(point.step)#\(began)", kind: .invalidRequest)
            }
            return 1
        }
        guard occurrence <= began else {
            throw RecordError("step `\(point.step)` began only \(began) time\(began == 1 ? "" : "s") in run \(run.folder.id)",
                              kind: .invalidRequest)
        }
        return occurrence
    }

    /// The run's state just before the step began for the `occurrence`th time, and the
    /// sequence number of its `step.started` event.
    private static func stateBefore(step: String, occurrence: Int, in run: RecordedRun)
        throws(RecordError) -> (state: MachineState, seq: Int)
    {
        let names = run.program.stepNames
        let found = try SnapshotLog.lastRecord(before: occurrence, ofStep: names.firstIndex(of: step)!, in: run.folder,
                                               stepCount: names.count)
        let start: MachineState
        var offset = 0
        if let found {
            start = try SnapshotLog.snapshot(found, in: run.folder)
            offset = found.logLength
        } else if let fork = run.fork {
            throw RecordError("\(step)#\(occurrence) came before run \(run.folder.id) was forked (at \(fork.at)); "
                              + "fork its parent \(fork.parent) there instead", kind: .invalidRequest)
        } else {
            start = try run.origin()  // a run recorded before snapshots existed: from its start
        }
        let session = try ReplaySession(folder: run.folder, offset: offset, recordIsFinal: run.state.status.isFinal,
                                        target: (step, occurrence))
        let machine = run.replayMachine(program: run.program, source: run.source, state: start, session: session,
                                        templateDirectory: nil)
        if found == nil {
            try machine.begin(task: run.taskName, parameters: start.variables.filter { !Feedback.names.contains($0.key) })
        }
        var nobody = SuspendForPerson()
        if !session.halted { _ = try machine.run(answers: &nobody) }
        if let failure = session.failure { throw failure }
        guard session.halt == .target, let seq = session.haltSeq else {
            throw RecordError("re-executing run \(run.folder.id) from its snapshot did not reproduce its record before "
                              + "\(step)#\(occurrence); the record is inconsistent", kind: .corrupt)
        }
        var state = machine.state
        state.eventCount = seq
        state.logLength = 0
        state.answersUsed = 0  // the fork's --answers file, if any, is read from its first line
        state.counters.activeSeconds = machine.activeSeconds
        state.status = .ready
        return (state, seq)
    }
}
