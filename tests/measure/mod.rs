//! A global allocator for tests that measure the heap: it wraps the
//! system allocator and counts allocations (reallocations included) and
//! the bytes live, with their peak. A test file installs it with
//! `#[global_allocator] static GLOBAL: measure::Measuring =
//! measure::Measuring;` and runs its measuring tests one at a time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The system allocator, measured.
pub struct Measuring;

/// Allocations and reallocations so far.
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// Bytes allocated and not yet freed.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The most bytes live at once since the last `peak_of`.
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Counts `size` more live bytes and raises the peak.
fn grow(size: usize) {
    let now = LIVE.fetch_add(size, Ordering::SeqCst) + size;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

unsafe impl GlobalAlloc for Measuring {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        grow(layout.size());
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(
        &self,
        ptr: *mut u8,
        layout: Layout,
        size: usize,
    ) -> *mut u8 {
        // Counted as the new block allocated before the old one is freed,
        // which is what a moving realloc needs at its peak.
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        grow(size);
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        System.realloc(ptr, layout, size)
    }
}

/// Allocations made by `f`.
#[allow(dead_code)]
pub fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

/// The most bytes `f` held live at once, beyond those live before it.
#[allow(dead_code)]
pub fn peak_of(f: impl FnOnce()) -> usize {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    f();
    PEAK.load(Ordering::SeqCst) - before
}
