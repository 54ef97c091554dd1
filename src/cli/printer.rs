//! Where commands write their output: stdout, buffered when it is not a terminal. A write to a
//! closed pipe (`evals traces list | head -1`) ends the command quietly instead of panicking.

use std::fmt;
use std::io::{self, IsTerminal, Write};

use super::CliError;

pub struct Printer {
    out: Box<dyn Write>,
}

impl Printer {
    /// Standard output: line by line on a terminal (prompts show at once), buffered in a pipe.
    pub fn stdout() -> Printer {
        let stdout = io::stdout();
        let out: Box<dyn Write> = if stdout.is_terminal() {
            Box::new(stdout)
        } else {
            Box::new(io::BufWriter::with_capacity(1 << 16, stdout))
        };
        Printer { out }
    }

    /// Standard error, for the human report when stdout carries data (`--report json:-`).
    pub fn stderr() -> Printer {
        Printer { out: Box::new(io::stderr()) }
    }

    pub fn print(&mut self, args: fmt::Arguments<'_>) -> Result<(), CliError> {
        self.out.write_fmt(args).map_err(CliError::Output)
    }

    pub fn println(&mut self, args: fmt::Arguments<'_>) -> Result<(), CliError> {
        self.print(args)?;
        self.out.write_all(b"\n").map_err(CliError::Output)
    }

    pub fn flush(&mut self) -> Result<(), CliError> {
        self.out.flush().map_err(CliError::Output)
    }
}

/// A write failed because the reader went away: not an error worth a message.
pub fn closed_pipe(e: &CliError) -> bool {
    matches!(e, CliError::Output(io) if io.kind() == io::ErrorKind::BrokenPipe)
}
