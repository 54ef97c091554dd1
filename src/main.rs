//! The `evals` binary.

// Replay and ingest allocate many short-lived buffers across threads; glibc's allocator spent
// close to a fifth of a replay's CPU time in malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Huge pages buy nothing at this size, and when memory is fragmented (just after a checkout
    // wrote thousands of case files) each one first stalls on compaction and zeroing: loading
    // 10,000 cases took 0.3 s instead of 0.15 s.
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE only sets a flag on this process; no memory is touched.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    evals::cli::main()
}
