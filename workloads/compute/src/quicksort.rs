//! `quicksort`: sort pseudo-random `i32`s, the branchy compare-and-swap
//! workload with data-dependent (unpredictable) branches and recursion.
//!
//! Hoare partition around a median-of-three pivot, insertion sort below
//! [`INSERTION_CUTOFF`] elements, recursion into the smaller part and a
//! loop over the larger (so the stack stays O(log n) deep).

use crate::checksum::Checksum;
use crate::prng::Prng;
use crate::scratch::Scratch;

/// The suite's length: 12,000 elements.
pub const SUITE_LEN: i32 = 12_000;
/// Capacity of the array; a longer length is clamped.
pub const MAX_LEN: usize = 1 << 15;
/// Parts shorter than this are finished by insertion sort.
pub const INSERTION_CUTOFF: usize = 16;

static ARRAY: Scratch<[i32; MAX_LEN]> = Scratch::new([0; MAX_LEN]);

/// Fill `len` elements (clamped to `0..=MAX_LEN`) from `seed`, sort them,
/// and return a checksum of the sorted array. An array that comes out
/// unsorted returns the bitwise complement of that checksum, so a broken
/// sort fails even if it happens to preserve the checksum's input.
pub fn run(len: i32, seed: i32) -> i32 {
    let len = len.clamp(0, MAX_LEN as i32) as usize;
    let mut rng = Prng::new(seed);
    ARRAY.with(|array| {
        let array = &mut array[..len];
        for value in array.iter_mut() {
            *value = rng.next_u32() as i32;
        }
        sort(array);
        let mut sum = Checksum::new();
        array.iter().for_each(|&value| sum.int(value));
        sum.word(len as u32);
        let sorted = array.windows(2).all(|pair| pair[0] <= pair[1]);
        if sorted { sum.finish() } else { !sum.finish() }
    })
}

/// Sort `items` ascending.
pub fn sort(mut items: &mut [i32]) {
    while items.len() >= INSERTION_CUTOFF {
        let split = partition(items);
        let (left, right) = items.split_at_mut(split);
        if left.len() < right.len() {
            sort(left);
            items = right;
        } else {
            sort(right);
            items = left;
        }
    }
    insertion_sort(items);
}

/// Hoare partition: returns `split` with every element of `items[..split]`
/// ≤ every element of `items[split..]`, both parts non-empty.
/// Needs `items.len() >= 3`.
fn partition(items: &mut [i32]) -> usize {
    let last = items.len() - 1;
    let middle = last / 2;
    // Median of three, moved to the middle: it is then the pivot value, and
    // items[0] ≤ pivot ≤ items[last] act as sentinels for both scans.
    if items[middle] < items[0] {
        items.swap(middle, 0);
    }
    if items[last] < items[0] {
        items.swap(last, 0);
    }
    if items[last] < items[middle] {
        items.swap(last, middle);
    }
    let pivot = items[middle];
    let mut i = 0;
    let mut j = last;
    loop {
        while items[i] < pivot {
            i += 1;
        }
        while items[j] > pivot {
            j -= 1;
        }
        if i >= j {
            // j < last always holds here (the first round moves j below
            // last or swaps and advances), so both parts are non-empty.
            return j + 1;
        }
        items.swap(i, j);
        i += 1;
        j -= 1;
    }
}

fn insertion_sort(items: &mut [i32]) {
    for next in 1..items.len() {
        let value = items[next];
        let mut hole = next;
        while hole > 0 && items[hole - 1] > value {
            items[hole] = items[hole - 1];
            hole -= 1;
        }
        items[hole] = value;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn sorts_like_the_standard_library() {
        for (len, seed) in [
            (0, 1),
            (1, 1),
            (2, 7),
            (3, 2),
            (16, 3),
            (17, 4),
            (100, 5),
            (5000, 6),
        ] {
            let mut rng = Prng::new(seed);
            let mut ours: Vec<i32> = (0..len).map(|_| rng.next_u32() as i32).collect();
            let mut theirs = ours.clone();
            sort(&mut ours);
            theirs.sort_unstable();
            assert_eq!(ours, theirs, "len {len}");
        }
    }

    #[test]
    fn sorts_adversarial_patterns() {
        let patterns: [fn(i32) -> i32; 5] = [
            |i| i,
            |i| -i,
            |_| 7,
            |i| i % 3,
            |i| if i % 2 == 0 { i } else { -i },
        ];
        for pattern in patterns {
            let mut items: Vec<i32> = (0..1000).map(pattern).collect();
            let mut expected = items.clone();
            sort(&mut items);
            expected.sort_unstable();
            assert_eq!(items, expected);
        }
    }

    #[test]
    fn run_checksums_the_sorted_array() {
        let mut rng = Prng::new(8);
        let mut items: Vec<i32> = (0..300).map(|_| rng.next_u32() as i32).collect();
        items.sort_unstable();
        let mut sum = Checksum::new();
        items.iter().for_each(|&v| sum.int(v));
        sum.word(300);
        assert_eq!(run(300, 8), sum.finish());
    }
}
