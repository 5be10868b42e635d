//! Regenerate the committed test fixtures in `tests/fixtures/`:
//! `cargo run -p traplab-analyzer --example gen_fixtures`.
//!
//! Good runs come from the wire crate's encoder (via `synth`); hostile ones
//! are derived from a good run by the damage a serial link or a crashing
//! kernel causes. Every fixture is small: the set stays well under 200 KB.

use std::fs;
use std::path::Path;

use traplab_analyzer::synth::{RunSpec, lines};

/// Re-frame an edited line with a valid check: intact on the wire, hostile
/// in content.
fn reframe(line: &str, edit: impl Fn(&str) -> String) -> String {
    let covered = &line[..line.len() - ",\"crc\":\"xxxxxxxx\"}".len()];
    let covered = edit(covered);
    format!(
        "{covered},\"crc\":\"{:08x}\"}}",
        crc32fast::hash(covered.as_bytes())
    )
}

fn write(dir: &Path, name: &str, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(dir.join(name), text).expect("write fixture");
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    fs::create_dir_all(&dir).expect("create fixture folder");

    // Good runs: a TCG run, the same build measured again (A/A), a build 10%
    // slower, and deterministic icount runs.
    let good = RunSpec::small("tcg", 150);
    write(&dir, "good.jsonl", &lines(&good));
    write(
        &dir,
        "good_again.jsonl",
        &lines(&RunSpec {
            seed: 2,
            ..good.clone()
        }),
    );
    write(
        &dir,
        "slow.jsonl",
        &lines(&RunSpec {
            seed: 3,
            slowdown: 1.10,
            commit: "a1b2c3d".into(),
            ..good.clone()
        }),
    );
    let icount = RunSpec::small("icount", 40);
    write(&dir, "icount.jsonl", &lines(&icount));
    write(
        &dir,
        "icount_slow.jsonl",
        &lines(&RunSpec {
            slowdown: 1.10,
            commit: "a1b2c3d".into(),
            ..icount.clone()
        }),
    );

    // Hostile runs, each derived from one small run.
    let base = lines(&RunSpec::small("tcg", 24));
    let mut boot = vec![
        "\x1b[2J\x1b[01;01H\x1b[=3h\x1b[2J\x1b[01;01HSeaBIOS (version 1.16.3-debian-1.16.3-2)"
            .to_string(),
        "iPXE (https://ipxe.org) 00:03.0 CA00 PCI2.10 PnP PMM+1EFCAF60+1EF0AF60 CA00".into(),
        "Booting from ROM..".into(),
    ];
    let mut first = base.clone();
    first[0] = format!("\x1b[0m{}", first[0]);
    boot.extend(first);
    write(&dir, "boot_noise.jsonl", &boot);

    let mut t = base.clone();
    let last = t.len() - 1;
    let half = t[last - 1].len() / 2;
    t[last - 1].truncate(half);
    t.truncate(last);
    write(&dir, "truncated.jsonl", &t);

    let mut f = base.clone();
    f[1] = f[1].replacen("\"total\":[", "\"total\":[1", 1);
    write(&dir, "flipped.jsonl", &f);

    let mut g = base.clone();
    g.insert(4, "\u{fffd}\u{fffd}@@ garbage from a noisy link @@".into());
    write(&dir, "garbage.jsonl", &g);

    let mut d = base.clone();
    let dup = d[2].clone();
    d.insert(3, dup);
    write(&dir, "duplicate.jsonl", &d);

    let mut r = base.clone();
    r.swap(1, 2);
    write(&dir, "reordered.jsonl", &r);

    let mut m = base.clone();
    m.pop();
    write(&dir, "missing_end.jsonl", &m);

    let mut w = base.clone();
    w[1] = reframe(&w[1], |c| {
        c.replacen("\"total\":[", "\"total\":[\"fast\",", 1)
    });
    w[2] = reframe(&w[2], |c| {
        c.replacen("\"samples\":24", "\"samples\":\"24\"", 1)
    });
    write(&dir, "wrong_types.jsonl", &w);

    let mut u = base.clone();
    u[0] = reframe(&u[0], |c| c.replacen("\"schema\":1", "\"schema\":2", 1));
    write(&dir, "unknown_schema.jsonl", &u);

    write(
        &dir,
        "noise_only.jsonl",
        &[
            "SeaBIOS (version 1.16.3)".into(),
            "Booting from ROM..".into(),
        ],
    );
}
