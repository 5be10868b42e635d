//! Reads its input files through the preopened directory `.` the way real
//! benchmarks do (Rust std over wasi-libc), sums the numbers of
//! `input.txt` between `bench.start` and `bench.end`, and prints what it
//! saw, including the errno of every refused operation, so the expected
//! files pin the WASI behaviour: directory listing, metadata, seek, and the
//! read-only directory's answers to writes and escapes.

#[path = "../bench.rs"]
mod bench;

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};

fn errno<T>(result: std::io::Result<T>) -> String {
    match result {
        Ok(_) => "ok".to_string(),
        Err(e) => format!("errno {}", e.raw_os_error().unwrap_or(-1)),
    }
}

fn main() {
    let text = fs::read_to_string("input.txt").expect("reading input.txt");
    let numbers: Vec<u64> = text
        .lines()
        .map(|l| l.trim().parse().expect("a number per line"))
        .collect();
    let sum = bench::measured(|| numbers.iter().sum::<u64>());
    println!("numbers: {}", numbers.len());
    println!("sum: {sum}");

    let mut names: Vec<String> = fs::read_dir(".")
        .expect("listing .")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    println!("entries: {}", names.join(" "));

    let nested = fs::read_to_string("data/nested.txt").expect("reading data/nested.txt");
    println!("nested: {}", nested.trim_end());
    let meta = fs::metadata("data/nested.txt").unwrap();
    println!("nested size: {} file: {}", meta.len(), meta.is_file());
    println!("data is dir: {}", fs::metadata("data").unwrap().is_dir());
    let via_dotdot = fs::read_to_string("data/../input.txt").map(|t| t == text);
    println!("data/../input.txt same: {}", via_dotdot.unwrap_or(false));

    let mut file = File::open("input.txt").unwrap();
    let end = file.seek(SeekFrom::End(0)).unwrap();
    file.seek(SeekFrom::Start(end - 4)).unwrap();
    let mut tail = String::new();
    file.read_to_string(&mut tail).unwrap();
    println!("size: {end} tail: {:?}", tail);
    println!("position: {}", file.stream_position().unwrap());
    println!("write to input: {}", errno(file.write_all(b"x")));

    println!("create: {}", errno(File::create("out.txt")));
    println!(
        "open for append: {}",
        errno(OpenOptions::new().append(true).open("input.txt"))
    );
    println!("escape: {}", errno(File::open("../input.txt")));
    println!("missing: {}", errno(File::open("missing.txt")));
    println!("remove: {}", errno(fs::remove_file("input.txt")));
    println!("mkdir: {}", errno(fs::create_dir("new")));
    eprintln!("read-input: done");
}
