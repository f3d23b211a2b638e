//! [`Lines`]: a reference-counted buffer whose elements start on a cache
//! line, in one allocation with its count.
//!
//! `Arc<[T]>` would do, but for costs that a microsecond-sized Jacobian
//! pays on every call (measured on a 1 KiB result: 41 ns for an `Arc`
//! against 17 for the allocation alone):
//! - its elements start 16 bytes into a cache line, after the two counts,
//!   so that every 512-bit store of a row straddles two lines;
//! - three locked read-modify-writes per result: `Arc::get_mut` on the new
//!   buffer (for the weak count), then the strong and the weak decrement
//!   when it is dropped.
//!
//! Here there is one count and no weak references. A new buffer is written
//! through `new`'s closure without any atomic operation, and the last owner
//! sees a count of one and frees it without a locked instruction: no other
//! owner exists to race with (the reasoning of `Arc::is_unique`). Small
//! blocks are also reused within a thread ([`spare`]).

use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering, fence};

/// The count, alone on the cache line before the elements.
#[repr(C, align(64))]
struct Head {
    count: AtomicUsize,
}

/// `len` elements of `T` on whole cache lines after a [`Head`], shared by
/// every clone; read-only while shared.
pub(crate) struct Lines<T> {
    head: NonNull<Head>,
    len: usize,
    elems: PhantomData<T>,
}

// SAFETY: as `Arc<[T]>`: clones only read the elements (`get_mut` needs the
// only owner), and the count is atomic.
unsafe impl<T: Send + Sync> Send for Lines<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Lines<T> {}

/// The largest count before `clone` aborts (as `Arc`'s does).
const MAX_COUNT: usize = isize::MAX as usize;

impl<T: Copy> Lines<T> {
    /// Elements aligned to more than a line would not start aligned.
    const FITS: () = assert!(
        std::mem::align_of::<T>() <= 64,
        "an element type aligned to more than a cache line"
    );

    /// `len` elements that `fill` writes.
    ///
    /// # Safety
    /// `fill` must initialise every element of the slice it is given.
    #[inline]
    pub(crate) unsafe fn new(len: usize, fill: impl FnOnce(&mut [MaybeUninit<T>])) -> Self {
        let () = Self::FITS;
        let head = spare::take(Self::lines_for(len));
        // SAFETY: the block starts with room for an aligned `Head`.
        unsafe {
            head.write(Head {
                count: AtomicUsize::new(1),
            })
        };
        let lines: Lines<T> = Lines {
            head,
            len,
            elems: PhantomData,
        };
        // SAFETY: the elements are this buffer's alone (it is not yet
        // shared), and `len` of them fit after the head. If `fill` panics,
        // `lines` is dropped: elements are `Copy`, so uninitialised ones are
        // never read or dropped.
        fill(unsafe { std::slice::from_raw_parts_mut(lines.elems().cast(), len) });
        lines
    }

    /// The first element: right after the head's line, so 64-byte
    /// aligned.
    #[inline(always)]
    fn elems(&self) -> *mut T {
        // SAFETY: the allocation holds the head and then the elements.
        unsafe { self.head.as_ptr().add(1).cast() }
    }

    #[inline(always)]
    pub(crate) fn as_slice(&self) -> &[T] {
        // SAFETY: `new` had every element initialised; while shared the
        // elements are only read.
        unsafe { std::slice::from_raw_parts(self.elems(), self.len) }
    }

    /// The elements, if this is their only owner.
    #[inline]
    pub(crate) fn get_mut(&mut self) -> Option<&mut [T]> {
        // Acquire: other owners' reads happen before they dropped.
        if self.count().load(Ordering::Acquire) != 1 {
            return None;
        }
        // SAFETY: the only owner, borrowed mutably, so no clone can appear.
        Some(unsafe { std::slice::from_raw_parts_mut(self.elems(), self.len) })
    }
}

impl<T> Lines<T> {
    /// How many lines `len` elements take, the head's included.
    fn lines_for(len: usize) -> usize {
        len.checked_mul(std::mem::size_of::<T>())
            .and_then(|b| b.checked_add(2 * 64 - 1))
            .filter(|&b| b <= isize::MAX as usize)
            .unwrap_or_else(|| panic!("transforms: a buffer of {len} elements is too large"))
            / 64
    }

    #[inline(always)]
    fn count(&self) -> &AtomicUsize {
        // SAFETY: the head lives as long as any owner.
        unsafe { &self.head.as_ref().count }
    }
}

impl<T> Clone for Lines<T> {
    #[inline]
    fn clone(&self) -> Self {
        // Relaxed: a new owner comes from an existing one (as `Arc`).
        if self.count().fetch_add(1, Ordering::Relaxed) > MAX_COUNT {
            std::process::abort();
        }
        Lines {
            head: self.head,
            len: self.len,
            elems: PhantomData,
        }
    }
}

impl<T> Drop for Lines<T> {
    #[inline]
    fn drop(&mut self) {
        // The only owner frees without a locked instruction: no clone can
        // appear or drop meanwhile. Acquire: the others' reads happened
        // before.
        if self.count().load(Ordering::Acquire) != 1 {
            if self.count().fetch_sub(1, Ordering::Release) != 1 {
                return;
            }
            fence(Ordering::Acquire);
        }
        // SAFETY: the block of this many lines that `new` took, with no
        // owner left (`new` checked the size, so this does not panic).
        unsafe { spare::give_back(self.head, Self::lines_for(self.len)) };
    }
}

/// Where buffers come from and go: the allocator, except that each thread
/// keeps the last small block it freed and hands it out again for the same
/// size. A loop that computes and drops a small Jacobian then allocates
/// nothing: measured on a 16 x 16 one (1 KiB), an allocation and a free
/// cost about 20 ns of its 120 (the allocator's aligned path, and the page
/// it empties each time), the spare block about 2.
mod spare {
    use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
    use std::cell::Cell;
    use std::ptr::NonNull;

    use super::Head;

    /// The largest block kept (4 KiB): larger results cost far more to
    /// write than to allocate.
    const MAX_LINES: usize = 64;

    /// A thread's spare block and its size in lines, freed with the thread.
    struct Spare(Cell<Option<(NonNull<Head>, usize)>>);

    impl Drop for Spare {
        fn drop(&mut self) {
            if let Some((head, lines)) = self.0.take() {
                // SAFETY: a block of `lines` lines that no buffer owns.
                unsafe { dealloc(head.as_ptr().cast(), layout(lines)) };
            }
        }
    }

    thread_local! {
        static SPARE: Spare = const { Spare(Cell::new(None)) };
    }

    /// `lines` whole cache lines on a line boundary.
    fn layout(lines: usize) -> Layout {
        Layout::from_size_align(lines * 64, 64).expect("a size checked by `lines_for`")
    }

    /// A block of `lines` (at least one) lines: the thread's spare one if it
    /// has that size, otherwise a new one.
    #[inline]
    pub(super) fn take(lines: usize) -> NonNull<Head> {
        if lines <= MAX_LINES {
            let spare = SPARE.try_with(|s| match s.0.get() {
                Some((head, l)) if l == lines => s.0.take().map(|_| head),
                _ => None,
            });
            if let Ok(Some(head)) = spare {
                return head;
            }
        }
        let layout = layout(lines);
        // SAFETY: at least one line, so not zero-sized.
        NonNull::new(unsafe { alloc(layout) }.cast::<Head>())
            .unwrap_or_else(|| handle_alloc_error(layout))
    }

    /// Frees a block of `lines` lines, or keeps it as the thread's spare
    /// one (freeing the one it replaces).
    ///
    /// # Safety
    /// `head` must come from [`take`] with the same `lines`, and no buffer
    /// may own it any more.
    #[inline]
    pub(super) unsafe fn give_back(head: NonNull<Head>, lines: usize) {
        let mut free = Some((head, lines));
        if lines <= MAX_LINES {
            // Fails only while the thread's locals are being destroyed.
            if let Ok(old) = SPARE.try_with(|s| s.0.replace(Some((head, lines)))) {
                free = old;
            }
        }
        if let Some((head, lines)) = free {
            // SAFETY: the caller's block, or the spare one it replaced.
            unsafe { dealloc(head.as_ptr().cast(), layout(lines)) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(n: usize) -> Lines<f32> {
        // SAFETY: every element is written.
        unsafe {
            Lines::new(n, |s| {
                for (i, e) in s.iter_mut().enumerate() {
                    e.write(i as f32);
                }
            })
        }
    }

    #[test]
    fn elements_start_on_a_line_and_keep_their_values() {
        for n in [0, 1, 15, 16, 17, 256, 1000] {
            let l = filled(n);
            assert_eq!(l.as_slice().as_ptr() as usize % 64, 0, "{n}");
            let want: Vec<f32> = (0..n).map(|i| i as f32).collect();
            assert_eq!(l.as_slice(), &want[..]);
        }
    }

    #[test]
    fn shared_buffers_are_not_writable_until_one_owner_is_left() {
        let mut a = filled(8);
        assert!(a.get_mut().is_some());
        let b = a.clone();
        assert!(a.get_mut().is_none());
        let handle = std::thread::spawn(move || b.as_slice().iter().sum::<f32>());
        assert_eq!(handle.join().unwrap(), 28.0);
        let s = a.get_mut().expect("the clone was dropped");
        s[0] = 5.0;
        assert_eq!(a.as_slice()[0], 5.0);
    }

    #[test]
    fn a_small_block_is_reused_for_the_next_buffer_of_its_size() {
        let first = filled(256);
        let at = first.as_slice().as_ptr();
        drop(first);
        // 250 floats take the same 17 lines (with the head) as 256.
        let again = filled(250);
        assert_eq!(again.as_slice().as_ptr(), at);
        let want: Vec<f32> = (0..250).map(|i| i as f32).collect();
        assert_eq!(again.as_slice(), &want[..]);
        drop(again);
        // Another size gets a block of its own (the spare one is still
        // allocated, so the address differs), and the spare one is kept.
        let other = filled(300);
        assert_ne!(other.as_slice().as_ptr(), at);
        assert_eq!(filled(256).as_slice().as_ptr(), at);
        drop(other);
        // A block dropped on another thread is that thread's to keep or
        // free (it exits, freeing it).
        let sent = filled(256);
        std::thread::spawn(move || assert_eq!(sent.as_slice()[255], 255.0))
            .join()
            .unwrap();
    }

    #[test]
    fn clones_dropped_on_many_threads_free_once() {
        let a = filled(100);
        let clones: Vec<_> = (0..8).map(|_| a.clone()).collect();
        drop(a);
        let handles: Vec<_> = clones
            .into_iter()
            .map(|c| std::thread::spawn(move || c.as_slice()[99]))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 99.0);
        }
    }
}
