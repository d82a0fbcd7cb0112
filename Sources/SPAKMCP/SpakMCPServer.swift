import Foundation
import MCP

/// `spak mcp`: the run service as an MCP server over standard input and output. Each tool
/// call is one kernel operation on the run folders under the root; protocol errors (bad
/// JSON-RPC, an unknown tool, bad arguments, a run that does not exist) are JSON-RPC errors,
/// and the server keeps serving.
public enum SpakMCPServer {
    /// Serves until the client closes standard input.
    public static func serve(_ service: RunService, version: String) async throws {
        let server = Server(name: "spak", version: version,
                            capabilities: .init(resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: ToolCatalog.tools) }
        await server.withMethodHandler(CallTool.self) { params in
            do {
                let output = try ToolCatalog.call(params.name, params.arguments ?? [:], on: service)
                let structured: MCP.Value? = ValueBridge.mcp(output.structured)
                return CallTool.Result(content: [.text(output.text)], structuredContent: structured, isError: false)
            } catch let failure as RunService.Failure {
                switch failure.kind {
                case .invalidArguments: throw MCPError.invalidParams(failure.description)
                case .internalError: throw MCPError.internalError(failure.description)
                case .toolError: return .init(content: [.text(failure.description)], isError: true)
                }
            }
        }
        await server.withMethodHandler(ListResources.self) { _ in
            .init(resources: service.resources().map { Resource(name: $0.name, uri: $0.uri, mimeType: $0.mimeType) }, nextCursor: nil)
        }
        await server.withMethodHandler(ReadResource.self) { params in
            do {
                let resource = try service.read(uri: params.uri)
                return .init(contents: [.text(resource.text, uri: params.uri, mimeType: resource.mimeType)])
            } catch {
                throw MCPError.invalidParams("\(error)")
            }
        }
        try await server.start(transport: StdioTransport()) { client, _ in
            service.setClient(name: client.name, version: client.version)
        }
        await server.waitUntilCompleted()
    }
}
