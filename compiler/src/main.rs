//! The `detc` command line. Exit codes: 0 success, 1 findings or failures, 2 usage or
//! internal error.

mod cli;

fn main() {
    // Deeply nested queries recurse deeply in the parser and lowering: give them room.
    let worker = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(cli::main);
    let code = match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => 2,
    };
    std::process::exit(code);
}
