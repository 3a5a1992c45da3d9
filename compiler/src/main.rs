//! The `detc` command line. Exit codes: 0 success, 1 findings or failures, 2 usage or
//! internal error.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
