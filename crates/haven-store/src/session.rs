//! Zone-scoped DataFusion sessions: a session registers only the zones its
//! grant names, so a query cannot reach another zone's tables.
//!
//! Tables are named `<zone>.<dataset>` (e.g. `pseudonymised.apc_episode`)
//! and cover exactly the committed files the catalog lists. A session can
//! only be opened with a [`ReadGrant`]; the governance layer is the one
//! implementor (xtask's tidy check refuses any other), so a read that has not
//! passed policy does not compile. A grant bound to a GP practice sees, in
//! every person-level table, only the patients currently registered with it;
//! a table that cannot be filtered that way is not registered at all. The
//! grant also says which datasets to open ([`ReadGrant::admits`], given the
//! agreements their loads ran under); the rest are not registered.
//!
//! The session runs queries only ([`ZoneSession::sql`] refuses DDL, DML,
//! `COPY` and statements such as `SET`), and the raw DataFusion context is
//! never handed out: `CREATE EXTERNAL TABLE` or `COPY ... TO` would reach
//! files outside the zone scope and the GP filter.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::{SessionConfig, SessionContext};
use haven_model::Date;

use crate::error::StoreError;
use crate::load::Store;
use crate::zone::Zone;

/// Permission to read: which zones, and for a GP which practice's patients.
pub trait ReadGrant {
    /// The zones the holder may read.
    fn zones(&self) -> &[Zone];
    /// The practice whose registered patients alone are visible, for a GP.
    fn practice(&self) -> Option<&str>;
    /// The day the grant is for: a GP sees the patients registered with the
    /// practice on this day.
    fn date(&self) -> Date;
    /// Whether a session may open `zone.dataset`, whose committed loads ran
    /// under `agreements` (one entry per load; `None` for a load under no
    /// agreement). The governance layer decides: the agreement must be the
    /// grant's and cover the dataset for the grant's purpose.
    fn admits(&self, zone: Zone, dataset: &str, agreements: &[Option<String>]) -> bool;
}

/// The zones a session may read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneScope {
    zones: Vec<Zone>,
}

impl ZoneScope {
    /// A scope over these zones.
    fn new(zones: &[Zone]) -> ZoneScope {
        let mut zones = zones.to_vec();
        zones.sort();
        zones.dedup();
        ZoneScope { zones }
    }

    /// The zones in scope.
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    fn check(&self, zone: Zone) -> Result<(), StoreError> {
        if self.zones.contains(&zone) {
            Ok(())
        } else {
            Err(StoreError::ZoneNotInScope {
                zone: zone.name().into(),
                allowed: self.zones.iter().map(|z| z.name()).collect::<Vec<_>>().join(", "),
            })
        }
    }
}

/// A DataFusion session over the committed datasets of some zones.
pub struct ZoneSession {
    ctx: SessionContext,
    scope: ZoneScope,
    runtime: tokio::runtime::Runtime,
}

impl ZoneSession {
    /// Registers every committed dataset of the grant's zones, filtered to a
    /// GP's own patients when the grant names a practice.
    pub fn open(store: &Store, grant: &dyn ReadGrant) -> Result<ZoneSession, StoreError> {
        let scope = ZoneScope::new(grant.zones());
        let practice = grant.practice().map(|p| (p.to_owned(), grant.date()));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(StoreError::io("start query runtime", store.root()))?;
        let config = SessionConfig::new().with_information_schema(true);
        let ctx = SessionContext::new_with_config(config);
        let catalog = ctx
            .catalog("datafusion")
            .ok_or_else(|| StoreError::Inconsistent("no default catalog".into()))?;
        for &zone in scope.zones() {
            let schema = Arc::new(MemorySchemaProvider::new());
            catalog.register_schema(zone.name(), schema.clone())?;
            for dataset in store.catalog().datasets(zone)? {
                // A stale derivation would answer for data no longer there.
                if !store.is_current(zone, &dataset)? {
                    continue;
                }
                // Data loaded under another agreement, or not linkable for
                // the grant's purpose, is not opened.
                let agreements: Vec<Option<String>> =
                    store.dataset_loads(zone, &dataset)?.into_iter().map(|l| l.dsa).collect();
                if !grant.admits(zone, &dataset, &agreements) {
                    continue;
                }
                let paths = store.dataset_files(zone, &dataset)?;
                let table: Arc<dyn TableProvider> = Arc::new(runtime.block_on(listing_table(&ctx, &paths))?);
                let table = match &practice {
                    Some((p, on)) => match runtime.block_on(own_patients(store, &ctx, zone, table, p, *on))? {
                        Some(own) => own,
                        // Fail closed: a GP never sees a table the filter cannot reach.
                        None => continue,
                    },
                    None => table,
                };
                schema.register_table(dataset, table)?;
            }
        }
        Ok(ZoneSession { ctx, scope, runtime })
    }

    /// The zones this session can read.
    pub fn scope(&self) -> &ZoneScope {
        &self.scope
    }

    /// Makes a scalar function callable from this session's queries (the
    /// analytics crate's clinical-code classifiers). A function computes
    /// values from its arguments; it cannot register tables or read files, so
    /// this is all of the context a caller gets.
    pub fn register_udf(&self, udf: ScalarUDF) {
        self.ctx.register_udf(udf);
    }

    /// Runs a query to completion. Only queries: DDL (`CREATE EXTERNAL
    /// TABLE`, `CREATE VIEW`, `DROP TABLE`), DML (`INSERT`), `COPY ... TO`
    /// and statements (`SET`, transactions) are refused with
    /// [`StoreError::NotAQuery`] before anything runs, since each could reach
    /// files or tables outside the zone scope and the GP filter.
    pub fn sql(&self, query: &str) -> Result<Vec<RecordBatch>, StoreError> {
        self.runtime.block_on(async {
            let plan = self.ctx.state().create_logical_plan(query).await?;
            let queries_only = SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false);
            queries_only.verify_plan(&plan).map_err(|e| StoreError::NotAQuery(e.strip_backtrace()))?;
            let df = self.ctx.execute_logical_plan(plan).await?;
            Ok(df.collect().await?)
        })
    }

    /// Runs a query like [`ZoneSession::sql`] but hands each batch to `each`
    /// as it is made, so a caller folding a large table into its own
    /// structures never holds the whole result as Arrow batches too.
    /// Stops at the first error `each` returns.
    pub fn sql_each<E: From<StoreError>>(&self, query: &str, mut each: impl FnMut(RecordBatch) -> Result<(), E>) -> Result<(), E> {
        use futures::StreamExt;
        self.runtime.block_on(async {
            let plan = self.ctx.state().create_logical_plan(query).await.map_err(StoreError::from)?;
            let queries_only = SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false);
            queries_only.verify_plan(&plan).map_err(|e| StoreError::NotAQuery(e.strip_backtrace()))?;
            let df = self.ctx.execute_logical_plan(plan).await.map_err(StoreError::from)?;
            let mut stream = df.execute_stream().await.map_err(StoreError::from)?;
            while let Some(batch) = stream.next().await {
                each(batch.map_err(StoreError::from)?)?;
            }
            Ok(())
        })
    }

    /// The column names of a table of the session (none when it is not
    /// open), from its schema alone.
    pub fn columns(&self, zone: Zone, dataset: &str) -> Vec<String> {
        if self.scope.check(zone).is_err() {
            return Vec::new();
        }
        let Ok(table) = self.runtime.block_on(self.ctx.table_provider(format!("{}.{}", zone.name(), dataset))) else { return Vec::new() };
        table.schema().fields().iter().map(|f| f.name().clone()).collect()
    }

    /// Counts the rows of one dataset, refusing zones outside the scope.
    pub fn count_rows(&self, zone: Zone, dataset: &str) -> Result<u64, StoreError> {
        self.scope.check(zone)?;
        let batches = self.sql(&format!("SELECT COUNT(*) FROM {}.{}", zone.name(), dataset))?;
        let column = batches
            .first()
            .map(|b| b.column(0).clone())
            .ok_or_else(|| StoreError::Inconsistent("COUNT(*) returned nothing".into()))?;
        let counts = column
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .ok_or_else(|| StoreError::Inconsistent("COUNT(*) was not Int64".into()))?;
        Ok(counts.value(0) as u64)
    }
}

/// What a GP grant may see of `table` in `zone`: the rows of the patients
/// currently registered with `practice` (`Some`), or nothing at all (`None`:
/// the table is not registered). Fail closed:
///
/// - a table with `TOKEN_PERSON_ID` keeps the rows of the practice's current
///   patients (a semi-join with the direct-care map);
/// - a table without one but with `EPIKEY` (critical care periods, whose
///   patient is the APC episode's) keeps the rows whose episode is one of
///   those patients' episodes in the same zone (record keys are equal within
///   a zone);
/// - the reference zone holds no patient data and passes unchanged;
/// - anything else cannot be filtered and is not shown.
async fn own_patients(
    store: &Store,
    ctx: &SessionContext,
    zone: Zone,
    table: Arc<dyn TableProvider>,
    practice: &str,
    on: Date,
) -> Result<Option<Arc<dyn TableProvider>>, StoreError> {
    use datafusion::logical_expr::{ident, JoinType};
    let schema = table.schema();
    let df = ctx.read_table(table)?;
    if schema.index_of("TOKEN_PERSON_ID").is_ok() {
        let Some(map) = current_patients(store, ctx, practice, on).await? else {
            return Ok(Some(df.limit(0, Some(0))?.into_view()));
        };
        let own = df.join_on(map, JoinType::LeftSemi, [ident("TOKEN_PERSON_ID").eq(ident("OWN_TOKEN"))])?;
        return Ok(Some(own.into_view()));
    }
    if schema.index_of("EPIKEY").is_ok() {
        let episodes = store.dataset_files(zone, "apc_episode")?;
        let map = current_patients(store, ctx, practice, on).await?;
        let (Some(map), false) = (map, episodes.is_empty()) else {
            return Ok(Some(df.limit(0, Some(0))?.into_view()));
        };
        let own_episodes = ctx
            .read_table(Arc::new(listing_table(ctx, &episodes).await?))?
            .join_on(map, JoinType::LeftSemi, [ident("TOKEN_PERSON_ID").eq(ident("OWN_TOKEN"))])?
            .select(vec![ident("EPIKEY").alias("OWN_EPIKEY")])?
            .distinct()?;
        let own = df.join_on(own_episodes, JoinType::LeftSemi, [ident("EPIKEY").eq(ident("OWN_EPIKEY"))])?;
        return Ok(Some(own.into_view()));
    }
    Ok((zone == Zone::Reference).then(|| df.into_view()))
}

/// The tokens (`OWN_TOKEN`) of the patients registered with `practice` on
/// `on`, from the direct-care map; `None` when no map is loaded.
///
/// "Currently registered" is read from the registration rows themselves:
/// `REG_END` is null for the current registration (datasets.md §10.8, "null
/// = current"), and a registration that ends on or after `on` has not ended
/// yet, so a patient who left the practice (a past `REG_END`) drops out
/// even while their old row stays in the extract. `REG_START` after `on` is
/// a registration that has not begun. A map without these columns cannot
/// say who is current, so it is refused rather than read as "ever".
async fn current_patients(
    store: &Store,
    ctx: &SessionContext,
    practice: &str,
    on: Date,
) -> Result<Option<datafusion::prelude::DataFrame>, StoreError> {
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::{ident, lit};
    let files = store.dataset_files(Zone::DirectCare, "gp_registration")?;
    if files.is_empty() {
        return Ok(None);
    }
    let map = listing_table(ctx, &files).await?;
    for column in ["TOKEN_PERSON_ID", "PRACTICE", "REG_START", "REG_END"] {
        if map.schema().index_of(column).is_err() {
            return Err(StoreError::Inconsistent(format!("the direct-care registration map has no {column} column")));
        }
    }
    let map = ctx.read_table(Arc::new(map))?;
    let day = lit(ScalarValue::Date32(Some(on.days())));
    let current = ident("PRACTICE")
        .eq(lit(practice))
        .and(ident("REG_END").is_null().or(ident("REG_END").gt_eq(day.clone())))
        .and(ident("REG_START").is_null().or(ident("REG_START").lt_eq(day)));
    Ok(Some(map.filter(current)?.select(vec![ident("TOKEN_PERSON_ID").alias("OWN_TOKEN")])?.distinct()?))
}

async fn listing_table(
    ctx: &SessionContext,
    paths: &[std::path::PathBuf],
) -> Result<ListingTable, StoreError> {
    let urls = paths
        .iter()
        .map(|p| ListingTableUrl::parse(p.to_string_lossy()))
        .collect::<Result<Vec<_>, _>>()?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .infer_schema(&ctx.state())
        .await?;
    Ok(ListingTable::try_new(config)?)
}
