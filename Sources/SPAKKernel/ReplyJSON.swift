/// The JSON a reply holds, as `-> NAME as json`, `schema:` and `parse_json` read it: the
/// reply as a whole when it is JSON, else the first fenced block marked `json` (```json),
/// else the first fenced block with no language (```), the way models most often wrap
/// JSON. A block marked with another language is never taken. The trace keeps the reply as
/// it came.
public enum ReplyJSON {
    /// The value; when neither the reply nor a fenced block is JSON, the error names what was
    /// wrong with each.
    public static func parse(_ text: String) throws(JSON.ParseError) -> Value {
        let whole: JSON.ParseError
        do { return try JSON.parse(text) } catch { whole = error }
        let blocks = CodeBlocks.blocks(in: text)
        guard let block = blocks.first(where: { $0.info == "json" }) ?? blocks.first(where: { $0.info.isEmpty }) else {
            throw whole
        }
        do {
            return try JSON.parse(block.body)
        } catch {
            throw JSON.ParseError(message: "\(whole.message) at byte \(whole.offset); in its fenced ```\(block.info) block, \(error.message)",
                                  offset: error.offset)
        }
    }
}
