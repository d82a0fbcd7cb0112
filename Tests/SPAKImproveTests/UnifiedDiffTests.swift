import Foundation
import SPAKTestSupport
import Testing
@testable import SPAKImprove

/// `improved.diff` is a real unified diff: `patch` applies it.
@Suite struct UnifiedDiffTests {
    let old = (1...12).map { "line \($0)" }.joined(separator: "\n") + "\n"

    @Test func hunksHaveHeadersAndThreeLinesOfContext() {
        let new = old.replacingOccurrences(of: "line 2\n", with: "line two\n").replacingOccurrences(of: "line 11\n", with: "line 11\nline 11b\n")
        #expect(UnifiedDiff.diff(old: old, new: new, oldName: "p.spak", newName: "p.spak") == """
            --- a/p.spak
            +++ b/p.spak
            @@ -1,5 +1,5 @@
             line 1
            -line 2
            +line two
             line 3
             line 4
             line 5
            @@ -9,4 +9,5 @@
             line 9
             line 10
             line 11
            +line 11b
             line 12

            """)
        #expect(UnifiedDiff.diff(old: old, new: old, oldName: "p", newName: "p") == "")
    }

    @Test func patchAppliesTheDiff() throws {
        let new = old.replacingOccurrences(of: "line 6\n", with: "").replacingOccurrences(of: "line 1\n", with: "line 0\nline 1\n")
        let directory = try makeScratchDirectory()
        _ = try write(old, to: "p.spak", in: directory)
        _ = try write(UnifiedDiff.diff(old: old, new: new, oldName: "p.spak", newName: "p.spak"), to: "change.diff", in: directory)
        let patch = Process()
        patch.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        patch.arguments = ["patch", "-s", "-p1", "-i", "change.diff"]
        patch.currentDirectoryURL = directory
        try patch.run()
        patch.waitUntilExit()
        #expect(patch.terminationStatus == 0)
        #expect(try String(contentsOf: directory.appendingPathComponent("p.spak"), encoding: .utf8) == new)
    }
}
