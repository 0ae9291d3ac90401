//! Opening a data directory, writing a load's files out of sight, publishing
//! them atomically, and cleaning up after a load that died.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use sha2::{Digest, Sha256};

use crate::catalog::{Catalog, DqRow, FileRecord, LoadRecord, SqliteCatalog, ZoneCounts};
use crate::error::StoreError;
use crate::zone::Zone;

#[cfg(feature = "fault-injection")]
use crate::fault::crash_point;

/// Without the test-only `fault-injection` feature a commit step is just a
/// step: nothing reads the environment.
#[cfg(not(feature = "fault-injection"))]
fn crash_point(_step: &str) {}

/// Creates the data directory owner-only (mode 0700) if it does not exist,
/// and refuses one that group or others can read, write or enter
/// ([`StoreError::OpenToOthers`]): DESIGN.md §3 has only Haven's service
/// account read the zones, so a directory open to others is a
/// misconfiguration to fix, not to work around. One exception: an existing
/// *empty* directory that only its owner can write (a folder just made for
/// Haven with the usual umask, e.g. `mkdir` or a test's temporary folder)
/// holds nothing yet and is made 0700 here. Files inside are 0600 because
/// the `haven` process runs with umask 077 (its `main`); this check is the
/// store's own line of defence for any other caller.
pub fn private_data_dir(root: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    private_dir(root)?;
    let mode = fs::metadata(root).map_err(StoreError::io("inspect", root))?.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    // Nobody else can write into it (no group/other write bit), so an empty
    // listing stays empty until the mode is tightened.
    let empty = mode & 0o022 == 0 && fs::read_dir(root).map_err(StoreError::io("list", root))?.next().is_none();
    if !empty {
        return Err(StoreError::OpenToOthers { path: root.to_path_buf(), mode });
    }
    fs::set_permissions(root, fs::Permissions::from_mode(0o700)).map_err(StoreError::io("make owner-only", root))
}

/// `fs::create_dir_all`, with mode 0700 for every directory it creates.
fn private_dir(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().recursive(true).mode(0o700).create(path).map_err(StoreError::io("create directory", path))
}

/// The exclusive lock a writer holds on a data directory.
pub struct WriteLock {
    _file: File,
}

/// A data directory: zones, catalog and quarantine.
pub struct Store {
    root: PathBuf,
    catalog: Box<dyn Catalog>,
    lock: Option<WriteLock>,
}

impl Store {
    /// Opens a data directory for reading (creating it owner-only if
    /// needed; see [`private_data_dir`]). Loads in progress elsewhere are
    /// invisible: only catalogued files are read.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        private_data_dir(root)?;
        for dir in ["zones", "quarantine", "tmp"] {
            let path = root.join(dir);
            private_dir(&path)?;
        }
        let catalog = SqliteCatalog::open(&root.join("catalog.sqlite"))?;
        Ok(Store {
            root: root.to_path_buf(),
            catalog: Box::new(catalog),
            lock: None,
        })
    }

    /// Opens a data directory for loading: takes the write lock (failing at
    /// once if another load holds it) and removes whatever an interrupted
    /// load left behind.
    pub fn open_for_write(root: &Path) -> Result<Store, StoreError> {
        let mut store = Store::open(root)?;
        let path = root.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(StoreError::io("open lock file", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(root.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => return Err(StoreError::io("lock", &path)(e)),
        }
        store.lock = Some(WriteLock { _file: file });
        store.recover()?;
        Ok(store)
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The metadata store.
    pub fn catalog(&self) -> &dyn Catalog {
        self.catalog.as_ref()
    }

    /// The metadata store, for settings.
    pub fn catalog_mut(&mut self) -> &mut dyn Catalog {
        self.catalog.as_mut()
    }

    /// Absolute paths of the committed files of a zone's dataset.
    pub fn dataset_files(&self, zone: Zone, dataset: &str) -> Result<Vec<PathBuf>, StoreError> {
        Ok(self
            .catalog
            .files(zone, dataset)?
            .into_iter()
            .map(|f| self.root.join(f.path))
            .collect())
    }

    /// Streams the named columns of a zone's dataset, batch by batch. Columns
    /// the files lack are skipped; a dataset with no committed files yields
    /// nothing.
    pub fn scan(
        &self,
        zone: Zone,
        dataset: &str,
        columns: &[&str],
        mut each: impl FnMut(&RecordBatch) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        use parquet::arrow::ProjectionMask;
        for path in self.dataset_files(zone, dataset)? {
            let pq = |source| StoreError::Parquet { path: path.clone(), source };
            let file = File::open(&path).map_err(StoreError::io("open", &path))?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
            let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
            let reader = builder.with_projection(mask).with_batch_size(65_536).build().map_err(pq)?;
            for batch in reader {
                let batch = batch.map_err(|e| StoreError::Parquet { path: path.clone(), source: e.into() })?;
                each(&batch)?;
            }
        }
        Ok(())
    }

    /// Streams one catalogued file, batch by batch: every column, or only
    /// `columns` when given.
    pub fn read_file(
        &self,
        file: &FileRecord,
        columns: Option<&[&str]>,
        mut each: impl FnMut(&RecordBatch) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        use parquet::arrow::ProjectionMask;
        let path = self.root.join(&file.path);
        let pq = |source| StoreError::Parquet { path: path.clone(), source };
        let handle = File::open(&path).map_err(StoreError::io("open", &path))?;
        let mut builder = ParquetRecordBatchReaderBuilder::try_new(handle).map_err(pq)?;
        if let Some(columns) = columns {
            let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
            builder = builder.with_projection(mask);
        }
        for batch in builder.with_batch_size(65_536).build().map_err(pq)? {
            each(&batch.map_err(|e| StoreError::Parquet { path: path.clone(), source: e.into() })?)?;
        }
        Ok(())
    }

    /// Carries a committed file unchanged into a new load (a hard link, so
    /// no bytes are copied; Parquet files are never modified in place). The
    /// new load owns the link; the old load's folder can then go.
    pub fn carry_file(&self, txn: &mut LoadTxn, file: &FileRecord) -> Result<(), StoreError> {
        let name = Path::new(&file.path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let folder = txn.dir.join(file.zone.name()).join(&file.dataset);
        private_dir(&folder)?;
        let from = self.root.join(&file.path);
        let to = folder.join(&name);
        fs::hard_link(&from, &to).map_err(StoreError::io("link", &to))?;
        txn.add_file(FileRecord {
            load_id: txn.id.clone(),
            path: format!("zones/{}/{}/{}/{}", file.zone.name(), file.dataset, txn.id, name),
            ..file.clone()
        });
        Ok(())
    }

    /// Carries a committed load's quarantine report into a new load.
    pub fn carry_quarantine(&self, txn: &LoadTxn, old_load: &str) -> Result<(), StoreError> {
        let from = self.root.join("quarantine").join(format!("{old_load}.csv"));
        if from.exists() {
            let to = txn.quarantine_path();
            fs::hard_link(&from, &to).map_err(StoreError::io("link", &to))?;
        }
        Ok(())
    }

    /// Removes uncommitted debris: everything under `tmp/`, load folders and
    /// quarantine files the catalog does not list as committed. Returns the
    /// number of entries removed.
    pub fn recover(&self) -> Result<usize, StoreError> {
        let live = self.catalog.committed_ids()?;
        let mut removed = 0;
        for entry in read_dir(&self.root.join("tmp"))? {
            remove_any(&entry)?;
            removed += 1;
        }
        for zone in Zone::ALL {
            for dataset in read_dir(&self.root.join("zones").join(zone.name()))? {
                for load in read_dir(&dataset)? {
                    if !live.contains(&file_name(&load)) {
                        remove_any(&load)?;
                        removed += 1;
                    }
                }
            }
        }
        for q in read_dir(&self.root.join("quarantine"))? {
            let name = file_name(&q);
            let id = name.strip_suffix(".csv").unwrap_or(&name);
            if !live.contains(id) {
                remove_any(&q)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Starts a load: a private folder under `tmp/` that no reader looks at.
    pub fn begin_load(&self) -> Result<LoadTxn, StoreError> {
        if self.lock.is_none() {
            return Err(StoreError::Inconsistent(
                "a load needs a store opened with open_for_write".into(),
            ));
        }
        let id = new_load_id()?;
        let dir = self.root.join("tmp").join(&id);
        private_dir(&dir)?;
        Ok(LoadTxn {
            id,
            dir,
            files: Vec::new(),
        })
    }

    /// Publishes a load: moves its files into the zones, then records it in
    /// one catalog transaction that also supersedes `replaces`. If anything
    /// fails before the transaction commits, the zones and catalog are as
    /// they were.
    pub fn commit(
        &mut self,
        txn: LoadTxn,
        record: &LoadRecord,
        counts: &[ZoneCounts],
        dq: &[DqRow],
        replaces: &[String],
    ) -> Result<(), StoreError> {
        crash_point("before-publish");
        let moved = self.publish_files(&txn)?;
        crash_point("after-publish");
        if let Err(e) = self.catalog.commit_load(record, &txn.files, counts, dq, replaces) {
            for path in moved {
                let _ = remove_any(&path);
            }
            return Err(e);
        }
        crash_point("after-catalog");
        let _ = fs::remove_dir_all(&txn.dir);
        for old in replaces {
            self.delete_load_files(old);
        }
        Ok(())
    }

    fn publish_files(&self, txn: &LoadTxn) -> Result<Vec<PathBuf>, StoreError> {
        let mut moved = Vec::new();
        let result = (|| {
            let mut dirs: Vec<(Zone, &str)> = txn.files.iter().map(|f| (f.zone, f.dataset.as_str())).collect();
            dirs.dedup();
            for (zone, dataset) in dirs {
                let from = txn.dir.join(zone.name()).join(dataset);
                let parent = self.root.join("zones").join(zone.name()).join(dataset);
                private_dir(&parent)?;
                let to = parent.join(&txn.id);
                fs::rename(&from, &to).map_err(StoreError::io("publish", &to))?;
                moved.push(to);
                sync_dir(&parent);
            }
            let quarantine = txn.quarantine_path();
            if quarantine.exists() {
                let to = self.root.join("quarantine").join(format!("{}.csv", txn.id));
                fs::rename(&quarantine, &to).map_err(StoreError::io("publish", &to))?;
                moved.push(to);
                sync_dir(&self.root.join("quarantine"));
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok(moved),
            Err(e) => {
                for path in moved {
                    let _ = remove_any(&path);
                }
                Err(e)
            }
        }
    }

    /// Best effort: a superseded load's files are no longer catalogued, so a
    /// failure here only leaves debris for [`Store::recover`].
    fn delete_load_files(&self, load_id: &str) {
        for zone in Zone::ALL {
            if let Ok(datasets) = read_dir(&self.root.join("zones").join(zone.name())) {
                for d in datasets {
                    let _ = remove_any(&d.join(load_id));
                }
            }
        }
        let _ = fs::remove_file(self.root.join("quarantine").join(format!("{load_id}.csv")));
    }
}

/// A load being written: files go to its private folder until
/// [`Store::commit`].
pub struct LoadTxn {
    id: String,
    dir: PathBuf,
    files: Vec<FileRecord>,
}

impl LoadTxn {
    /// The load id (also its folder name in every zone).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Where the quarantine CSV of this load is written.
    pub fn quarantine_path(&self) -> PathBuf {
        self.dir.join("quarantine.csv")
    }

    /// A new Parquet part file for `zone`/`dataset`.
    pub fn part_writer(
        &self,
        zone: Zone,
        dataset: &str,
        schema: SchemaRef,
        part: usize,
    ) -> Result<PartWriter, StoreError> {
        let folder = self.dir.join(zone.name()).join(dataset);
        private_dir(&folder)?;
        let name = format!("part-{part:05}.parquet");
        let path = folder.join(&name);
        let file = File::create(&path).map_err(StoreError::io("create", &path))?;
        let sink = HashingWriter {
            inner: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
            bytes: 0,
        };
        let mut props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            // Row-group statistics only: the data is not sorted, so page
            // statistics would prune nothing but cost a comparison per value.
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_max_row_group_row_count(Some(256 * 1024));
        // Keys and tokens are (nearly) unique per row: a dictionary only costs
        // time before the writer falls back to plain encoding, and min/max
        // statistics of random tokens prune nothing but cost a string
        // comparison per value. Record keys are random, so compressing them
        // saves almost nothing; a person's token repeats over their records.
        for field in schema.fields() {
            if is_unique_column(field.name()) {
                let col = ColumnPath::from(field.name().as_str());
                props = props.set_column_dictionary_enabled(col.clone(), false).set_column_statistics_enabled(col.clone(), EnabledStatistics::None);
                if is_record_key(field.name()) {
                    props = props.set_column_compression(col, Compression::UNCOMPRESSED);
                }
            }
        }
        let props = props.build();
        let writer = ArrowWriter::try_new(sink, schema, Some(props))
            .map_err(|source| StoreError::Parquet { path: path.clone(), source })?;
        Ok(PartWriter {
            writer: Some(writer),
            path,
            record: FileRecord {
                load_id: self.id.clone(),
                zone,
                dataset: dataset.to_owned(),
                path: format!("zones/{}/{}/{}/{}", zone.name(), dataset, self.id, name),
                rows: 0,
                bytes: 0,
                sha256: String::new(),
            },
        })
    }

    /// Records a finished part file as belonging to this load.
    pub fn add_file(&mut self, record: FileRecord) {
        self.files.push(record);
        self.files.sort_by(|a, b| (a.zone, &a.dataset, &a.path).cmp(&(b.zone, &b.dataset, &b.path)));
    }

    /// The files recorded so far.
    pub fn files(&self) -> &[FileRecord] {
        &self.files
    }
}

impl Drop for LoadTxn {
    /// An abandoned load removes its private folder; if the process dies
    /// instead, [`Store::recover`] does.
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Columns whose values are (nearly) unique per row: record keys, person and
/// spell tokens.
fn is_unique_column(name: &str) -> bool {
    matches!(
        name,
        "EPIKEY" | "ATTENDKEY" | "AEKEY" | "EC_IDENT" | "SUSRECID" | "SUSSPELLID" | "TOKEN_PERSON_ID" | "PROVSPNOPS"
            | "PROVSPNO" | "SPELL_KEY" | "INVOICE_ID"
            // The derived spells' key and their joined clinical codes.
            | "spell" | "diag_all" | "proc_all"
    )
}

/// Keys of one record each (not people), as [`is_unique_column`] names them.
fn is_record_key(name: &str) -> bool {
    is_unique_column(name) && !matches!(name, "TOKEN_PERSON_ID" | "diag_all" | "proc_all")
}

/// Writes one Parquet part file, hashing the bytes as they go.
pub struct PartWriter {
    writer: Option<ArrowWriter<HashingWriter<BufWriter<File>>>>,
    path: PathBuf,
    record: FileRecord,
}

impl PartWriter {
    /// Appends a batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), StoreError> {
        let writer = self.writer.as_mut().expect("write after finish");
        writer
            .write(batch)
            .map_err(|source| StoreError::Parquet { path: self.path.clone(), source })?;
        self.record.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Closes the file, syncs it to disk and returns its catalog record.
    pub fn finish(mut self) -> Result<FileRecord, StoreError> {
        let writer = self.writer.take().expect("finish twice");
        let mut sink = writer
            .into_inner()
            .map_err(|source| StoreError::Parquet { path: self.path.clone(), source })?;
        sink.flush().map_err(StoreError::io("write", &self.path))?;
        let file = sink
            .inner
            .into_inner()
            .map_err(|e| StoreError::io("write", &self.path)(e.into_error()))?;
        file.sync_all().map_err(StoreError::io("sync", &self.path))?;
        self.record.bytes = sink.bytes;
        self.record.sha256 = hex(&sink.hasher.finalize());
        Ok(self.record)
    }
}

struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Lower-case hex of bytes (hashes, keys, ids).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn new_load_id() -> Result<String, StoreError> {
    let mut random = [0u8; 4];
    getrandom::fill(&mut random)
        .map_err(|e| StoreError::Inconsistent(format!("no randomness for a load id: {e}")))?;
    let stamp: String = crate::timestamp_now().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    Ok(format!("L{stamp}-{}", hex(&random)))
}

fn read_dir(path: &Path) -> Result<Vec<PathBuf>, StoreError> {
    match fs::read_dir(path) {
        Ok(entries) => entries
            .map(|e| e.map(|e| e.path()).map_err(StoreError::io("list", path)))
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(StoreError::io("list", path)(e)),
    }
}

fn remove_any(path: &Path) -> Result<(), StoreError> {
    let result = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    match result {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(StoreError::io("remove", path)(e)),
        _ => Ok(()),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Makes a rename durable; failure only weakens durability on power loss.
fn sync_dir(path: &Path) {
    if let Ok(dir) = File::open(path) {
        let _ = dir.sync_all();
    }
}
