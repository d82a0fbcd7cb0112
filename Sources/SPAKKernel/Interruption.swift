import CSPAKSpawn

/// Ctrl-C (SIGINT) and SIGTERM as a request to stop a run cleanly. Once `watch()` has been
/// called (by the commands that run a machine), the first signal makes the machine stop at
/// the next instruction boundary, with its snapshot and exported files up to date; a command
/// running at that moment is killed, and its result is not recorded (it runs again on
/// resume). A second signal stops spak at once, printing the line set by `note(_:)`; the
/// record is then recovered as after a crash.
public enum Interruption {
    /// Turns the signals into stop requests, for the rest of the process.
    public static func watch() { spak_watch_interrupts() }

    /// The signal that asked to stop, if one did.
    public static var requested: Int32? {
        let number = spak_interrupt_signal()
        return number == 0 ? nil : number
    }

    /// Whether the stop request killed the command that was running: its outcome is not the
    /// command's own and must not be recorded.
    static var killedCommand: Bool { spak_interrupt_killed_group() != 0 }

    /// The line a second signal prints before spak dies of it.
    static func note(_ line: String) { spak_set_interrupt_message(line) }

    /// A signal's conventional name.
    public static func name(of signal: Int32) -> String {
        switch signal {
        case 2: "SIGINT"
        case 15: "SIGTERM"
        default: "signal \(signal)"
        }
    }
}

/// Thrown out of an effect whose command a stop request killed.
struct Interrupted: Error {}
