import SPAKKernel

/// Answers the `llm.query` requests of a run through a model backend; anything else (a
/// `tool.run` without `--live`) is left to the next source.
public struct BackendAnswers: AnswerSource {
    /// The backend that answers.
    public let backend: ModelBackend

    /// Answers through `backend`.
    public init(backend: ModelBackend) { self.backend = backend }

    public mutating func answer(_ request: PendingRequest, answersUsed: inout Int) throws(AnswerFailure) -> Answer? {
        guard request.effect == "llm.query" else { return nil }
        return try backend.answer(request)
    }
}
