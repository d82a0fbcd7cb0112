import SPAKKernel
import Testing

@Suite("JSON Schema checks of structured replies")
struct JSONSchemaTests {
    private func mismatch(_ schema: String, _ value: String) throws -> String? {
        JSONSchema(try JSON.parse(schema)).firstMismatch(in: try JSON.parse(value))
    }

    @Test("conforming values pass")
    func conforming() throws {
        let schema = """
            {"type": "object", "required": ["score", "tags"], "additionalProperties": false,
             "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 10},
                            "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": true},
                            "note": {"type": ["string", "null"], "description": "an annotation"}}}
            """
        #expect(try mismatch(schema, #"{"score": 7, "tags": ["a", "b"]}"#) == nil)
        #expect(try mismatch(schema, #"{"score": 7.0, "tags": [], "note": null}"#) == nil)
        #expect(try mismatch("true", "[1]") == nil)
        #expect(try mismatch(#"{"format": "email", "title": "x"}"#, #""not an email""#) == nil)
        #expect(try mismatch(#"{"patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": false}"#, #"{"x_a": 1}"#) == nil)
    }

    @Test("no schema and reply make the check run long")
    func bounded() throws {
        let exponential = ##"{"$defs": {"a": {"anyOf": [{"$ref": "#/$defs/a"}, {"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}"##
        let start = ContinuousClock.now
        #expect(try mismatch(exponential, "{}")?.contains("gave up after 1000000 steps") == true)
        let many = "[" + (0..<50_000).map(String.init).joined(separator: ",") + ", 7.0]"
        #expect(try mismatch(#"{"uniqueItems": true}"#, many) == "$[50000]: the items must be unique, and this one repeats an earlier one")
        #expect(ContinuousClock.now - start < .seconds(20))
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(try mismatch(#"{"type": "array"}"#, deep) == nil, "deep data is not a deep schema")
    }

    @Test("the first mismatch is named with its path", arguments: [
        (#"{"type": "object", "required": ["score"]}"#, "{}", "$: the required field `score` is missing"),
        (#"{"properties": {"score": {"type": "integer"}}}"#, #"{"score": "7"}"#, #"$.score: expected an integer, found "7""#),
        (#"{"properties": {"a b": {"type": "integer"}}}"#, #"{"a b": 1.5}"#, #"$["a b"]: expected an integer, found 1.5"#),
        (#"{"additionalProperties": false}"#, #"{"x": 1}"#, "$: the field `x` is not allowed"),
        (#"{"items": {"maximum": 3}}"#, "[1, 5]", "$[1]: expected at most 3, found 5"),
        (#"{"prefixItems": [{"type": "string"}], "minItems": 2}"#, #"["a"]"#, "$: expected at least 2 items, found 1"),
        (#"{"uniqueItems": true}"#, "[1, 1.0]", "$[1]: the items must be unique"),
        (#"{"enum": ["red", "green"]}"#, #""blue""#, #"$: expected one of ["red","green"], found "blue""#),
        (#"{"const": 3}"#, "4", "$: expected 3, found 4"),
        (#"{"pattern": "^[a-z]+$"}"#, #""Abc""#, "does not match the pattern"),
        (#"{"maxLength": 2}"#, #""héé""#, "$: expected at most 2 characters, found 3"),
        (#"{"exclusiveMinimum": 0}"#, "0", "$: expected more than 0, found 0"),
        (#"{"multipleOf": 0.5}"#, "1.25", "$: expected a multiple of 0.5"),
        (#"{"anyOf": [{"type": "string"}, {"type": "integer"}]}"#, "true", "matches none of the 2 choices"),
        (#"{"oneOf": [{"type": "number"}, {"type": "integer"}]}"#, "3", "matches 2"),
        (#"{"not": {"type": "null"}}"#, "null", "matches the schema under `not`"),
        (#"{"if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["x"]}}"#, #"{"kind": "a"}"#, "`x` is missing"),
        (##"{"$defs": {"n": {"type": "number"}}, "items": {"$ref": "#/$defs/n"}}"##, #"[1, "2"]"#, #"$[1]: expected a number, found "2""#),
        (##"{"$ref": "#/$defs/missing"}"##, "1", "leads nowhere"),
        (##"{"$defs": {"loop": {"$ref": "#/$defs/loop"}}, "$ref": "#/$defs/loop"}"##, "1", "nest deeper than 64"),
        ("false", "1", "no value is allowed here"),
        (#"{"patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": false}"#, #"{"x_a": 1, "y": 2}"#,
         "$: the field `y` is not allowed"),
        (#"{"patternProperties": {"^x_": {"type": "integer"}}}"#, #"{"x_a": "1"}"#, #"$.x_a: expected an integer, found "1""#),
        (#"{"propertyNames": {"maxLength": 3}}"#, #"{"abcd": 1}"#, "$.abcd (its name): expected at most 3 characters"),
        (#"{"contains": {"type": "string"}}"#, "[1, 2]", "expected at least 1 item matching `contains`, found 0"),
        (#"{"contains": {"type": "string"}, "maxContains": 1}"#, #"["a", "b"]"#, "expected at most 1 item matching `contains`"),
        (#"{"dependentRequired": {"card": ["billing"]}}"#, #"{"card": 1}"#, "`billing` is required when `card` is there"),
    ])
    func mismatches(schema: String, value: String, words: String) throws {
        let found = try mismatch(schema, value)
        #expect(found?.contains(words) == true, "got: \(found ?? "nil")")
    }
}
