//! Zone-scoped DataFusion sessions: a session registers only the zones its
//! grant names, so a query cannot reach another zone's tables.
//!
//! Tables are named `<zone>.<dataset>` (e.g. `pseudonymised.apc_episode`)
//! and cover exactly the committed files the catalog lists. A session can
//! only be opened with a [`ReadGrant`]; the governance layer is the one
//! implementor (xtask's tidy check refuses any other), so a read that has not
//! passed policy does not compile. A grant bound to a GP practice sees, in
//! every person-level table, only the patients registered with it. The grant
//! also says which datasets to open ([`ReadGrant::admits`], given the
//! agreements their loads ran under); the rest are not registered.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::StoreError;
use crate::load::Store;
use crate::zone::Zone;

/// Permission to read: which zones, and for a GP which practice's patients.
pub trait ReadGrant {
    /// The zones the holder may read.
    fn zones(&self) -> &[Zone];
    /// The practice whose registered patients alone are visible, for a GP.
    fn practice(&self) -> Option<&str>;
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
        let practice = grant.practice().map(str::to_owned);
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
                    Some(p) => runtime.block_on(own_patients(store, &ctx, table, p))?,
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

    /// The underlying context, for callers that build plans themselves.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Runs a query to completion.
    pub fn sql(&self, query: &str) -> Result<Vec<RecordBatch>, StoreError> {
        self.runtime.block_on(async {
            let df = self.ctx.sql(query).await?;
            Ok(df.collect().await?)
        })
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

/// `table` restricted to the patients registered with `practice`, by the
/// direct-care map from pseudonymised tokens to practices. Tables without a
/// person token (reference data) pass unchanged; with no map loaded, nothing
/// person-level is visible.
async fn own_patients(
    store: &Store,
    ctx: &SessionContext,
    table: Arc<dyn TableProvider>,
    practice: &str,
) -> Result<Arc<dyn TableProvider>, StoreError> {
    use datafusion::logical_expr::{ident, lit, JoinType};
    if table.schema().index_of("TOKEN_PERSON_ID").is_err() {
        return Ok(table);
    }
    let map_files = store.dataset_files(Zone::DirectCare, "gp_registration")?;
    let df = ctx.read_table(table)?;
    if map_files.is_empty() {
        return Ok(df.limit(0, Some(0))?.into_view());
    }
    let map = ctx
        .read_table(Arc::new(listing_table(ctx, &map_files).await?))?
        .filter(ident("PRACTICE").eq(lit(practice)))?
        .select(vec![ident("TOKEN_PERSON_ID").alias("OWN_TOKEN")])?
        .distinct()?;
    let own = df.join_on(map, JoinType::LeftSemi, [ident("TOKEN_PERSON_ID").eq(ident("OWN_TOKEN"))])?;
    Ok(own.into_view())
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
