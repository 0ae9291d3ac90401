//! Reading a source file: format detection, the header, and a stream of
//! chunks of raw rows with their line numbers.
//!
//! Pipe-delimited files (the SUS+/HES extract format, no quoting) are cut at
//! line ends by the reader and split into fields by the workers, in parallel.
//! CSV (quoted) and Parquet are read sequentially by the reader into already
//! split chunks. Either way a worker sees a [`RawChunk`].

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::SyncSender;
use std::time::SystemTime;

use arrow::array::{Array, StringArray};
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use crate::error::IngestError;
pub use haven_store::hex;

/// How a source file is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Delimited text; `|` files are never quoted, `,` and tab files may be.
    Delimited(u8),
    /// Apache Parquet.
    Parquet,
}

/// A source file opened for reading: its format and header.
#[derive(Debug)]
pub struct Source {
    pub path: PathBuf,
    pub format: Format,
    /// Column names as they appear in the file.
    pub header: Vec<String>,
    /// Size and modification time when opened, to notice a file that changes
    /// underneath the load.
    len: u64,
    modified: Option<SystemTime>,
}

/// Rows of one chunk, split into fields.
#[derive(Debug, Default)]
pub struct RawChunk {
    /// Position of the chunk in the file (0-based), so results keep file order.
    pub index: usize,
    pub data: Vec<u8>,
    /// Field byte ranges into `data`.
    pub spans: Vec<(u32, u32)>,
    /// Per row: line number (1 = header), first span, number of fields.
    pub rows: Vec<(u64, u32, u32)>,
}

impl RawChunk {
    /// The fields of row `i`.
    pub fn fields(&self, i: usize) -> impl Iterator<Item = &[u8]> + '_ {
        let (_, first, n) = self.rows[i];
        self.spans[first as usize..(first + n) as usize]
            .iter()
            .map(|&(a, b)| &self.data[a as usize..b as usize])
    }
}

/// What the reader thread hands to the workers.
pub enum Chunk {
    /// Pipe-delimited lines starting at `first_line`, not yet split.
    Lines { index: usize, first_line: u64, data: Vec<u8> },
    /// Already split.
    Split(RawChunk),
}

impl Source {
    /// Opens a file and reads its header.
    pub fn open(path: &Path) -> Result<Source, IngestError> {
        let read_err = |source| IngestError::Read { path: path.to_owned(), source };
        let meta = std::fs::metadata(path).map_err(read_err)?;
        if meta.is_dir() {
            return Err(file_error(path, "is a directory, not a file"));
        }
        if meta.len() == 0 {
            return Err(file_error(path, "the file is empty: expected a header line naming the columns"));
        }
        let mut file = File::open(path).map_err(read_err)?;
        let mut magic = [0u8; 4];
        let n = file.read(&mut magic).map_err(read_err)?;
        let (format, header) = if n == 4 && &magic == b"PAR1" {
            (Format::Parquet, parquet_header(path)?)
        } else {
            text_header(path)?
        };
        Ok(Source {
            path: path.to_owned(),
            format,
            header,
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }

    /// Whether the file is still the one that was opened.
    pub fn check_unchanged(&self, bytes_read: Option<u64>) -> Result<(), IngestError> {
        let changed = || IngestError::SourceChanged { path: self.path.clone() };
        let meta = std::fs::metadata(&self.path).map_err(|_| changed())?;
        if meta.len() != self.len || meta.modified().ok() != self.modified {
            return Err(changed());
        }
        if bytes_read.is_some_and(|n| n != self.len) {
            return Err(changed());
        }
        Ok(())
    }

    /// Streams chunks of about `chunk_bytes` to `tx`, returning the SHA-256
    /// of the whole file and the bytes read. Stops early if the receiver
    /// hangs up.
    pub fn stream(&self, chunk_bytes: usize, tx: SyncSender<Result<Chunk, IngestError>>) -> Result<(String, u64), IngestError> {
        match self.format {
            Format::Delimited(b'|') => self.stream_lines(chunk_bytes, &tx),
            Format::Delimited(delim) => self.stream_csv(delim, chunk_bytes, &tx),
            Format::Parquet => self.stream_parquet(chunk_bytes, &tx),
        }
    }

    fn read_err(&self) -> impl Fn(std::io::Error) -> IngestError + '_ {
        move |source| IngestError::Read { path: self.path.clone(), source }
    }

    fn stream_lines(
        &self,
        chunk_bytes: usize,
        tx: &SyncSender<Result<Chunk, IngestError>>,
    ) -> Result<(String, u64), IngestError> {
        let mut file = File::open(&self.path).map_err(self.read_err())?;
        let mut hasher = Sha256::new();
        let mut total = 0u64;
        let mut carry: Vec<u8> = Vec::new();
        let mut header_done = false;
        let mut line = 1u64; // line number of the first line in `carry`
        let mut index = 0usize;
        loop {
            let mut buf = std::mem::take(&mut carry);
            let start = buf.len();
            buf.resize(start + chunk_bytes, 0);
            let n = read_full(&mut file, &mut buf[start..]).map_err(self.read_err())?;
            buf.truncate(start + n);
            hasher.update(&buf[start..]);
            total += n as u64;
            let eof = n == 0;
            let cut = if eof {
                buf.len()
            } else {
                match memchr::memrchr(b'\n', &buf) {
                    Some(p) => p + 1,
                    None => {
                        carry = buf; // a line longer than a chunk: read more
                        continue;
                    }
                }
            };
            carry = buf.split_off(cut);
            if !header_done {
                let end = memchr::memchr(b'\n', &buf).map_or(buf.len(), |p| p + 1);
                buf.drain(..end);
                line += 1;
                header_done = true;
            }
            if !buf.is_empty() {
                let lines_here = memchr::memchr_iter(b'\n', &buf).count() as u64;
                let ends_open = buf.last() != Some(&b'\n');
                let chunk = Chunk::Lines { index, first_line: line, data: buf };
                if tx.send(Ok(chunk)).is_err() {
                    return Ok((String::new(), total));
                }
                index += 1;
                line += lines_here + u64::from(ends_open);
            }
            if eof {
                break;
            }
        }
        Ok((hex(&hasher.finalize()), total))
    }

    fn stream_csv(
        &self,
        delim: u8,
        chunk_bytes: usize,
        tx: &SyncSender<Result<Chunk, IngestError>>,
    ) -> Result<(String, u64), IngestError> {
        let file = File::open(&self.path).map_err(self.read_err())?;
        let hashing = HashingReader { inner: BufReader::new(file), hasher: Sha256::new(), total: 0 };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delim)
            .has_headers(true)
            .flexible(true)
            .from_reader(hashing);
        let mut record = csv::ByteRecord::new();
        let mut chunk = RawChunk::default();
        let mut index = 0;
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    return Err(IngestError::Line { path: self.path.clone(), line, reason: csv_reason(&e) });
                }
            }
            let line = record.position().map_or(0, |p| p.line());
            if record.len() == 1 && record[0].is_empty() {
                continue; // blank line
            }
            let first = chunk.spans.len() as u32;
            for field in record.iter() {
                let a = chunk.data.len() as u32;
                chunk.data.extend_from_slice(field);
                chunk.spans.push((a, chunk.data.len() as u32));
            }
            chunk.rows.push((line, first, record.len() as u32));
            if chunk.data.len() >= chunk_bytes {
                let full = std::mem::take(&mut chunk);
                if tx.send(Ok(Chunk::Split(RawChunk { index, ..full }))).is_err() {
                    return Ok((String::new(), 0));
                }
                index += 1;
            }
        }
        if !chunk.rows.is_empty() {
            let _ = tx.send(Ok(Chunk::Split(RawChunk { index, ..chunk })));
        }
        let hashing = reader.into_inner();
        Ok((hex(&hashing.hasher.finalize()), hashing.total))
    }

    fn stream_parquet(
        &self,
        chunk_rows: usize,
        tx: &SyncSender<Result<Chunk, IngestError>>,
    ) -> Result<(String, u64), IngestError> {
        let (sha, total) = hash_file(&self.path)?;
        let pq_err = |source| IngestError::Parquet { path: self.path.clone(), source };
        let file = File::open(&self.path).map_err(self.read_err())?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(pq_err)?
            .with_batch_size((chunk_rows / 512).clamp(1024, 65536))
            .build()
            .map_err(pq_err)?;
        let mut row_no = 1u64;
        for (index, batch) in reader.enumerate() {
            let batch = batch.map_err(|e| IngestError::File { path: self.path.clone(), reason: e.to_string() })?;
            let columns: Vec<StringArray> = batch
                .columns()
                .iter()
                .map(|c| {
                    arrow::compute::cast(c, &DataType::Utf8)
                        .map(|a| a.as_any().downcast_ref::<StringArray>().cloned().expect("cast to Utf8"))
                })
                .collect::<Result<_, _>>()?;
            let mut chunk = RawChunk { index, ..RawChunk::default() };
            for r in 0..batch.num_rows() {
                row_no += 1;
                let first = chunk.spans.len() as u32;
                for col in &columns {
                    let a = chunk.data.len() as u32;
                    if col.is_valid(r) {
                        chunk.data.extend_from_slice(col.value(r).as_bytes());
                    }
                    chunk.spans.push((a, chunk.data.len() as u32));
                }
                chunk.rows.push((row_no, first, columns.len() as u32));
            }
            if tx.send(Ok(Chunk::Split(chunk))).is_err() {
                break;
            }
        }
        Ok((sha, total))
    }
}

/// Splits pipe-delimited lines into a [`RawChunk`]. Blank lines are skipped;
/// a trailing `\r` is dropped.
pub fn split_lines(index: usize, first_line: u64, data: Vec<u8>) -> RawChunk {
    // Sized for fields of about five bytes (HES APC averages six), so the
    // span list seldom regrows: regrowth was 6% of a national load's CPU.
    let spans = Vec::with_capacity(data.len() / 5 + 16);
    let mut chunk = RawChunk { index, data, spans, ..RawChunk::default() };
    let mut line = first_line;
    let mut pos = 0usize;
    let len = chunk.data.len();
    while pos < len {
        let end = memchr::memchr(b'\n', &chunk.data[pos..]).map_or(len, |p| pos + p);
        let mut stop = end;
        if stop > pos && chunk.data[stop - 1] == b'\r' {
            stop -= 1;
        }
        if stop > pos {
            let first = chunk.spans.len() as u32;
            let mut a = pos;
            for sep in memchr::memchr_iter(b'|', &chunk.data[pos..stop]) {
                chunk.spans.push((a as u32, (pos + sep) as u32));
                a = pos + sep + 1;
            }
            chunk.spans.push((a as u32, stop as u32));
            let n = chunk.spans.len() as u32 - first;
            chunk.rows.push((line, first, n));
        }
        line += 1;
        pos = end + 1;
    }
    chunk
}

fn text_header(path: &Path) -> Result<(Format, Vec<String>), IngestError> {
    let file = File::open(path).map_err(|source| IngestError::Read { path: path.to_owned(), source })?;
    let mut first = Vec::new();
    let mut reader = BufReader::new(file).take(1 << 20);
    let mut byte = [0u8; 1];
    while reader.read(&mut byte).map_err(|source| IngestError::Read { path: path.to_owned(), source })? == 1 {
        if byte[0] == b'\n' {
            break;
        }
        first.push(byte[0]);
    }
    if first.last() == Some(&b'\r') {
        first.pop();
    }
    let text = String::from_utf8(first).map_err(|_| file_error(path, "line 1 (the header) is not valid UTF-8 text"))?;
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(file_error(path, "line 1 is blank: expected a header line naming the columns"));
    }
    let count = |c: char| text.matches(c).count();
    let (delim, n) = [('|', count('|')), (',', count(',')), ('\t', count('\t'))]
        .into_iter()
        .max_by_key(|&(_, n)| n)
        .expect("three candidates");
    if n == 0 {
        return Err(file_error(
            path,
            "line 1 has no '|', ',' or tab between column names: wrong delimiter, or not a delimited extract",
        ));
    }
    let header = text
        .split(delim)
        .map(|h| h.trim().trim_matches('"').trim().to_owned())
        .collect();
    Ok((Format::Delimited(delim as u8), header))
}

fn parquet_header(path: &Path) -> Result<Vec<String>, IngestError> {
    let file = File::open(path).map_err(|source| IngestError::Read { path: path.to_owned(), source })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|source| IngestError::Parquet { path: path.to_owned(), source })?;
    Ok(builder.schema().fields().iter().map(|f| f.name().clone()).collect())
}

fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// SHA-256 and length of a whole file.
pub fn hash_file(path: &Path) -> Result<(String, u64), IngestError> {
    let mut file = File::open(path).map_err(|source| IngestError::Read { path: path.to_owned(), source })?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0;
    loop {
        let n = read_full(&mut file, &mut buf).map_err(|source| IngestError::Read { path: path.to_owned(), source })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex(&hasher.finalize()), total))
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    total: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.total += n as u64;
        Ok(n)
    }
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => format!("read failed: {io}"),
        _ => "malformed CSV (unbalanced quotes?)".to_owned(),
    }
}

fn file_error(path: &Path, reason: &str) -> IngestError {
    IngestError::File { path: path.to_owned(), reason: reason.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_lines_numbers_rows_skips_blanks_and_keeps_empty_fields() {
        let chunk = split_lines(0, 2, b"a|b|c\r\n\nd||f\ng|h".to_vec());
        let rows: Vec<(u64, Vec<&[u8]>)> = (0..chunk.rows.len())
            .map(|i| (chunk.rows[i].0, chunk.fields(i).collect()))
            .collect();
        assert_eq!(rows[0], (2, vec![&b"a"[..], b"b", b"c"]));
        assert_eq!(rows[1], (4, vec![&b"d"[..], b"", b"f"]));
        assert_eq!(rows[2], (5, vec![&b"g"[..], b"h"]));
        assert_eq!(rows.len(), 3);
    }
}
