//! `gen DIR ROWS [ADMINS_PER_MILLE] [SEED]` writes `SigninLogs.jsonl` and
//! `AADNonInteractiveUserSignInLogs.jsonl` (ROWS rows each) and `IdentityInfo.jsonl` (100,000
//! rows, ADMINS_PER_MILLE of them admins; default 30 = 3%). See `detc_bench` for the rows.

use detc_bench::{identity, signin, Rng, USERS};
use std::io::{BufWriter, Write};

fn write(
    path: &std::path::Path,
    rows: u64,
    f: &mut dyn FnMut(u64) -> String,
) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    for i in 0..rows {
        w.write_all(f(i).as_bytes())?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen DIR ROWS [ADMINS_PER_MILLE] [SEED]");
        std::process::exit(2);
    }
    let dir = std::path::PathBuf::from(&args[1]);
    let rows: u64 = args[2].parse().expect("ROWS is a number");
    let admins: u64 = args.get(3).map_or(30, |a| a.parse().expect("a number"));
    let seed: u64 = args.get(4).map_or(42, |a| a.parse().expect("a number"));
    std::fs::create_dir_all(&dir)?;
    let mut r = Rng(seed | 1);
    write(&dir.join("IdentityInfo.jsonl"), USERS, &mut |u| {
        identity(&mut r, u, admins)
    })?;
    let mut r = Rng(seed.wrapping_mul(3) | 1);
    write(&dir.join("SigninLogs.jsonl"), rows, &mut |i| {
        signin(&mut r, i, rows, false)
    })?;
    let mut r = Rng(seed.wrapping_mul(5) | 1);
    write(
        &dir.join("AADNonInteractiveUserSignInLogs.jsonl"),
        rows,
        &mut |i| signin(&mut r, i, rows, true),
    )?;
    Ok(())
}
