//! Freed heap memory goes back to the operating system (its own process: RSS is global).
#![allow(clippy::unwrap_used, missing_docs)]

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn freed_memory_is_returned() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        eprintln!("skipped: only glibc keeps freed memory; other allocators return it");
        return;
    }
    // 64 MB in 4 KB blocks, written so they are resident. One block in 256 is kept, so the
    // free memory lies between live blocks, where free() alone never gives it back.
    let mut blocks: Vec<Vec<u8>> = (0..16_384)
        .map(|i| vec![(i % 251) as u8 + 1; 4096])
        .collect();
    let full = rss_kb();
    let kept: Vec<Vec<u8>> = blocks.drain(..).step_by(256).collect();
    let freed = rss_kb();
    assert!(
        freed + 32_768 > full,
        "free() alone returned most of it ({full} → {freed} kB); the test shows nothing"
    );
    assert!(mentorsync_server::memory::return_freed());
    let returned = rss_kb();
    assert!(
        returned + 32_768 < freed,
        "at least 32 MB of the 64 MB freed went back ({freed} → {returned} kB)"
    );
    assert_eq!(kept.len(), 64);
}
