import SPAKDiagnostics
import SPAKSyntax
import Testing
@testable import SPAKKernel

@Suite("JSON values")
struct JSONTests {
    @Test("round trips keep ints, floats and key order deterministic", arguments: [
        #"{"b":[1,2.5,true,null],"a":"x\n\"y\""}"#, "[]", "{}", "-0.5", "12345678901234", #""\u00e9\ud83d\ude00""#,
    ])
    func roundTrip(text: String) throws {
        let value = try JSON.parse(text)
        #expect(try JSON.parse(JSON.serialize(value)) == value)
    }

    @Test("serialization sorts keys and marks floats")
    func canonical() throws {
        #expect(JSON.serialize(.map(["b": .int(1), "a": .float(2)])) == #"{"a":2.0,"b":1}"#)
        #expect(try JSON.parse("1") == .int(1))
        #expect(try JSON.parse("1.0") == .float(1))
    }

    @Test("malformed JSON is an error with a position", arguments: ["{", "[1,]", "\"open", "tru", "{\"a\" 1}", "1 2"])
    func malformed(text: String) {
        #expect(throws: JSON.ParseError.self) { try JSON.parse(text) }
    }
}

func evaluate(_ expression: String, _ variables: [String: Value] = [:]) throws -> Value {
    let result = SPAKParser.parse(SourceFile(path: "t", text: "task t() { let x = \(expression) }"))
    guard case .let(_, let value, _)? = result.program.task?.body.first else { throw RuntimeError("no expression", at: .at(0)) }
    return try Evaluator(variables: variables).evaluate(value)
}

@Suite("Evaluator and standard library")
struct EvaluatorTests {
    @Test("operators", arguments: [
        ("1 + 2 * 3", Value.int(7)), ("7 / 2", .float(3.5)), ("7 % 3", .int(1)), ("-(2 - 5)", .int(3)),
        ("\"a\" + \"b\"", .string("ab")), ("[1] + [2]", .list([.int(1), .int(2)])), ("1 == 1.0", .bool(true)),
        ("\"a\" < \"b\"", .bool(true)), ("not (1 > 2) and true", .bool(true)), ("false or 2 >= 2", .bool(true)),
        ("30s + 1m", .float(90)), ("{a: 1}.a", .int(1)), ("[10, 20][1]", .int(20)), ("\"héllo\"[1]", .string("é")),
    ])
    func operators(expression: String, expected: Value) throws {
        #expect(try evaluate(expression) == expected)
    }

    @Test("standard library", arguments: [
        ("len(\"abc\")", Value.int(3)), ("int(\" 42 \")", .int(42)), ("float(\"1.5\")", .float(1.5)), ("str(1.5)", .string("1.5")),
        ("split(\"a,b\", \",\")", .list([.string("a"), .string("b")])), ("join([1, \"x\"], \"-\")", .string("1-x")),
        ("strip(\"  x \")", .string("x")), ("upper(\"a\")", .string("A")), ("replace(\"aXa\", \"X\", \"b\")", .string("aba")),
        ("contains([1, 2], 2)", .bool(true)), ("contains({a: 1}, \"a\")", .bool(true)), ("starts_with(\"abc\", \"ab\")", .bool(true)),
        ("keys({b: 1, a: 2})", .list([.string("a"), .string("b")])), ("get({a: 1}, \"z\", 0)", .int(0)),
        ("sum([1, 2.5])", .float(3.5)), ("mean([1, 3])", .float(2)), ("geomean([1, 4])", .float(2)),
        ("minimum([3, 1, 2])", .int(1)), ("maximum([\"a\", \"c\"])", .string("c")), ("round(2.345, 2)", .float(2.35)),
        ("abs(-3)", .int(3)), ("parse_json(\"{\\\"k\\\": [1]}\")", .map(["k": .list([.int(1)])])), ("to_json({b: 1, a: null})", .string(#"{"a":null,"b":1}"#)),
        ("extract_code(\"x\\n```python\\nprint(1)\\n```\\n\", \"python\")", .string("print(1)")),
        ("extract_code(\"no fence\")", .string("no fence")),
    ])
    func library(expression: String, expected: Value) throws {
        #expect(try evaluate(expression) == expected)
    }

    @Test("run-time errors name what went wrong", arguments: [
        ("1 / 0", "division by zero"), ("[1][5]", "out of range"), ("{a: 1}.b", "no key `b`"), ("int(\"x\")", "not a number"),
        ("mean([])", "empty"), ("9223372036854775807 + 1", "overflow"), ("unbound", "has no value"), ("1 < \"a\"", "compares"),
    ])
    func errors(expression: String, fragment: String) {
        do {
            _ = try evaluate(expression)
            Issue.record("no error for \(expression)")
        } catch {
            #expect("\(error)".contains(fragment), "\(error)")
        }
    }
}
