//! Repricing an admitted-patient spell at national prices (datasets.md §6.3
//! and §11.8; arithmetic as in the public tariff SQL cited there as KUB/HSP).
//!
//! total = (base price + excess bed days × per-day long-stay payment) × MFF,
//! money in pence, rounded once at line level (half away from zero; the
//! rounding point is marked partial in the reference, so it is one function).

use super::codes::{is_elective, is_non_elective};

/// One HRG row of the APC prices workbook (`tariff_apc`), prices in pence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TariffRow {
    pub hrg: String,
    pub combined_dc_el_price: Option<i64>,
    pub dc_price: Option<i64>,
    pub el_price: Option<i64>,
    pub el_trim_point_days: Option<i32>,
    pub nel_price: Option<i64>,
    pub nel_trim_point_days: Option<i32>,
    pub long_stay_per_day: i64,
    pub ssem_price: Option<i64>,
    pub ssem_applicable: bool,
}

/// Which patients the reduced short-stay emergency price applies to. The two
/// public implementations disagree on the age direction (datasets.md §6.3,
/// partial), so it is a setting; the default follows the NTPS wording (adults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SsemAgeRule {
    /// Patients aged at least this many years at admission.
    AdultsFrom(u8),
    /// Patients younger than this many years.
    ChildrenUnder(u8),
    AllAges,
}

impl Default for SsemAgeRule {
    fn default() -> Self {
        SsemAgeRule::AdultsFrom(19)
    }
}

/// The spell fields pricing reads.
#[derive(Clone, Copy, Debug)]
pub struct SpellForPricing<'a> {
    pub admimeth: &'a str,
    pub classpat: &'a str,
    /// Net length of stay used for excess bed days.
    pub los_net: i32,
    pub age_years: u8,
}

/// A priced spell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApcPrice {
    pub base: i64,
    pub trim_point_days: Option<i32>,
    pub excess_bed_days: i32,
    pub ebd_amount: i64,
    pub ssem_applied: bool,
    /// (base + EBD amount) × MFF, rounded to whole pence.
    pub total: i64,
}

/// Prices a spell, or `None` when the tariff has no price for its setting.
pub fn price_apc_spell(spell: SpellForPricing<'_>, tariff: &TariffRow, mff: f64, ssem: SsemAgeRule) -> Option<ApcPrice> {
    let (mut base, trim) = if is_elective(spell.admimeth) {
        let price = tariff.combined_dc_el_price.or(if spell.classpat == "2" { tariff.dc_price } else { tariff.el_price })?;
        // Excess bed days apply to ordinary elective admissions only.
        (price, (spell.classpat == "1").then_some(tariff.el_trim_point_days).flatten())
    } else {
        debug_assert!(is_non_elective(spell.admimeth));
        (tariff.nel_price?, tariff.nel_trim_point_days)
    };
    let mut ssem_applied = false;
    if !is_elective(spell.admimeth) && spell.los_net <= 1 && tariff.ssem_applicable && ssem_age_applies(ssem, spell.age_years) {
        if let Some(p) = tariff.ssem_price {
            base = p;
            ssem_applied = true;
        }
    }
    let excess_bed_days = trim.map_or(0, |t| (spell.los_net - t).max(0));
    let ebd_amount = i64::from(excess_bed_days) * tariff.long_stay_per_day;
    let total = round_pence((base + ebd_amount) as f64 * mff);
    Some(ApcPrice { base, trim_point_days: trim, excess_bed_days, ebd_amount, ssem_applied, total })
}

fn ssem_age_applies(rule: SsemAgeRule, age: u8) -> bool {
    match rule {
        SsemAgeRule::AdultsFrom(min) => age >= min,
        SsemAgeRule::ChildrenUnder(max) => age < max,
        SsemAgeRule::AllAges => true,
    }
}

/// Rounds to whole pence, half away from zero.
pub fn round_pence(x: f64) -> i64 {
    x.round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tariff() -> TariffRow {
        TariffRow {
            hrg: "FD01A".into(),
            combined_dc_el_price: None,
            dc_price: Some(80_000),
            el_price: Some(150_000),
            el_trim_point_days: Some(5),
            nel_price: Some(200_000),
            nel_trim_point_days: Some(10),
            long_stay_per_day: 30_000,
            ssem_price: Some(60_000),
            ssem_applicable: true,
        }
    }

    fn spell(admimeth: &'static str, classpat: &'static str, los: i32, age: u8) -> SpellForPricing<'static> {
        SpellForPricing { admimeth, classpat, los_net: los, age_years: age }
    }

    #[test]
    fn non_elective_with_excess_bed_days_and_mff() {
        // LoS 13, trim 10 → 3 excess days × £300 = £900; (£2,000 + £900) × 1.0461 = £3,033.69.
        let p = price_apc_spell(spell("21", "1", 13, 70), &tariff(), 1.0461, SsemAgeRule::default()).unwrap();
        assert_eq!((p.base, p.excess_bed_days, p.ebd_amount), (200_000, 3, 90_000));
        assert_eq!(p.total, 303_369);
    }

    #[test]
    fn day_case_and_ordinary_elective() {
        // Day case: no trim point, £800 × 1.0 = £800.
        let p = price_apc_spell(spell("12", "2", 0, 40), &tariff(), 1.0, SsemAgeRule::default()).unwrap();
        assert_eq!((p.base, p.excess_bed_days, p.total), (80_000, 0, 80_000));
        // Ordinary elective LoS 7, trim 5: (£1,500 + 2 × £300) × 1.1 = £2,310.
        let p = price_apc_spell(spell("11", "1", 7, 40), &tariff(), 1.1, SsemAgeRule::default()).unwrap();
        assert_eq!(p.total, 231_000);
        // A combined DC/EL price wins over both.
        let mut t = tariff();
        t.combined_dc_el_price = Some(100_000);
        assert_eq!(price_apc_spell(spell("12", "2", 0, 40), &t, 1.0, SsemAgeRule::default()).unwrap().base, 100_000);
    }

    #[test]
    fn short_stay_emergency_price_follows_the_configured_age_rule() {
        let adult = price_apc_spell(spell("21", "1", 1, 30), &tariff(), 1.0, SsemAgeRule::default()).unwrap();
        assert!(adult.ssem_applied && adult.total == 60_000);
        let child = price_apc_spell(spell("21", "1", 1, 10), &tariff(), 1.0, SsemAgeRule::default()).unwrap();
        assert!(!child.ssem_applied && child.total == 200_000);
        let child = price_apc_spell(spell("21", "1", 1, 10), &tariff(), 1.0, SsemAgeRule::ChildrenUnder(19)).unwrap();
        assert!(child.ssem_applied);
        let two_days = price_apc_spell(spell("21", "1", 2, 30), &tariff(), 1.0, SsemAgeRule::default()).unwrap();
        assert!(!two_days.ssem_applied);
    }

    #[test]
    fn missing_price_is_none() {
        let mut t = tariff();
        t.nel_price = None;
        assert!(price_apc_spell(spell("21", "1", 3, 30), &t, 1.0, SsemAgeRule::default()).is_none());
    }
}
