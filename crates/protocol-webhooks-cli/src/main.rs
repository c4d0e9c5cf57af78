//! `protocol-webhooks`: sign, verify, send and receive Protocol webhooks
//! from the command line, to test a receiver end to end.
//!
//! Exit status: 0 on success; 1 when a signature does not verify, a receiver
//! answers other than expected or cannot be reached, `listen` cannot
//! listen, an inbox store fails, or an inbox entry is absent or not dead;
//! 2 on a usage error or an input that cannot be read (including an inbox
//! that does not exist).

#![forbid(unsafe_code)]

extern crate alloc;

mod catalog;
mod cli;
mod error;
mod inbox;
mod input;
mod listen;
mod secret;
mod send;
mod sign;
mod verify;

use std::io::{self, Write as _};
use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // clap sends --help and --version to stdout with status 0, and
            // usage errors to stderr with status 2.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if let Some(message) = error.message() {
                // Nothing more can be done if stderr itself is gone.
                let _ = writeln!(io::stderr().lock(), "error: {message}");
            }
            error.exit_code()
        }
    }
}
