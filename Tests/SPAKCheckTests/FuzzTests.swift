import SPAKCheck
import SPAKDiagnostics
import SPAKSyntax
import Foundation
import SPAKTestSupport
import Testing

/// A small deterministic generator, so every run mutates the same way.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Fuzzing the front end")
struct FuzzTests {
    static let seeds = Repository.spakFiles(in: "Tests/Fixtures/corpus/valid")
        + Repository.spakFiles(in: "Tests/Fixtures/corpus/invalid")
        + Repository.spakFiles(in: "Tests/Fixtures/diagnostics")
        + Repository.spakFiles(in: "examples/kernels")

    /// Byte-level edits: delete, duplicate, swap in a byte from a hostile set, or splice in a
    /// slice of another seed.
    static func mutate(_ bytes: [UInt8], with other: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var result = bytes
        let hostile: [UInt8] = Array("{}()[]\"\\/.,:=<>-+*%\n\t ".utf8) + [0, 0xFF, 0xC3, 0x80, 0xE2]
        for _ in 0..<Int.random(in: 1...6, using: &random) {
            let position = result.isEmpty ? 0 : Int.random(in: 0..<result.count, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where !result.isEmpty:
                result.removeSubrange(position..<min(result.count, position + Int.random(in: 1...8, using: &random)))
            case 1 where !result.isEmpty:
                let end = min(result.count, position + Int.random(in: 1...16, using: &random))
                result.insert(contentsOf: result[position..<end], at: position)
            case 2:
                result.insert(hostile.randomElement(using: &random)!, at: position)
            default:
                guard !other.isEmpty else { continue }
                let start = Int.random(in: 0..<other.count, using: &random)
                result.insert(contentsOf: other[start..<min(other.count, start + 40)], at: position)
            }
        }
        return result
    }

    @Test("3,000 mutated programs: no crash, no hang, every position inside its file",
          .timeLimit(.minutes(3)))
    func mutations() throws {
        let seeds = try Self.seeds.map { Array(try String(contentsOfFile: $0, encoding: .utf8).utf8) }
        #expect(seeds.count >= 50)
        var random = SplitMix64(state: 0x5EED)
        for round in 0..<3_000 {
            let seed = seeds[round % seeds.count]
            let bytes = Self.mutate(seed, with: seeds.randomElement(using: &random)!, using: &random)
            let loaded = Frontend.decode(bytes, path: Repository.path("Tests/Fixtures/diagnostics/fuzz-\(round).spak"))
            let checked = Frontend.check(loaded.file, encodingError: loaded.encodingError)
            for diagnostic in checked.diagnostics where diagnostic.file.path == loaded.file.path {
                let location = diagnostic.location
                #expect(diagnostic.range.start >= 0 && diagnostic.range.end <= loaded.file.bytes.count)
                #expect(location.line >= 1 && location.line <= loaded.file.lineCount)
                #expect(location.column >= 1)
                _ = DiagnosticRenderer().render(diagnostic)
            }
            let program = checked.parse.program
            if !checked.parse.hasErrors, program.task != nil {
                let printed = ProgramPrinter(program: program, source: loaded.file).print(program)
                #expect(!SPAKParser.parse(SourceFile(path: "re", text: printed)).hasErrors, "round \(round)")
            }
        }
    }
}
