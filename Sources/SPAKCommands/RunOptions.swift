import ArgumentParser
import Foundation
import SPAKKernel

/// Options every run command shares.
struct RunsLocation: ParsableArguments {
    @Option(help: "The folder that holds run folders.")
    var runsDir = ".spak/runs"
}

/// Where automatic answers come from.
struct AnswerOptions: ParsableArguments {
    @Option(help: "Answer each request by running CMD with the request's JSON on standard input; its standard output is the answer.")
    var responder: String?

    @Option(help: "Seconds a responder may take for one answer before it is stopped (the run stays suspended).")
    var responderTimeout: Double = 300

    @Option(help: "Take answers from FILE in order (one JSON value per line).")
    var answers: String?

    @Option(help: "The folder tool.read and tool.write work in (default: the run's workspace/ folder).")
    var workspace: String?

    func validate() throws {
        if responder != nil, answers != nil { throw ValidationError("give --responder or --answers, not both") }
        if responderTimeout <= 0 { throw ValidationError("--responder-timeout must be positive") }
    }

    func source() throws(AnswerFailure) -> AnswerChain {
        var chain = AnswerChain(sources: [])
        if let responder { chain.sources.append(ResponderSource(command: responder, timeout: responderTimeout)) }
        if let answers { chain.sources.append(try AnswersFileSource(path: answers)) }
        return chain
    }
}
