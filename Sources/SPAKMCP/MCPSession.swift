import Foundation
import SPAKKernel

/// The Model Context Protocol's server side, over the run service: one JSON-RPC 2.0 message
/// in, at most one out, in order. `initialize`, `ping`, `tools/list`, `tools/call`,
/// `resources/list`, `resources/templates/list` and `resources/read`; notifications are taken
/// and need no reply. Protocol errors (a line that is not JSON, an unknown method or tool, bad
/// arguments, a run that does not exist) are JSON-RPC errors; a call that was understood but
/// cannot be done is a tool result with `isError`.
public final class MCPSession {
    /// The protocol versions spoken, newest first; a client asking for another gets the newest.
    public static let protocolVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

    private let service: RunService
    private let version: String

    /// A session over `service`; `version` is spak's, given in `serverInfo`.
    public init(service: RunService, version: String) {
        self.service = service
        self.version = version
    }

    /// The reply to one message (a line of JSON), or `nil` when none is due.
    public func reply(to line: String) -> String? {
        let message: Value
        do { message = try JSON.parse(line) } catch {
            return Self.error(.parse("\(error)"), id: .null)
        }
        guard case .map(let fields) = message else {
            if case .list = message { return Self.error(.invalidRequest("batches are not supported"), id: .null) }
            return Self.error(.invalidRequest("a message is a JSON object"), id: .null)
        }
        let id = fields["id"]
        guard fields["jsonrpc"] == .string("2.0") else {
            return Self.error(.invalidRequest("`jsonrpc` must be \"2.0\""), id: id ?? .null)
        }
        guard case .string(let method)? = fields["method"] else {
            // A response to a request the server never sends, or nothing at all.
            return fields["result"] != nil || fields["error"] != nil ? nil : Self.error(.invalidRequest("no `method`"), id: id ?? .null)
        }
        guard let id else { return nil }  // a notification: initialized, cancelled…
        switch id {
        case .string, .int: return respond(method, fields["params"], id: id)
        default: return Self.error(.invalidRequest("`id` must be a string or an integer"), id: .null)
        }
    }

    private func respond(_ method: String, _ params: Value?, id: Value) -> String {
        let arguments: [String: Value]
        switch params {
        case nil, .null?: arguments = [:]
        case .map(let fields)?: arguments = fields
        default: return Self.error(.invalidParams("`params` must be an object"), id: id)
        }
        do {
            return Self.result(try result(of: method, arguments), id: id)
        } catch let error as ProtocolError {
            return Self.error(error, id: id)
        } catch let failure as RunService.Failure {
            switch failure.kind {
            case .invalidArguments: return Self.error(.invalidParams(failure.description), id: id)
            case .internalError: return Self.error(.internalError(failure.description), id: id)
            case .resourceNotFound: return Self.error(ProtocolError(code: -32002, message: "Resource not found: \(failure.description)"), id: id)
            case .toolError:
                return Self.result(.map(["content": .list([Self.text(failure.description)]), "isError": .bool(true)]), id: id)
            }
        } catch {
            return Self.error(.internalError("\(error)"), id: id)
        }
    }

    private func result(of method: String, _ arguments: [String: Value]) throws -> Value {
        switch method {
        case "initialize":
            if case .map(let client)? = arguments["clientInfo"] {
                service.setClient(name: client["name"]?.textIfString ?? "client", version: client["version"]?.textIfString ?? "?")
            }
            let asked = arguments["protocolVersion"]?.textIfString ?? ""
            return .map([
                "protocolVersion": .string(Self.protocolVersions.contains(asked) ? asked : Self.protocolVersions[0]),
                "capabilities": .map(["tools": .map(["listChanged": .bool(false)]),
                                      "resources": .map(["subscribe": .bool(false), "listChanged": .bool(false)])]),
                "serverInfo": .map(["name": .string("spak"), "version": .string(version)]),
                "instructions": .string("""
                    SPAK runs agent programs step by step. start_run starts one; when it waits at an llm.query, \
                    read its prompt (pending) and answer with respond, as the model would. Runs are recorded.
                    """),
            ])
        case "ping":
            return .map([:])
        case "tools/list":
            return .map(["tools": .list(ToolCatalog.tools.map(\.value))])
        case "tools/call":
            guard case .string(let name)? = arguments["name"] else { throw ProtocolError.invalidParams("tools/call needs `name`") }
            var toolArguments: [String: Value] = [:]
            switch arguments["arguments"] {
            case nil, .null?: break
            case .map(let fields)?: toolArguments = fields
            default: throw ProtocolError.invalidParams("`arguments` must be an object")
            }
            let output = try ToolCatalog.call(name, toolArguments, on: service)
            return .map(["content": .list([Self.text(output.text)]), "structuredContent": output.structured, "isError": .bool(false)])
        case "resources/list":
            return .map(["resources": .list(service.resources().map { resource in
                .map(["uri": .string(resource.uri), "name": .string(resource.name), "mimeType": .string(resource.mimeType)])
            })])
        case "resources/templates/list":
            return .map(["resourceTemplates": .list([
                .map(["uriTemplate": .string("spak://runs/{run}/{file}"), "name": .string("run files"),
                      "description": .string("A run's trace.json, metrics.json or pending/prompt.md")]),
            ])])
        case "resources/read":
            guard case .string(let uri)? = arguments["uri"] else { throw ProtocolError.invalidParams("resources/read needs `uri`") }
            let resource = try service.read(uri: uri)
            return .map(["contents": .list([.map(["uri": .string(uri), "mimeType": .string(resource.mimeType), "text": .string(resource.text)])])])
        default:
            throw ProtocolError.methodNotFound(method)
        }
    }

    private static func text(_ text: String) -> Value { .map(["type": .string("text"), "text": .string(text)]) }

    private static func result(_ result: Value, id: Value) -> String {
        JSON.serialize(.map(["jsonrpc": .string("2.0"), "id": id, "result": result]))
    }

    private static func error(_ error: ProtocolError, id: Value) -> String {
        JSON.serialize(.map(["jsonrpc": .string("2.0"), "id": id, "error": error.value]))
    }
}

/// Serves a session on standard input and output, a message per line, until input ends.
public enum MCPStdio {
    /// The largest message taken, as for every file spak reads.
    static let maxMessage = 64 << 20

    /// Reads messages until the client closes standard input; replies are written and flushed one by one.
    public static func serve(_ session: MCPSession) {
        let output = FileHandle.standardOutput
        while let line = readLine(strippingNewline: true) {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let reply = line.utf8.count > maxMessage
                ? JSON.serialize(.map(["jsonrpc": .string("2.0"), "id": .null,
                                       "error": ProtocolError.invalidRequest("a message is at most 64 MiB").value]))
                : session.reply(to: line)
            if let reply { output.write(Data((reply + "\n").utf8)) }
        }
    }
}
