//! The checked cases of a run, kept as compact JSON in a temporary file while it goes: a sample
//! reads its case back with one positional read and a JSON parse, a fraction of reading and
//! parsing its YAML file again, and memory holds only where each case is, not the cases.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::dataset::Case;

/// Where one case is in the spill file.
#[derive(Debug, Clone, Copy)]
pub struct Spilled {
    at: u64,
    len: u32,
}

pub struct Spill {
    file: File,
    /// The end of what was written: the next case goes there.
    end: Mutex<u64>,
    /// Removed when the spill is dropped, where an open file cannot be unlinked at once.
    #[cfg(not(unix))]
    path: PathBuf,
}

impl Spill {
    /// A new, empty spill file in the system's temporary folder.
    pub fn create() -> io::Result<Spill> {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("evals-run-{}-{seq}-{:x}.cases", std::process::id(), fastrand::u64(..));
        let path: PathBuf = std::env::temp_dir().join(name);
        let file = File::options().read(true).write(true).create_new(true).open(&path)?;
        // Unlinked now, so that nothing is left behind however the process ends.
        #[cfg(unix)]
        std::fs::remove_file(&path)?;
        Ok(Spill {
            file,
            end: Mutex::new(0),
            #[cfg(not(unix))]
            path,
        })
    }

    /// Append `cases`, the compact JSON of cases one after another, and return where they
    /// start. Callers write a batch at a time, so the file is written in large pieces.
    pub fn append(&self, cases: &[u8]) -> io::Result<u64> {
        let mut end = self.end.lock().expect("spill lock");
        write_at(&self.file, cases, *end)?;
        let at = *end;
        *end += cases.len() as u64;
        Ok(at)
    }

    /// The case at `s`.
    pub fn read(&self, s: Spilled) -> io::Result<Case> {
        let mut bytes = vec![0; s.len as usize];
        read_at(&self.file, &mut bytes, s.at)?;
        serde_json::from_slice(&bytes).map_err(io::Error::from)
    }
}

#[cfg(not(unix))]
impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Cases serialized into one buffer before they are appended: each [`Spilled`] is relative to
/// the buffer until [`Batch::flush`] moves it to where the buffer landed in the file.
#[derive(Default)]
pub struct Batch {
    bytes: Vec<u8>,
}

/// A batch is appended once it holds this many bytes.
pub const BATCH_BYTES: usize = 64 * 1024;

impl Batch {
    /// Add a case; its place is relative to this batch.
    pub fn push(&mut self, case: &Case) -> Spilled {
        let at = self.bytes.len();
        serde_json::to_writer(&mut self.bytes, case).expect("a case always serializes");
        let len = u32::try_from(self.bytes.len() - at).expect("a case under 4 GB");
        Spilled { at: at as u64, len }
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Append the batch to the spill; returns the offset to add to each of its places.
    pub fn flush(&mut self, spill: &Spill) -> io::Result<u64> {
        let base = spill.append(&self.bytes)?;
        self.bytes.clear();
        Ok(base)
    }
}

impl Spilled {
    /// This place moved by `base`: a batch's place once the batch is in the file.
    pub fn moved(self, base: u64) -> Spilled {
        Spilled { at: self.at + base, ..self }
    }
}

#[cfg(unix)]
fn write_at(file: &File, buf: &[u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, at)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(windows)]
fn write_at(file: &File, mut buf: &[u8], mut at: u64) -> io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(file, buf, at)?;
        buf = &buf[n..];
        at += n as u64;
    }
    Ok(())
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut at: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, at)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut std::mem::take(&mut buf)[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str) -> Case {
        let src = crate::yaml::Source::new(
            "c.yaml",
            format!(
                "id: {id}\nsource: {{trace_id: t}}\ninput:\n  items: [{{role: user, content: 'ask {id}'}}]\n\
                 recorded: {{output: {{text: 'ASK'}}}}\nprivacy: {{status: clean}}\ncontent_hash: h\n"
            ),
        );
        Case::parse(&src).unwrap()
    }

    #[test]
    fn cases_read_back_as_they_were_written_from_any_batch() {
        let spill = Spill::create().unwrap();
        let (mut first, mut second) = (Batch::default(), Batch::default());
        let a = first.push(&case("a"));
        let b = second.push(&case("b"));
        let c = first.push(&case("c"));
        let base = second.flush(&spill).unwrap();
        let b = b.moved(base);
        let base = first.flush(&spill).unwrap();
        let (a, c) = (a.moved(base), c.moved(base));
        assert_eq!(first.len(), 0);
        for (place, id) in [(c, "c"), (a, "a"), (b, "b")] {
            let back = spill.read(place).unwrap();
            assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(case(id)).unwrap());
        }
    }
}
