import Foundation
import SPAKBackends
import SPAKKernel

/// A command that starts or goes on with a run and gets its answers (`spak run`, `spak step`,
/// `spak fork`): the options they share, what a run remembers of its backend, and the command
/// that resumes it.
protocol RunAdvancingCommand {
    var live: LiveOptions { get }
    var answers: AnswerOptions { get }
    var cassette: CassetteOptions { get }
    var backend: BackendOptions { get }
    var location: RunsLocation { get }
}

extension RunCommand: RunAdvancingCommand {}
extension StepCommand: RunAdvancingCommand {}
extension ForkCommand: RunAdvancingCommand {}

extension RunAdvancingCommand {
    /// The backend settings the run `reference` (an id or a folder) started with, if any.
    func rememberedBackend(of reference: String) throws(RecordError) -> RememberedBackend? {
        try RememberedBackend.read(in: RunStore.resolve(reference, runsDirectory: location.runsDir))
    }

    /// Readies `machine` before it runs: a new run (`startsRun`) that answers with a backend
    /// remembers its settings; its messages name the command that resumes the run as this one
    /// goes on (and that command with `--live`, to execute a waiting `tool.run`, or without it,
    /// to take an answer written by hand).
    func prepare(_ machine: Machine, backend model: ModelBackend?, startsRun: Bool) throws(RecordError) {
        let settings = model.map { RememberedBackend($0.settings) }
        if startsRun, let settings { try settings.write(to: machine.runFolder) }
        let remembered = try RememberedBackend.read(in: machine.runFolder)
        func line(live: Bool?) -> String {
            ResumeCommandLine(command: self, run: machine.runFolder, repeatsBackend: settings != remembered, live: live).text
        }
        machine.resumeCommands = Machine.ResumeCommands(asGiven: line(live: nil), live: line(live: true), manual: line(live: false))
    }
}
