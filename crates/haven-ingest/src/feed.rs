//! Feeds: which canonical table a file fills, where it comes from, and which
//! zones its rows go to.

use haven_model::schema::Table;
use haven_store::Zone;

use crate::error::IngestError;

/// Where a feed comes from, which decides what the DSCRO stage does with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// An identifiable local flow (SUS+, ECDS, GP extract, invoices, deaths,
    /// the opt-out clean list): validated, opt-outs applied, minimised and
    /// pseudonymised per zone.
    Local,
    /// The national pseudonymised HES/ECDS extract: validated and kept apart
    /// in the national zone; it must not carry identifiers.
    National,
    /// Reference data: organisations, lookups, prices.
    Reference,
}

/// A table and its origin, named like `apc_episode` or `national.apc_episode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Feed {
    pub table: Table,
    pub origin: Origin,
}

/// Columns with a role in the DSCRO stage, per table.
#[derive(Clone, Copy, Debug, Default)]
pub struct Roles {
    /// The NHS number column.
    pub nhs: Option<&'static str>,
    /// Full date of birth.
    pub dob: Option<&'static str>,
    /// Postcode of usual address.
    pub postcode: Option<&'static str>,
    /// Registered GP practice.
    pub practice: Option<&'static str>,
    /// LSOA 2021 of residence.
    pub lsoa: Option<&'static str>,
    /// Provider (trust) code: hosted-provider minimisation and the data-quality
    /// report's provider axis.
    pub provider: Option<&'static str>,
    /// The activity date that age is measured at.
    pub activity_date: Option<&'static str>,
    /// The age column filled from date of birth when blank.
    pub age: Option<&'static str>,
    /// Clear provider spell number, pseudonymised into `PROVSPNOPS`.
    pub spell: Option<&'static str>,
    /// Columns that must be present and valid for a row to be kept, beyond
    /// the primary key.
    pub required: &'static [&'static str],
    /// Pairs of date columns that must be in order (first ≤ second).
    pub date_order: &'static [(&'static str, &'static str)],
}

impl Feed {
    /// Parses `table` or `national.table`.
    pub fn parse(name: &str) -> Result<Feed, IngestError> {
        let unknown = || IngestError::UnknownDataset(name.to_owned());
        let (origin, table_name) = match name.strip_prefix("national.") {
            Some(rest) => (Origin::National, rest),
            None => (Origin::Local, name),
        };
        let table = Table::from_name(table_name).ok_or_else(unknown)?;
        let origin = if table.is_reference() {
            if origin == Origin::National {
                return Err(unknown());
            }
            Origin::Reference
        } else {
            origin
        };
        if table == Table::ApcSpell || table == Table::GpRegister {
            // Derived inside Haven, never supplied.
            return Err(unknown());
        }
        if origin == Origin::National && Feed::national_tables().iter().all(|t| *t != table) {
            return Err(unknown());
        }
        Ok(Feed { table, origin })
    }

    /// Tables the national extract may hold.
    pub fn national_tables() -> &'static [Table] {
        &[
            Table::ApcEpisode,
            Table::OpAttendance,
            Table::AeAttendance,
            Table::EcdsAttendance,
            Table::CcPeriod,
            Table::Death,
        ]
    }

    /// The feed's name as used in the catalog.
    pub fn name(&self) -> String {
        match self.origin {
            Origin::National => format!("national.{}", self.table.name()),
            _ => self.table.name().to_owned(),
        }
    }

    /// The zones this feed writes, in order.
    pub fn zones(&self) -> Vec<Zone> {
        use Table::*;
        match (self.origin, self.table) {
            (Origin::Reference, _) => vec![Zone::Reference],
            (Origin::National, _) => vec![Zone::National],
            (Origin::Local, OptoutCleanList) => vec![Zone::Staging],
            (Origin::Local, InvoiceHeader | InvoiceLine | AcmTotal) => vec![Zone::Staging, Zone::Ceff],
            (Origin::Local, ApcEpisode | OpAttendance | EcdsAttendance | AeAttendance | CcPeriod | Death) => {
                vec![Zone::Staging, Zone::Ceff, Zone::Pseudonymised]
            }
            (Origin::Local, GpRegistration) => vec![Zone::Staging, Zone::DirectCare, Zone::Pseudonymised],
            (Origin::Local, GpPatient | GpEvent | GpMedication) => vec![Zone::Staging, Zone::Pseudonymised],
            (Origin::Local, MhsdsSummary) => vec![Zone::Staging, Zone::Pseudonymised],
            (Origin::Local, _) => vec![Zone::Staging],
        }
    }

    /// The columns with a role in this feed's table.
    pub fn roles(&self) -> Roles {
        roles(self.table)
    }
}

fn roles(table: Table) -> Roles {
    use Table::*;
    match table {
        ApcEpisode => Roles {
            nhs: Some("NEWNHSNO"),
            dob: Some("DOB"),
            postcode: Some("POSTCODE"),
            practice: Some("GPPRAC"),
            lsoa: Some("LSOA21"),
            provider: Some("PROCODE3"),
            activity_date: Some("EPISTART"),
            age: Some("STARTAGE"),
            spell: Some("PROVSPNO"),
            required: &["EPISTART"],
            date_order: &[
                ("ADMIDATE", "EPISTART"),
                ("EPISTART", "EPIEND"),
                ("ADMIDATE", "DISDATE"),
                ("EPIEND", "DISDATE"),
                ("DOB", "EPISTART"),
            ],
        },
        OpAttendance => Roles {
            nhs: Some("NEWNHSNO"),
            dob: Some("DOB"),
            postcode: Some("POSTCODE"),
            practice: Some("GPPRAC"),
            lsoa: Some("LSOA21"),
            provider: Some("PROCODE3"),
            activity_date: Some("APPTDATE"),
            age: Some("APPTAGE"),
            required: &["APPTDATE"],
            date_order: &[("REQDATE", "APPTDATE"), ("DOB", "APPTDATE")],
            ..Roles::default()
        },
        EcdsAttendance => Roles {
            nhs: Some("NEWNHSNO"),
            dob: Some("DOB"),
            postcode: Some("POSTCODE"),
            practice: Some("PRACTICE_CODE_PATIENT_REGISTRATION"),
            lsoa: Some("LSOA21"),
            provider: Some("PROVIDER_CODE"),
            activity_date: Some("ARRIVAL_DATE"),
            age: Some("AGE_AT_ARRIVAL"),
            required: &["ARRIVAL_DATE"],
            date_order: &[("ARRIVAL_DATE", "DEPARTURE_DATE"), ("DOB", "ARRIVAL_DATE")],
            ..Roles::default()
        },
        AeAttendance => Roles {
            nhs: Some("NEWNHSNO"),
            dob: Some("DOB"),
            postcode: Some("POSTCODE"),
            practice: Some("GPPRAC"),
            lsoa: Some("LSOA21"),
            provider: Some("PROCODE3"),
            activity_date: Some("ARRIVALDATE"),
            age: Some("ARRIVALAGE"),
            required: &["ARRIVALDATE"],
            date_order: &[("DOB", "ARRIVALDATE")],
            ..Roles::default()
        },
        CcPeriod => Roles {
            required: &["CCSTARTDATE"],
            date_order: &[("CCSTARTDATE", "CCDISDATE")],
            ..Roles::default()
        },
        Death => Roles {
            nhs: Some("DEC_NHS_NUMBER"),
            dob: Some("DOB"),
            postcode: Some("POSTCODE"),
            practice: Some("GP_PRACTICE_CODE"),
            lsoa: Some("LSOA_OF_RESIDENCE_CODE"),
            activity_date: Some("REG_DATE_OF_DEATH"),
            age: Some("DEC_AGEC"),
            required: &["REG_DATE_OF_DEATH"],
            date_order: &[("REG_DATE_OF_DEATH", "REG_DATE"), ("DOB", "REG_DATE_OF_DEATH")],
            ..Roles::default()
        },
        GpPatient => Roles {
            nhs: Some("NHS_NUMBER"),
            dob: Some("DOB"),
            postcode: Some("POSTCODE"),
            lsoa: Some("LSOA21"),
            required: &["NHS_NUMBER"],
            date_order: &[("DOB", "DATE_OF_DEATH")],
            ..Roles::default()
        },
        GpRegistration => Roles {
            nhs: Some("NHS_NUMBER"),
            practice: Some("PRACTICE"),
            provider: Some("PRACTICE"),
            required: &["NHS_NUMBER", "PRACTICE", "REG_START"],
            date_order: &[("REG_START", "REG_END")],
            ..Roles::default()
        },
        GpEvent => Roles {
            nhs: Some("NHS_NUMBER"),
            practice: Some("PRACTICE"),
            provider: Some("PRACTICE"),
            required: &["NHS_NUMBER", "CODE", "EVENT_DATE"],
            ..Roles::default()
        },
        GpMedication => Roles {
            nhs: Some("NHS_NUMBER"),
            practice: Some("PRACTICE"),
            provider: Some("PRACTICE"),
            required: &["NHS_NUMBER", "ISSUE_DATE"],
            ..Roles::default()
        },
        InvoiceHeader => Roles {
            provider: Some("PROVIDER_CODE"),
            required: &["PROVIDER_CODE", "TOTAL_NET"],
            date_order: &[("ACTIVITY_PERIOD_START", "ACTIVITY_PERIOD_END")],
            ..Roles::default()
        },
        AcmTotal => Roles {
            provider: Some("PROVIDER_CODE"),
            required: &["PROVIDER_CODE", "COMMISSIONER_CODE", "ACTIVITY_MONTH", "PRICE_ACTUAL"],
            ..Roles::default()
        },
        InvoiceLine => Roles {
            nhs: Some("NEWNHSNO"),
            dob: Some("DOB"),
            postcode: Some("POSTCODE"),
            practice: Some("GPPRAC"),
            lsoa: Some("LSOA21"),
            provider: Some("PROCODE3"),
            spell: Some("PROVSPNO"),
            required: &["LINE_AMOUNT"],
            date_order: &[("ACTIVITY_DATE", "DISCHARGE_DATE")],
            ..Roles::default()
        },
        OptoutCleanList => Roles {
            nhs: Some("NEWNHSNO"),
            required: &["PURPOSE", "NEWNHSNO"],
            ..Roles::default()
        },
        _ => Roles::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_names_round_trip_and_refuse_derived_or_unknown_tables() {
        for name in ["apc_episode", "national.apc_episode", "org", "optout_clean_list", "national.ae_attendance"] {
            assert_eq!(Feed::parse(name).unwrap().name(), name);
        }
        for bad in ["apc_spell", "national.org", "national.gp_event", "nonsense", "national.", ""] {
            assert!(Feed::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Feed::parse("org").unwrap().origin, Origin::Reference);
    }

    #[test]
    fn every_role_column_exists_in_its_table() {
        for table in Table::ALL {
            let schema = table.schema();
            let r = roles(table);
            let named = [r.nhs, r.dob, r.postcode, r.practice, r.lsoa, r.provider, r.activity_date, r.age, r.spell];
            let all = named.into_iter().flatten().chain(r.required.iter().copied()).chain(
                r.date_order.iter().flat_map(|(a, b)| [*a, *b]),
            );
            for col in all {
                assert!(schema.index_of(col).is_ok(), "{table}: {col}");
            }
        }
    }

    #[test]
    fn national_and_pseudonymised_never_share_a_feed_and_staging_takes_every_local_flow() {
        for table in Table::ALL {
            for origin in [Origin::Local, Origin::National] {
                let feed = Feed { table, origin };
                let zones = feed.zones();
                assert!(!(zones.contains(&Zone::National) && zones.len() > 1));
                if origin == Origin::Local && !table.is_reference() {
                    assert_eq!(zones[0], Zone::Staging);
                }
            }
        }
    }
}
