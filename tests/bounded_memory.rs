//! The std layers allocate a bounded amount whatever the input size: a 1 GiB proof file is
//! refused from its size alone, and the CLI says so, without reading it into memory.

use baretpm::proof::file::Proof;
use baretpm::proof::JsonFile;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: defers to the system allocator; the const thread-locals never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.with(Cell::get) {
            BYTES.with(|b| b.set(b.get() + layout.size()));
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f`, returning its result and the bytes it allocated (in total, on this thread).
fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    BYTES.with(|b| b.set(0));
    ON.with(|o| o.set(true));
    let result = f();
    ON.with(|o| o.set(false));
    (result, BYTES.with(Cell::get))
}

#[test]
fn a_one_gib_proof_file_is_refused_with_a_few_bytes_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.json");
    // Sparse: 1 GiB long, no disk used.
    std::fs::File::create(&path)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();

    let (result, allocated) = allocated_by(|| Proof::read(&path));

    let err = result.unwrap_err().to_string();
    assert!(err.contains("more than"), "{err}");
    assert!(
        allocated < 64 * 1024,
        "{allocated} bytes allocated to refuse a 1 GiB file"
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_baretpm"))
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("more than"), "{stderr}");
}

/// Issue 8, item 18: list limits apply while parsing. A 16 MiB proof whose `command.argv` holds
/// millions of empty strings once cost ~150 MB (a `Vec<String>` of 24-byte entries, grown by
/// doubling) before the argument count was checked.
#[test]
fn millions_of_empty_arguments_are_refused_while_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("argv.json");
    let head = "{\"command\": {\"argv\": [";
    let budget = baretpm::proof::file::MAX_PROOF_FILE as usize - head.len() - 16;
    let mut text = String::with_capacity(budget + 64);
    text.push_str(head);
    while text.len() + 3 < budget {
        text.push_str("\"\",");
    }
    text.push_str("\"\"]}}");
    std::fs::write(&path, &text).unwrap();
    let size = text.len();
    drop(text);

    let (result, allocated) = allocated_by(|| Proof::read(&path));

    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("command.argv: more than the 4096 arguments allowed"),
        "{err}"
    );
    // The file itself (read whole, at most 16 MiB) plus small change.
    assert!(
        allocated < size + (1 << 20),
        "{allocated} bytes allocated to refuse a {size}-byte proof"
    );
}
