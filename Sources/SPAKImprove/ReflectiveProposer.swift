import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKKernel
import SPAKTrace

/// The reflective half of the candidates (GEPA-style): SPAK's own improver program,
/// `Resources/reflect.spak`, is run like any agent with the program, its templates and the
/// analysis of its runs as parameters; its `llm.query` is answered by whatever source
/// `spak improve` was given, and its run is kept with the improvement, replayable.
public struct ReflectiveProposer {
    /// The improver program's text, as shipped.
    public static let programSource = String(decoding: PackageResources.reflect_spak, as: UTF8.self)

    /// What one run of the improver came to.
    public struct Proposal: Sendable {
        /// The improver run's folder.
        public let run: String
        /// The proposed program, when the run completed.
        public let program: String?
        /// Template files the reply rewrote, by path (only paths the program already names).
        public let templates: [String: String]
        /// Why there is no proposal.
        public let problem: String?
        /// The improver run's llm calls.
        public var llmCalls = 0
        /// Their tokens.
        public var tokens = 0
    }

    private let checked: CheckedProgram
    private let runsDirectory: String
    private let makeSource: () -> any AnswerSource

    /// Writes the improver program into `directory` and checks it; `makeSource` gives a
    /// fresh answer source for each improver run.
    public init(directory: String, makeSource: @escaping () -> any AnswerSource) throws(ImproveError) {
        let path = directory + "/reflect.spak"
        do {
            try FileManager.default.createDirectory(atPath: directory + "/runs", withIntermediateDirectories: true)
            try Self.programSource.write(toFile: path, atomically: true, encoding: .utf8)
            checked = try Frontend.check(path: path)
        } catch {
            throw ImproveError("cannot set up the improver program in \(directory): \(error)")
        }
        guard !checked.hasErrors else { throw ImproveError("the shipped improver program does not check:\n" + DiagnosticRenderer().render(checked.bag)) }
        runsDirectory = directory + "/runs"
        self.makeSource = makeSource
    }

    /// Asks for a changed program; with `diagnostics`, shows the rejected `previous` proposal
    /// and its errors (the one feedback round a proposal gets).
    public func propose(_ draft: ProgramDraft, analysis: RunAnalysis, traces: String, objective: RankingObjective,
                        diagnostics: String? = nil, previous: String? = nil) -> Proposal {
        guard let task = checked.parse.program.task else { return Proposal(run: "", program: nil, templates: [:], problem: "no task") }
        let templateText = draft.templates.keys.sorted().map { "```mustache \($0)\n\(draft.templates[$0]!)\n```" }
            .joined(separator: "\n")
        let given: [(String, String)] = [
            ("program", draft.source.text), ("templates", templateText), ("analysis", analysis.text), ("traces", traces),
            ("goal", "\(objective.maximize ? "maximize" : "minimize") \(objective.label)"),
            ("diagnostics", diagnostics ?? ""), ("previous", previous ?? ""),
        ]
        do {
            let parameters = try Parameters.resolve(given, for: task)
            let started = try RunStore.start(checked, parameters: parameters, runsDirectory: runsDirectory, workspace: nil)
            var source = AnySource(base: makeSource())
            let stop = try started.machine.run(answers: &source)
            let run = started.machine.folderPath
            let counters = started.machine.state.counters
            var proposal = withExtendedLifetime(started.lock) { () -> Proposal in
                switch stop {
                case .completed:
                    let reply = started.machine.state.variables["reply"]?.textIfString ?? ""
                    let program = started.machine.state.variables["proposal"]?.textIfString
                    return Proposal(run: run, program: program,
                                    templates: Self.templateBlocks(in: reply, allowed: Set(draft.templates.keys)), problem: nil)
                case .failed(let reason):
                    return Proposal(run: run, program: nil, templates: [:], problem: "the improver run failed: \(reason)")
                case .interrupted:
                    return Proposal(run: run, program: nil, templates: [:], problem: "the improver run was interrupted; it waits in \(run)")
                case .suspended, .paused:
                    return Proposal(run: run, program: nil, templates: [:],
                                    problem: "the improver's query was not answered (give --improver-responder or a model backend); the run waits in \(run)")
                }
            }
            proposal.llmCalls = counters.llmCalls
            proposal.tokens = counters.tokens
            return proposal
        } catch {
            return Proposal(run: "", program: nil, templates: [:], problem: "the improver could not run: \(error)")
        }
    }

    /// The ```` ```mustache PATH ```` blocks of a reply whose PATH the program already names.
    static func templateBlocks(in reply: String, allowed: Set<String>) -> [String: String] {
        var blocks: [String: String] = [:]
        let lines = reply.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var index = 0
        while index < lines.count {
            let line = lines[index].trimmingCharacters(in: .whitespaces)
            index += 1
            guard line.hasPrefix("```mustache ") else { continue }
            let path = String(line.dropFirst("```mustache ".count)).trimmingCharacters(in: .whitespaces)
            var body: [String] = []
            while index < lines.count, lines[index].trimmingCharacters(in: .whitespaces) != "```" {
                body.append(lines[index])
                index += 1
            }
            index += 1
            if allowed.contains(path) { blocks[path] = body.joined(separator: "\n") + "\n" }
        }
        return blocks
    }
}

/// An existential answer source passed where the machine wants a concrete one.
struct AnySource: AnswerSource {
    var base: any AnswerSource

    mutating func answer(_ request: PendingRequest, answersUsed: inout Int) throws(AnswerFailure) -> Answer? {
        try base.answer(request, answersUsed: &answersUsed)
    }
}
