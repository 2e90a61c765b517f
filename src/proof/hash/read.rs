//! Reading and hashing one file: straight through one buffer, or, for a large file while a
//! core would otherwise sit idle, pipelined (a helper thread reads ahead into three buffers).

use super::plan::Job;
use super::*;

pub(super) fn hash_job(
    job: &Job,
    buf: &mut [u8],
    pipeline: bool,
    bytes: &AtomicU64,
    tick: &mut dyn FnMut(),
) -> Result<FileDigest, HashError> {
    let path = &job.path;
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if !job.follow {
        flags |= libc::O_NOFOLLOW;
    }
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) && !job.follow {
                HashError::Changed {
                    path: path.display().to_string(),
                    expected: job.expected,
                    read: 0,
                }
            } else {
                io_error(path)(e)
            }
        })?;
    let meta = f.metadata().map_err(io_error(path))?;
    if !meta.is_file() {
        return Err(special(path, meta.file_type()));
    }
    let expected = meta.len();
    let (size, sha256) = if pipeline && expected >= PIPELINE_MIN_SIZE {
        hash_pipelined(f, buf.len(), bytes, tick)
    } else {
        hash_reader(&mut f, buf, bytes, tick)
    }
    .map_err(io_error(path))?;
    if size != expected {
        return Err(HashError::Changed {
            path: path.display().to_string(),
            expected,
            read: size,
        });
    }
    Ok(FileDigest { size, sha256 })
}

/// Reads `r` to its end through `buf`, hashing as it goes.
fn hash_reader(
    r: &mut impl Read,
    buf: &mut [u8],
    bytes: &AtomicU64,
    tick: &mut dyn FnMut(),
) -> io::Result<(u64, [u8; 32])> {
    let mut h = Sha256::new();
    let mut total = 0u64;
    loop {
        match r.read(buf) {
            Ok(0) => break,
            Ok(n) => {
                h.update(&buf[..n]);
                total += n as u64;
                bytes.fetch_add(n as u64, Ordering::Relaxed);
                if n == buf.len() {
                    tick();
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((total, h.finalize().into()))
}

/// Fills `buf` as far as the file allows; returns the bytes read (0 at end of file).
fn read_full(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Hashes a file while a helper thread reads ahead: three buffers circulate between the two
/// threads, so memory stays at three buffers whatever the file size.
fn hash_pipelined(
    mut f: File,
    buffer_size: usize,
    bytes: &AtomicU64,
    tick: &mut dyn FnMut(),
) -> io::Result<(u64, [u8; 32])> {
    const BUFFERS: usize = 3;
    let (full_tx, full_rx) = mpsc::sync_channel::<(Vec<u8>, usize)>(BUFFERS);
    let (empty_tx, empty_rx) = mpsc::sync_channel::<Vec<u8>>(BUFFERS);
    for _ in 0..BUFFERS {
        // The channel holds BUFFERS items and the receiver is alive: this cannot fail.
        let _ = empty_tx.send(vec![0u8; buffer_size]);
    }
    thread::scope(|s| {
        let reader = s.spawn(move || -> io::Result<()> {
            while let Ok(mut b) = empty_rx.recv() {
                let n = read_full(&mut f, &mut b)?;
                if full_tx.send((b, n)).is_err() || n == 0 {
                    break;
                }
            }
            Ok(())
        });
        let mut h = Sha256::new();
        let mut total = 0u64;
        while let Ok((b, n)) = full_rx.recv() {
            if n == 0 {
                break;
            }
            h.update(&b[..n]);
            total += n as u64;
            bytes.fetch_add(n as u64, Ordering::Relaxed);
            let _ = empty_tx.send(b);
            tick();
        }
        drop(empty_tx);
        drop(full_rx);
        match reader.join() {
            Ok(Ok(())) => Ok((total, h.finalize().into())),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::other("reader thread panicked")),
        }
    })
}
