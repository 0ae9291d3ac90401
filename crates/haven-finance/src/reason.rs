//! Reason codes: why a line is challenged, in one table (code, meaning,
//! rule, source). The codes follow the proposal in datasets.md §10.11
//! (`VALIDATION_REASON`, "a proposal, not a national list") where it has
//! one, and add the checks issue 17 names.

use serde::Serialize;

/// Why a line (or an invoice) is challenged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Reason {
    NotResponsibleCommissioner,
    NhseCommissioned,
    NoSusRecord,
    ActivityAfterDeath,
    Duplicate,
    PriceDifference,
    HrgDifference,
    HrgNotInTariff,
    InsideSpell,
    NoPriorApproval,
    EbiNoPriorApproval,
    UnknownProvider,
    NoInvoiceHeader,
    InvalidQuantity,
    InvalidAmount,
    /// Invoice level: TOTAL_NET is not the sum of its lines.
    InvoiceTotalMismatch,
    /// Invoice level: the invoice number is used by another invoice of
    /// the same provider.
    DuplicateInvoiceNumber,
    /// Invoice level: the contracted invoices of a provider, commissioner
    /// and month do not add up to the provider's ACM total.
    AcmTotalMismatch,
    /// Invoice level: a contracted invoice with no ACM rows for its
    /// provider, commissioner and month (when ACM is loaded).
    NoAcmTotal,
}

/// One row of the reason table.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ReasonRow {
    pub reason: Reason,
    pub code: &'static str,
    pub meaning: &'static str,
    /// The function that applies it.
    pub rule: &'static str,
    pub source: &'static str,
}

/// Every reason, documented once (`haven iv reasons` prints it).
pub const REASONS: [ReasonRow; 19] = [
    row(Reason::NotResponsibleCommissioner, "NOT_RESPONSIBLE_COMMISSIONER", "Another ICB is responsible for the patient on the activity date", "check::responsibility", "Who Pays? v3 (NHS England, 2024); CAM v5.3 order, datasets.md §6.2"),
    row(Reason::NhseCommissioned, "NHSE_COMMISSIONED", "NHS England commissions the activity (armed forces 13Q practice, health and justice, secondary dental)", "check::responsibility", "CAM v5.3 steps D, E, J; datasets.md §6.2"),
    row(Reason::NoSusRecord, "NO_SUS_RECORD", "No SUS+ spell or attendance matches the line by its record key or by patient, provider, date and setting", "matching::find", "NHS England invoice validation guidance: backing data must match SUS+ (datasets.md §6.1)"),
    row(Reason::ActivityAfterDeath, "ACTIVITY_AFTER_DEATH", "The activity date is after the patient's registered date of death", "check::after_death", "Civil registration deaths (datasets.md §4.2, §10.7)"),
    row(Reason::Duplicate, "DUPLICATE", "The same SUS+ record, or the same patient, provider, date, setting and HRG, is billed on an earlier line (same invoice, another invoice or another month)", "duplicate::find", "datasets.md §10.11 MATCH_STATUS DUPLICATE_LINE / ALREADY_PAID"),
    row(Reason::PriceDifference, "PRICE_DIFFERENCE", "The amount billed differs from the SUS+ activity repriced at the loaded tariff and MFF by more than the tolerance", "check::price", "NHS Payment Scheme unit prices and MFF; spell arithmetic datasets.md §6.3 (haven_model::rules::pricing)"),
    row(Reason::HrgDifference, "HRG_DIFFERENCE", "The HRG billed is not the HRG SUS+ grouped the activity to", "check::price", "datasets.md §10.11 VALIDATION_REASON"),
    row(Reason::HrgNotInTariff, "HRG_NOT_IN_TARIFF", "The activity's HRG has no price for its setting in the loaded tariff year: it cannot be repriced", "check::price", "NHS Payment Scheme prices workbook (datasets.md §10.10 tariff_apc)"),
    row(Reason::InsideSpell, "INSIDE_SPELL", "A day case, outpatient or A&E attendance dated inside an inpatient spell of the same patient at the same provider (part of the spell's payment)", "check::inside_spell", "NHS Payment Scheme: activity during an admitted spell is covered by the spell price (rules marked partial; configurable)"),
    row(Reason::NoPriorApproval, "NO_PRIOR_APPROVAL", "Elective non-contracted activity without the prior notification or approval reference the ICB's policy requires", "check::prior_approval", "Non-contract activity policy (e.g. NHS Kernow), datasets.md §6.1"),
    row(Reason::EbiNoPriorApproval, "EBI_NO_PRIOR_APPROVAL", "An Evidence-Based Interventions list 1 procedure billed without a prior approval reference", "check::ebi", "NHS England Evidence-Based Interventions guidance, list 1 (haven_model::rules::ebi)"),
    row(Reason::UnknownProvider, "UNKNOWN_PROVIDER", "The billing provider is not an organisation in the loaded reference tables", "check::line", "ODS organisation codes, datasets.md §8.2"),
    row(Reason::NoInvoiceHeader, "NO_INVOICE_HEADER", "The line's invoice has no header: it cannot be attributed or totalled", "validate::run", "datasets.md §10.11 invoice_header"),
    row(Reason::InvalidQuantity, "INVALID_QUANTITY", "QUANTITY is missing, zero or negative", "check::line", "datasets.md §10.11 QUANTITY > 0"),
    row(Reason::InvalidAmount, "INVALID_AMOUNT", "LINE_AMOUNT is missing or negative", "check::line", "datasets.md §10.11 LINE_AMOUNT"),
    row(Reason::InvoiceTotalMismatch, "INVOICE_TOTAL_MISMATCH", "The invoice's TOTAL_NET is not the sum of its lines", "validate::invoice_findings", "datasets.md §10.11 TOTAL_NET = Σ line amounts"),
    row(Reason::DuplicateInvoiceNumber, "DUPLICATE_INVOICE_NUMBER", "Another invoice of the same provider has the same invoice number", "validate::invoice_findings", "datasets.md §10.11 INVOICE_NUMBER unique per supplier"),
    row(Reason::AcmTotalMismatch, "ACM_TOTAL_MISMATCH", "The provider's contracted invoices for the commissioner and month do not total its aggregate contract monitoring (ACM) return", "validate::acm_findings", "datasets.md §6.1: the ACM total must equal the invoice value (NHS Standard Contract, Schedule 6)"),
    row(Reason::NoAcmTotal, "NO_ACM_TOTAL", "A contracted invoice with no ACM return for its provider, commissioner and month", "validate::acm_findings", "datasets.md §6.1 (NHS Standard Contract, Schedule 6: monthly ACM)"),
];

const fn row(reason: Reason, code: &'static str, meaning: &'static str, rule: &'static str, source: &'static str) -> ReasonRow {
    ReasonRow { reason, code, meaning, rule, source }
}

impl Reason {
    /// The reason's row in [`REASONS`].
    pub fn row(self) -> &'static ReasonRow {
        REASONS.iter().find(|r| r.reason == self).expect("every reason has a row")
    }

    pub fn code(self) -> &'static str {
        self.row().code
    }

    pub fn parse(code: &str) -> Option<Reason> {
        REASONS.iter().find(|r| r.code == code).map(|r| r.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_one_row_and_a_distinct_code() {
        let mut codes: Vec<&str> = REASONS.iter().map(|r| r.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), REASONS.len());
        for r in REASONS {
            assert_eq!(Reason::parse(r.code), Some(r.reason));
            assert!(!r.source.is_empty() && !r.rule.is_empty());
        }
    }
}
