import SPAKKernel

/// A JSON-RPC error the server answers with.
struct ProtocolError: Error, Sendable {
    let code: Int
    let message: String

    static func parse(_ message: String) -> ProtocolError { .init(code: -32700, message: "Parse error: \(message)") }
    static func invalidRequest(_ message: String) -> ProtocolError { .init(code: -32600, message: "Invalid request: \(message)") }
    static func methodNotFound(_ method: String) -> ProtocolError { .init(code: -32601, message: "Method not found: \(method)") }
    static func invalidParams(_ message: String) -> ProtocolError { .init(code: -32602, message: "Invalid params: \(message)") }
    static func internalError(_ message: String) -> ProtocolError { .init(code: -32603, message: "Internal error: \(message)") }

    var value: Value { .map(["code": .int(code), "message": .string(message)]) }
}
