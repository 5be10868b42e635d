//! The `traplab` binary: parses arguments, runs the command, prints the whole
//! error chain and picks the exit code in the project's one scheme
//! (harness/src/exit.rs): 0 clean, 1 findings — problems in a run, a
//! regression —, 2 bad input or usage. Everything else is in the
//! library.

use std::process::ExitCode;

use clap::Parser;
use traplab_analyzer::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors.
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            eprintln!("traplab: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
