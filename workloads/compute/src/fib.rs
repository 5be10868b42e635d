//! `fib`: the naive doubly recursive Fibonacci, the calls-and-returns
//! workload. Almost all of its time is call overhead: prologues, epilogues,
//! the stack-limit check wasmtime puts in every wasm function.

/// The suite's `n`: fib(25) makes 242,785 calls.
pub const SUITE_N: i32 = 25;
/// Largest `n` accepted (larger is clamped): fib(32) already makes 7 million
/// calls, and the result would soon overflow `i32` anyway.
pub const MAX_N: i32 = 32;

/// fib(`n`) (`n` clamped to `..=MAX_N`; `n` < 2 returns `n`), by recursion.
/// The second argument is ignored.
pub fn run(n: i32, _unused: i32) -> i32 {
    fib(n.min(MAX_N))
}

fn fib(n: i32) -> i32 {
    if n < 2 {
        n
    } else {
        fib(n - 1).wrapping_add(fib(n - 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iterative(n: i32) -> i32 {
        let (mut a, mut b) = (0i32, 1i32);
        for _ in 0..n {
            (a, b) = (b, a.wrapping_add(b));
        }
        a
    }

    #[test]
    fn matches_the_iterative_definition() {
        for n in 0..=25 {
            assert_eq!(run(n, 0), iterative(n), "fib({n})");
        }
        assert_eq!(run(-3, 0), -3);
        assert_eq!(run(1000, 0), iterative(MAX_N));
    }
}
