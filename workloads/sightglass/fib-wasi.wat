;; A benchmark following sightglass's ABI, written out by hand so the test
;; suite needs no wasi-libc toolchain: `_start` does what libc start-up
;; does (scan preopened directories until EBADF, look at stdout), then
;; brackets the measured work with `bench.start` / `bench.end`, prints its
;; result with `fd_write` and exits with `proc_exit(0)`. Like real modules
;; it imports WASI functions it never calls (`path_open`, `fd_read`), which
;; the kernel must still define.
(module
  (import "bench" "start" (func $bench_start))
  (import "bench" "end" (func $bench_end))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "fib(25) = 75025\0a")

  (func $fib (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))

  (func (export "_start")
    ;; libc start-up: preopens are numbered from 3; EBADF (8) ends the scan.
    (if (i32.ne (call $fd_prestat_get (i32.const 3) (i32.const 512)) (i32.const 8))
      (then (call $proc_exit (i32.const 71))))
    (if (i32.ne (call $fd_fdstat_get (i32.const 1) (i32.const 512)) (i32.const 0))
      (then (call $proc_exit (i32.const 72))))
    (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 512)))
    (drop (call $random_get (i32.const 512) (i32.const 32)))
    (call $bench_start)
    (if (i32.ne (call $fib (i32.const 25)) (i32.const 75025))
      (then (call $proc_exit (i32.const 1))))
    (call $bench_end)
    ;; One iovec at 0: {ptr 64, len 16}; bytes written go to 8.
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 16))
    (if (i32.ne (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)) (i32.const 0))
      (then (call $proc_exit (i32.const 73))))
    (call $proc_exit (i32.const 0))))
