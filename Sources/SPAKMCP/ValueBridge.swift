import MCP
import SPAKKernel

/// SPAK's JSON values and the MCP SDK's, both ways.
enum ValueBridge {
    static func mcp(_ value: SPAKKernel.Value) -> MCP.Value {
        switch value {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .int(let number): .int(number)
        case .float(let number): .double(number)
        case .string(let text): .string(text)
        case .list(let items): .array(items.map(mcp))
        case .map(let fields): .object(fields.mapValues(mcp))
        }
    }

    /// A parameter value as `--param NAME=VALUE` takes it: strings as they are, other values as JSON.
    static func parameterText(_ value: MCP.Value) -> String? {
        switch value {
        case .string(let text): text
        case .int(let number): String(number)
        case .double(let number): JSON.formatFloat(number)
        case .bool(let flag): flag ? "true" : "false"
        case .array, .object: JSON.serialize(spak(value))
        case .null, .data: nil
        }
    }

    static func spak(_ value: MCP.Value) -> SPAKKernel.Value {
        switch value {
        case .null, .data: .null
        case .bool(let flag): .bool(flag)
        case .int(let number): .int(number)
        case .double(let number): .float(number)
        case .string(let text): .string(text)
        case .array(let items): .list(items.map(spak))
        case .object(let fields): .map(fields.mapValues(spak))
        }
    }
}
