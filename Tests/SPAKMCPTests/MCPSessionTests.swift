import Foundation
import SPAKKernel
import SPAKTestSupport
import Testing
@testable import SPAKMCP

/// The protocol layer, message by message, over a real run service in a scratch root.
@Suite struct MCPSessionTests {
    let root: URL
    let session: MCPSession

    init() throws {
        root = try makeScratchDirectory()
        _ = try write("""
            task greet(name: string = "Ada") {
              step ask {
                llm.query("Greet {{name}}.") -> reply
              }
            }

            """, to: "greet.spak", in: root)
        session = MCPSession(service: try RunService(root: root.path, live: false), version: "0.1.0")
    }

    /// Sends a request and returns the reply's fields.
    func call(_ method: String, _ params: Value = .map([:]), id: Int = 1) throws -> [String: Value] {
        let line = JSON.serialize(.map(["jsonrpc": .string("2.0"), "id": .int(id), "method": .string(method), "params": params]))
        return try JSON.parse(try #require(session.reply(to: line))).fields
    }

    func tool(_ name: String, _ arguments: [String: Value]) throws -> [String: Value] {
        try call("tools/call", .map(["name": .string(name), "arguments": .map(arguments)]))
    }

    @Test func initializeNegotiatesTheProtocolVersion() throws {
        let known = try call("initialize", .map(["protocolVersion": .string("2025-06-18"), "capabilities": .map([:]),
                                                 "clientInfo": .map(["name": .string("test"), "version": .string("9")])]))
        #expect(known["result"]?.fields["protocolVersion"] == .string("2025-06-18"))
        #expect(known["result"]?.fields["serverInfo"]?.fields["name"] == .string("spak"))
        let unknown = try call("initialize", .map(["protocolVersion": .string("1999-01-01")]))
        #expect(unknown["result"]?.fields["protocolVersion"] == .string(MCPSession.protocolVersions[0]))
    }

    @Test func notificationsAndResponsesGetNoReply() {
        #expect(session.reply(to: #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#) == nil)
        #expect(session.reply(to: #"{"jsonrpc":"2.0","id":5,"result":{}}"#) == nil)
    }

    @Test func malformedMessagesAreJSONRPCErrors() throws {
        func code(_ line: String) throws -> Value? { try JSON.parse(try #require(session.reply(to: line))).fields["error"]?.fields["code"] }
        #expect(try code("{not json") == .int(-32700))
        #expect(try code("[1, 2]") == .int(-32600))
        #expect(try code(#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#) == .int(-32600))
        #expect(try code(#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#) == .int(-32600))
        #expect(try code(#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#) == .int(-32600))
        #expect(try code(#"{"jsonrpc":"2.0","id":1,"method":"runs/destroy"}"#) == .int(-32601))
        #expect(try code(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[]}"#) == .int(-32602))
    }

    @Test func aRunAnsweredThroughTheTools() throws {
        let started = try tool("start_run", ["program": .string("greet.spak"), "params": .map(["name": .string("Lin")])])
        let content = try #require(started["result"]?.fields["structuredContent"]?.fields)
        #expect(content["status"] == .string("suspended"))
        #expect(content["pending"]?.fields["prompt"] == .string("Greet Lin."))
        #expect(content["pending"]?.fields["index"] == .int(0))
        let run = try #require(content["run"]?.textIfString)
        let resource = try call("resources/read", .map(["uri": .string("spak://runs/\(run)/trace.json")]))
        let contents = try #require(resource["result"]?.fields["contents"], "trace.json is there while the run waits")
        guard case .list(let files) = contents, let text = files.first?.fields["text"]?.textIfString else {
            Issue.record("no trace text: \(contents)")
            return
        }
        #expect(try JSON.parse(text).fields["run"]?.fields["status"] == .string("suspended"))
        let stale = try tool("respond", ["run": .string(run), "answer": .string("Hello, Lin!"), "index": .int(4)])
        #expect(stale["result"]?.fields["isError"] == .bool(true), "an answer meant for another request is refused")
        let done = try tool("respond", ["run": .string(run), "answer": .string("Hello, Lin!"), "index": .int(0)])
        #expect(done["result"]?.fields["structuredContent"]?.fields["status"] == .string("completed"))
        let again = try tool("respond", ["run": .string(run), "answer": .string("Hi")])
        #expect(again["result"]?.fields["isError"] == .bool(true), "a run not waiting is a tool error")
    }

    @Test func badArgumentsAndMissingRunsAreInvalidParams() throws {
        func message(_ name: String, _ arguments: [String: Value]) throws -> String? {
            let reply = try tool(name, arguments)
            #expect(reply["error"]?.fields["code"] == .int(-32602))
            return reply["error"]?.fields["message"]?.textIfString
        }
        #expect(try message("nope", [:])?.contains("unknown tool `nope`") == true)
        #expect(try message("respond", ["run": .string("x")]) == "Invalid params: respond: `answer` is required")
        #expect(try message("status", ["run": .int(3)]) == "Invalid params: status: `run` must be a string")
        #expect(try message("status", ["run": .string("greet-19990101-000000-0000")])
            == "Invalid params: no run greet-19990101-000000-0000 (see list_runs)")
        #expect(try message("status", ["run": .string("../../etc")])?.contains("is not a run id") == true)
        #expect(try message("check", ["path": .string("../elsewhere.spak")])?.contains("outside the server's root") == true)
        #expect(try message("start_run", ["program": .string("greet.spak"), "workspace": .string(".")])?
            .contains("where the run records are") == true)
        #expect(try message("start_run", ["program": .string("greet.spak"), "workspace": .string(".spak")])?
            .contains("where the run records are") == true)
    }

    @Test func aTemplateOutsideTheRootIsRefused() throws {
        let outer = try makeScratchDirectory()
        _ = try write("the secret\n", to: "secret.txt", in: outer)
        _ = try write("""
            task peek() {
              step ask {
                llm.query(template: "../secret.txt") -> reply
              }
            }

            """, to: "inner/peek.spak", in: outer)
        let inner = MCPSession(service: try RunService(root: outer.path + "/inner", live: false), version: "0.1.0")
        let line = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"start_run","arguments":{"program":"peek.spak"}}}"#
        let reply = try JSON.parse(try #require(inner.reply(to: line))).fields
        #expect(reply["error"]?.fields["code"] == .int(-32602))
        #expect(reply["error"]?.fields["message"]?.textIfString?.contains("the template ../secret.txt is outside the server's root") == true)
    }
}
