import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKSyntax

/// Effects: building each request, answering it (or suspending), and applying the result.
extension Machine {
    func perform(_ call: EffectCall, answers: inout some AnswerSource) throws {
        let effect = call.qualifiedName
        try checkBudget(before: effect)
        if case .failed = state.status { return }
        let request = try buildRequest(call)
        if effect == "llm.query" {
            try checkPromptFits(request)
            if case .failed = state.status { return }
        }
        // The trace records the names of a command's environment entries, never their values.
        // A secret assembled from parts (two outputs, each harmless) is removed here too.
        var recordedRequest = secrets.redact(request)
        if effect == "tool.run", let entries = request.fields["env"] {
            recordedRequest = .map(request.fields.merging(["env": .list(ToolRunner.environmentNames(entries))]) { _, new in new })
        }
        let index = state.counters.effects
        state.counters.effects += 1
        let location = source.location(of: call.range.start).description
        let pending = PendingRequest(index: index, effect: effect, step: state.currentStep ?? "", request: recordedRequest,
                                     location: location)
        var fields: [String: Value] = ["index": .int(index), "effect": .string(effect), "step": .string(pending.step),
                                       "request": recordedRequest, "location": .string(location)]
        if interruptedEffects.contains(index) { fields["reexecuted"] = .bool(true) }
        log.append("effect.requested", fields)
        var command: [String] = []
        if effect == "tool.run", case .list(let argv)? = request.fields["argv"] {
            command = argv.map(\.text)
            guard program.allowed.contains(where: { CommandWords.admits(allow: $0, command: command) == true }) else {
                let lines = program.allowed.map { "`\($0.joined(separator: " "))`" }.joined(separator: ", ")
                let reason = "tool.run refused `\(command.prefix(4).joined(separator: " "))`: no allow line admits it "
                    + "(allow lines: \(lines.isEmpty ? "none" : lines))"
                log.append("effect.refused", ["index": .int(index), "effect": .string(effect), "reason": .string(reason)])
                throw RuntimeError(reason, at: call.range, retryable: false)
            }
        }

        if let replay {
            // Nothing is performed: the record answers, or the run waits where the record ends.
            guard let answer = try replay.answer(for: pending) else {
                if let failure = replay.recordedFailure() {
                    try failAsRecorded(failure)
                } else if !replay.halted {
                    try suspend(pending)
                }
                return
            }
            try apply(answer, to: pending)
            return
        }
        switch effect {
        case "tool.read", "tool.write":
            try apply(Answer(value: try performFileEffect(effect, request), answeredBy: "workspace"), to: pending)
        default:
            if let recorded = recoveredAnswers.removeValue(forKey: index) {
                try apply(recorded, to: pending)
                return
            }
            if let cassette {
                let answer: Answer?
                do {
                    answer = try cassette.answer(for: pending)
                } catch {
                    record(AnswerFailure(error.message), for: pending)
                    try suspend(pending)
                    throw error
                }
                if let answer {
                    try apply(answer, to: pending)
                    return
                }
            }
            if effect == "tool.run", let toolRunner {
                let answer: Answer
                Interruption.note("\nspak: stopped at once while `\(command.first ?? "")` ran; its result was not recorded. "
                                  + "Go on with: \(resumeCommand)\n")
                do {
                    answer = try toolRunner.run(command, request: request)
                } catch let problem as ToolRunner.Problem {
                    throw RuntimeError("tool.run: \(problem)", at: call.range, retryable: false)
                }
                if Interruption.killedCommand { throw Interrupted() }
                try apply(answer, to: pending)
                return
            }
            let answer: Answer?
            Interruption.note("\nspak: stopped at once while \(effect) in step `\(pending.step)` waited for its answer. "
                              + "Go on with: \(resumeCommand)\n")
            do {
                answer = try answers.answer(pending, answersUsed: &state.answersUsed)
            } catch {
                if Interruption.killedCommand { throw Interrupted() }
                record(error, for: pending)
                try suspend(pending)
                throw error
            }
            guard let answer else {
                try suspend(pending)
                return
            }
            try apply(answer, to: pending)
        }
    }

    /// Whether the run waits at a `tool.run` that this machine may execute (it was opened
    /// `--live`).
    public var canRunPendingCommand: Bool {
        guard case .suspended(let pending) = state.status else { return false }
        return pending.effect == "tool.run" && toolRunner != nil
    }

    /// Executes the `tool.run` the run waits at (it was started without `--live`), as it
    /// would have run then: the request is built again from the snapshot and must be the one
    /// recorded, and the allow lines are checked again. Then the run goes on like `resume`.
    public func runPendingCommand(answers: inout some AnswerSource, singleStep: Bool = false) throws(RecordError) -> Stop {
        guard case .suspended(let pending) = state.status, pending.effect == "tool.run", let toolRunner,
              case .effect(let call) = program.instructions[state.pc] else {
            throw RecordError("run \(folder.id) is not waiting at a tool.run that --live can execute", kind: .wrongState)
        }
        let request: Value
        do { request = try buildRequest(call) } catch {
            throw RecordError("the pending tool.run cannot be built again: \(error)", kind: .corrupt)
        }
        var recorded = secrets.redact(request)
        if let entries = request.fields["env"] {
            recorded = .map(request.fields.merging(["env": .list(ToolRunner.environmentNames(entries))]) { _, new in new })
        }
        var command: [String] = []
        if case .list(let words)? = request.fields["argv"] { command = words.map(\.text) }
        guard recorded == pending.request,
              program.allowed.contains(where: { CommandWords.admits(allow: $0, command: command) == true }) else {
            throw RecordError("the pending tool.run is not the one the run recorded, or no allow line admits it; "
                              + "the record is inconsistent", kind: .corrupt)
        }
        Interruption.note("\nspak: stopped at once while `\(command.first ?? "")` ran; its result was not recorded. "
                          + "Go on with: \(liveResumeCommand)\n")
        let answer: Answer
        do {
            answer = try toolRunner.run(command, request: request)
        } catch {
            try settleRecovery()
            state.status = .ready
            log.append("run.resumed", ["index": .int(pending.index)])
            try fail("tool.run: \(error)", at: call.range)
            return try run(answers: &answers)
        }
        if let signal = Interruption.requested, Interruption.killedCommand {
            throw RecordError("run \(folder.id) was interrupted (\(Interruption.name(of: signal))) while its command ran; "
                              + "nothing was recorded and it still waits: \(liveResumeCommand)", kind: .interrupted)
        }
        return try resume(with: answer, answers: &answers, singleStep: singleStep)
    }

    /// Records an answer, binds its result and makes it durable.
    func apply(_ answer: Answer, to pending: PendingRequest) throws {
        guard case .effect(let call) = program.instructions[state.pc] else {
            throw RecordError("the snapshot's position does not hold an effect; the run record is inconsistent", kind: .corrupt)
        }
        var result = answer.value
        var recorded = result
        if pending.effect == "tool.run" {
            if case .string(let text) = result { result = Answer.toolResult(from: text) }
            result = secrets.redact(result)
            recorded = try answer.recorded ?? ToolCaptures.record(result, in: folder)
        }
        if let used = answer.answersUsed { state.answersUsed = max(state.answersUsed, used) }
        logAttempts(answer.attempts, for: pending)
        var fields: [String: Value] = ["index": .int(pending.index), "effect": .string(pending.effect), "result": recorded,
                                       "answered_by": .string(answer.answeredBy), "answers_used": .int(state.answersUsed)]
        if !answer.details.isEmpty { fields["execution"] = .map(answer.details) }
        let usage = pending.effect == "llm.query" ? answer.usage ?? estimatedUsage(pending, reply: result.text) : nil
        if let usage { fields["usage"] = usage.value }
        log.append("effect.answered", fields)
        if let cassette, pending.effect == "llm.query" || pending.effect == "tool.run", !answer.answeredBy.hasPrefix("cassette: ") {
            try cassette.record(pending, result: result, usage: answer.usage)
        }
        switch pending.effect {
        case "llm.query":
            state.counters.llmCalls += 1
            state.counters.tokens += usage?.total ?? 0
            if usage?.estimated == true { state.counters.estimatedTokens += usage?.total ?? 0 }
            if let limit = program.budgets["llm.tokens"], Double(state.counters.tokens) > limit {
                try exceed("llm.tokens", limit: limit, used: Double(state.counters.tokens))
                return
            }
        case "tool.run":
            state.counters.toolRuns += 1
        default:
            break
        }
        state.pc += 1
        if let problem = structuredReplyProblem(pending, reply: result) {
            try checkpoint()
            try violateWithinStep(problem, at: call.range)
            return
        }
        if let binding = call.binding {
            var bound = result
            if binding.format?.name == "json" {
                let text = pending.effect == "tool.run" ? (result.fields["stdout"]?.text ?? "") : result.text
                do {
                    bound = try ReplyJSON.parse(text)
                } catch {
                    try checkpoint()
                    try violateWithinStep("the result of \(pending.effect) bound to `\(binding.name.name)` is not JSON (\(error))", at: call.range)
                    return
                }
            }
            bind(binding.name.name, bound)
        }
        try checkpoint()
    }

    /// The kernel's estimate of a query's tokens, for answers no server counted.
    private func estimatedUsage(_ pending: PendingRequest, reply: String) -> TokenUsage {
        let request = pending.request.fields
        let prompt = (request["system"]?.text ?? "") + (request["prompt"]?.text ?? "")
        return TokenUsage.estimate(prompt: prompt, reply: reply)
    }

    /// Why a reply to an `llm.query` with `schema:` is unusable: not JSON, or not of the
    /// schema's shape; `nil` when it is fine or no schema was asked for. Checked on receipt,
    /// whoever answered, so a server that ignores structured output cannot slip past it.
    private func structuredReplyProblem(_ pending: PendingRequest, reply: Value) -> String? {
        guard pending.effect == "llm.query", let schema = pending.request.fields["schema"] else { return nil }
        let parsed: Value
        do { parsed = try ReplyJSON.parse(reply.text) } catch {
            return "the reply to llm.query is not JSON, as its `schema:` requires (\(error))"
        }
        guard let mismatch = JSONSchema(schema).firstMismatch(in: parsed) else { return nil }
        return "the reply to llm.query does not match its `schema:`: \(mismatch)"
    }

    /// An answer that cannot be used (JSON that is not): the step's policy decides, as for an
    /// invariant.
    private func violateWithinStep(_ message: String, at range: SourceRange) throws {
        guard let step = state.currentStep else {
            try fail(message, at: range)
            return
        }
        try violate(step: step, policy: program.policies[step], message: message, kind: .reply, at: range)
    }

    private func suspend(_ pending: PendingRequest) throws(RecordError) {
        state.status = .suspended(pending)
        log.append("run.suspended", ["index": .int(pending.index), "effect": .string(pending.effect)])
        guard replay == nil else { return }
        try FileManager.default.createDirectoryIfNeeded(folder.pendingDirectory)
        try RunFolder.writeAtomically(PendingText.prompt(pending, program: programName, resume: manualResumeCommand, live: liveResumeCommand), to: folder.promptFile, durable: false)
        try RunFolder.writeAtomically(JSON.serialize(pending.value) + "\n", to: folder.requestFile, durable: false)
        try checkpoint()
        try exportStanding()
    }

    /// `llm.tokens`: a query whose prompt alone (estimated as the kernel estimates answers no
    /// server counted) needs more tokens than the budget has left is not asked.
    private func checkPromptFits(_ request: Value) throws(RecordError) {
        guard let limit = program.budgets["llm.tokens"] else { return }
        let fields = request.fields
        let prompt = TokenUsage.estimate(prompt: (fields["system"]?.text ?? "") + (fields["prompt"]?.text ?? ""), reply: "").prompt
        let needed = state.counters.tokens + prompt
        if Double(needed) > limit {
            try exceed("llm.tokens", limit: limit, used: Double(needed),
                       detail: "the next prompt alone is about \(prompt) tokens, and \(max(0, Int(limit) - state.counters.tokens)) are left")
        }
    }

    private func checkBudget(before effect: String) throws(RecordError) {
        let counters = state.counters
        switch effect {
        case "llm.query":
            if let limit = program.budgets["llm.calls"], Double(counters.llmCalls + 1) > limit {
                try exceed("llm.calls", limit: limit, used: Double(counters.llmCalls + 1))
            } else if let limit = program.budgets["llm.tokens"], Double(counters.tokens) >= limit {
                try exceed("llm.tokens", limit: limit, used: Double(counters.tokens))
            }
        case "tool.run":
            if let limit = program.budgets["tool.runs"], Double(counters.toolRuns + 1) > limit {
                try exceed("tool.runs", limit: limit, used: Double(counters.toolRuns + 1))
            }
        default:
            break
        }
    }

    // MARK: - Requests

    /// What an effect asks for, with every template rendered and every argument evaluated.
    private func buildRequest(_ call: EffectCall) throws -> Value {
        let signature = Effects.byName[call.qualifiedName]!
        let positional = call.arguments.filter { $0.label == nil }
        var named: [String: Expr] = [:]
        for argument in call.arguments { if let label = argument.label { named[label.name] = argument.value } }
        var request: [String: Value] = [:]
        for (argument, parameter) in zip(positional, signature.positional) where call.qualifiedName != "tool.run" {
            request[parameter.name] = .string(try text(argument.value, template: parameter.isTemplate))
        }
        for (label, value) in named where label != "template" {
            let parameter = signature.namedParameter(label)
            request[label] = parameter?.isTemplate == true
                ? .string(try text(value, template: true))
                : try Evaluator(variables: state.variables).evaluate(value)
        }
        switch call.qualifiedName {
        case "llm.query":
            if let file = named["template"], case .string(let path) = file.kind {
                request["template"] = .string(path)
                request["prompt"] = .string(try render(try templateFile(path), at: file.range))
            }
            if call.binding?.format?.name == "json" { request["format"] = .string("json") }
            try checkQueryOptions(request, arguments: named)
        case "tool.run":
            let shell = request["shell"] == .bool(true)
            request["argv"] = .list(try argv(positional.first?.value, shell: shell).map(Value.string))
        default:
            break
        }
        return .map(request)
    }

    /// An `llm.query`'s options must make sense whoever answers: a positive timeout, a reply
    /// of at least one token, a temperature that is not negative.
    private func checkQueryOptions(_ request: [String: Value], arguments: [String: Expr]) throws {
        func refuse(_ label: String, _ rule: String) throws -> Never {
            throw RuntimeError("llm.query's `\(label):` \(rule), not \(request[label].map { JSON.serialize($0) } ?? "nothing")",
                               at: arguments[label]?.range ?? currentEffectRange)
        }
        if let timeout = request["timeout"]?.number, !(timeout > 0 && timeout <= 1e6) {
            try refuse("timeout", "must be a positive duration of at most 1000000 s")
        }
        if case .int(let limit)? = request["max_tokens"], limit < 1 { try refuse("max_tokens", "must be at least 1") }
        if let temperature = request["temperature"]?.number, !(temperature >= 0 && temperature.isFinite) {
            try refuse("temperature", "must be 0 or more")
        }
    }

    /// A string argument: a literal is a template, anything else is evaluated.
    private func text(_ expr: Expr, template: Bool) throws -> String {
        if template, case .string(let literal) = expr.kind { return try render(literal, at: expr.range) }
        return try Evaluator(variables: state.variables).evaluate(expr).text
    }

    private func render(_ template: String, at range: SourceRange) throws -> String {
        do {
            return try templates.render(template, variables: state.variables)
        } catch {
            throw RuntimeError(error.message, at: range)
        }
    }

    /// A `tool.run` command as an argument vector: a literal is split into words first and
    /// each word rendered alone, so a value with spaces stays one argument.
    private func argv(_ command: Expr?, shell: Bool) throws -> [String] {
        guard let command else { return [] }
        if shell { return ["sh", "-c", try text(command, template: true)] }
        guard case .string(let literal) = command.kind else {
            let evaluated = try Evaluator(variables: state.variables).evaluate(command).text
            do { return try CommandWords.split(evaluated) } catch {
                throw RuntimeError("the command cannot be split into words: \(error)", at: command.range)
            }
        }
        let words: [String]
        do { words = try CommandWords.split(literal) } catch {
            throw RuntimeError("the command cannot be split into words: \(error)", at: command.range)
        }
        var rendered: [String] = []
        for word in words { rendered.append(word.containsTemplateTag ? try render(word, at: command.range) : word) }
        return rendered
    }

    private func templateFile(_ path: String) throws -> String {
        let file = templateDirectory.map { path.hasPrefix("/") || $0.isEmpty ? path : $0 + "/" + path }
            ?? folder.templatesDirectory + "/" + TemplateFiles.storedPath(path)
        guard let data = FileManager.default.contents(atPath: file) else {
            throw RecordError("the template \(path) is missing from the run folder (\(file))", kind: .corrupt)
        }
        return String(decoding: data, as: UTF8.self)
    }

    private func performFileEffect(_ effect: String, _ request: Value) throws -> Value {
        let path = request.fields["path"]?.text ?? ""
        do {
            if effect == "tool.read" {
                let limit = request.fields["max_bytes"].flatMap { if case .int(let n) = $0 { n } else { nil } }
                return .string(try workspace.read(path, limit: limit ?? Workspace.defaultReadLimit))
            }
            try workspace.write(path, request.fields["content"]?.text ?? "")
            return .null
        } catch {
            var message = "\(effect): \(error)"
            if error.missing { message += " (the workspace is \(workspaceLabel); `spak run --workspace DIR` chooses another)" }
            throw RuntimeError(message, at: currentEffectRange, retryable: !error.escapes)
        }
    }

    private var currentEffectRange: SourceRange {
        if case .effect(let call) = program.instructions[state.pc] { return call.range }
        return .at(0)
    }
}

extension Value {
    /// The entries of a map (empty for anything else).
    public var fields: [String: Value] {
        if case .map(let entries) = self { return entries }
        return [:]
    }
}
