//! Sending commands allocates nothing: repeated PCR_Extend and Quote on an open swtpm
//! transport, counted by a global allocator that tallies this thread's allocations.

mod common;

use baretpm::commands::{templates, CreatePrimary, FlushContext, PcrExtend, Quote};
use baretpm::tpm::Tpm;
use baretpm::transport::swtpm::SwtpmTransport;
use baretpm::transport::Timeouts;
use baretpm::types::{HashAlg, TpmlDigestValues, TpmlPcrSelection, TpmsPcrSelection, TpmtHa};
use common::swtpm::{Ek, Family, Options, SwtpmInstance};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: defers to the system allocator; the thread-locals are const-initialised, so touching
// them never allocates (no recursion into this allocator).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            COUNT.with(|c| c.set(c.get() + 1));
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> usize {
    COUNT.with(|c| c.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    COUNT.with(Cell::get)
}

#[test]
fn repeated_extend_and_quote_allocate_nothing() {
    let sw = SwtpmInstance::start_with(Options {
        ek: Ek::None,
        family: Family::Tcp,
    })
    .expect("swtpm must be installed");
    let transport = SwtpmTransport::tcp("127.0.0.1", sw.port(), Timeouts::default()).unwrap();
    // The Tpm holds 8 KiB of buffers: box it once, outside the counted region.
    let mut tpm = Box::new(Tpm::new(transport));
    let ak = tpm
        .execute(&CreatePrimary::in_endorsement(templates::ak_ecc()))
        .unwrap()
        .object_handle;
    let mut selection = TpmlPcrSelection::default();
    selection
        .push(TpmsPcrSelection::new(HashAlg::Sha256, &[0, 1, 2, 3, 4, 5, 6, 7, 14, 15]).unwrap())
        .unwrap();
    let d = [0x5au8; 32];
    let mut signatures = 0;
    let n = allocations_in(|| {
        for i in 0..50u8 {
            let mut digests = TpmlDigestValues::default();
            digests
                .digests
                .push(TpmtHa {
                    hash: HashAlg::Sha256,
                    digest: &d,
                })
                .unwrap();
            tpm.execute(&PcrExtend {
                pcr: 14,
                auth: &[],
                digests,
            })
            .unwrap();
            let nonce = [i; 16];
            let q = tpm
                .execute(&Quote {
                    sign_handle: ak,
                    sign_auth: &[],
                    qualifying_data: &nonce,
                    pcr_select: selection.clone(),
                })
                .unwrap();
            assert_eq!(q.attest.extra_data.0, &nonce);
            signatures += usize::from(q.signature.hash().is_some());
        }
    });
    assert_eq!(signatures, 50);
    assert_eq!(n, 0, "{n} heap allocations across 50 PCR_Extend + 50 Quote");
    // The counter is live: an allocation inside the region is seen.
    assert_eq!(
        allocations_in(|| drop(std::hint::black_box(vec![1u8; 10]))),
        1
    );
    tpm.execute(&FlushContext { flush_handle: ak }).unwrap();
}
