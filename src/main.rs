//! The `evals` binary.

fn main() -> std::process::ExitCode {
    evals::cli::main()
}
