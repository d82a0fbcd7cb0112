import Foundation
import SPAKCommands

// A responder that exits without reading its request must not kill spak with SIGPIPE; the
// failed write is reported as an error instead.
signal(SIGPIPE, SIG_IGN)
// Started with a standard stream closed, spak would hand that number to the next file it
// opens, and a command's streams could land on it: fill the gap with /dev/null.
for stream: Int32 in 0...2 where fcntl(stream, F_GETFD) < 0 {
    _ = open("/dev/null", stream == 0 ? O_RDONLY : O_WRONLY)
}
exit(SpakCLI.run(Array(CommandLine.arguments.dropFirst())))
