//! One person's hospital activity over the period, written as rows.
//!
//! Activity is driven by the person's risk: emergency admissions arrive as a
//! Poisson process whose rate is the person's relative risk, discharges are
//! followed by a readmission with a probability that rises with risk, and
//! deaths follow an age- and risk-dependent hazard. Electives, outpatients and
//! emergency-department attendances have age-specific rates. Each record is
//! written to the national extract and, where it concerns the focus ICB, to
//! the identifiable DSCRO flow; invoice candidates are handed back for the
//! focus ICB's invoices.

// `*rng.pick(&[...])` names the element type that inference needs here.
#![allow(clippy::explicit_auto_deref)]

use haven_model::rules::{self, responsible_commissioner, Responsibility};
use haven_model::{AgeCode, Date};

use crate::clinical::{self, CONDITIONS, ELECTIVE, EMERGENCY};
use crate::invoice::Candidate;
use crate::lookup::Lookup;
use crate::people::{deprivation_factor, Person};
use crate::rng::Rng;
use crate::rows::{self, ApcRow, CcRow, DeathRow, EcdsRow, OpRow, Place, Variant, Who};
use crate::sink::RowSink;
use crate::Out;

/// What the period and run look like to the simulation.
pub struct Plan<'a> {
    pub lookup: &'a Lookup<'a>,
    pub start: Date,
    pub end: Date,
    pub focus_icb: usize,
    pub token_key: (u64, u64),
    pub apc_only: bool,
}

/// Rows produced by one chunk of people.
#[derive(Default)]
pub struct ChunkOut {
    pub bufs: Vec<Vec<u8>>,
    pub rows: Vec<u64>,
    pub candidates: Vec<Candidate>,
}

impl ChunkOut {
    pub fn new() -> Self {
        ChunkOut { bufs: vec![Vec::new(); Out::COUNT], rows: vec![0; Out::COUNT], candidates: Vec::new() }
    }

    pub fn row(&mut self, out: Out) -> RowSink<'_> {
        self.rows[out as usize] += 1;
        RowSink::new(&mut self.bufs[out as usize])
    }
}

/// Per-person identity text, computed once.
struct Ident {
    nhs: String,
    token: String,
    sex: &'static str,
}

/// The simulation of one person.
pub struct Sim<'a, 'p> {
    plan: &'a Plan<'a>,
    p: &'p Person,
    id: Ident,
    rng: &'a mut Rng,
    out: &'a mut ChunkOut,
    death: Option<Date>,
    died_in_hospital: bool,
    spell_seq: u64,
    episode_seq: u64,
    other_seq: u64,
    in_care_home: bool,
}

/// The national extract's person token for person `idx`.
pub fn token(key: (u64, u64), idx: u64) -> String {
    crate::rng::keyed_hex(key, &[&idx.to_ne_bytes()])
}

impl<'a, 'p> Sim<'a, 'p> {
    pub fn new(plan: &'a Plan<'a>, p: &'p Person, rng: &'a mut Rng, out: &'a mut ChunkOut) -> Self {
        let id = Ident { nhs: p.nhs.expose(), token: token(plan.token_key, p.idx), sex: if p.sex == 1 { "1" } else { "2" } };
        Sim {
            plan,
            p,
            id,
            rng,
            out,
            death: None,
            died_in_hospital: false,
            spell_seq: 0,
            episode_seq: 0,
            other_seq: 0,
            in_care_home: p.in_care_home,
        }
    }

    /// Runs the whole period for this person.
    pub fn run(mut self) -> Option<Date> {
        self.death = self.draw_death();
        self.emergencies();
        self.electives();
        self.maternity();
        if !self.plan.apc_only {
            self.outpatients();
            self.emergency_department();
            self.write_death();
        }
        self.death
    }

    fn age(&self, d: Date) -> i32 {
        self.p.age_on(d)
    }

    fn alive_until(&self) -> Date {
        self.death.map_or(self.plan.end, |d| d.min(self.plan.end))
    }

    fn decile(&self, d: Date) -> u8 {
        self.plan.lookup.geo.lsoas[self.p.lsoa_on(d)].imd_decile
    }

    fn draw_death(&mut self) -> Option<Date> {
        let age = self.age(self.plan.start);
        let annual: f64 = match age {
            0..=4 => 0.0008,
            5..=14 => 0.0001,
            15..=24 => 0.0004,
            25..=44 => 0.001,
            45..=64 => 0.004,
            65..=74 => 0.014,
            75..=84 => 0.042,
            _ => 0.13,
        };
        let rel = ((self.p.log_risk - base_log_risk(age)) * 0.6).exp();
        let t = self.rng.exponential(0.85 * annual * rel / 365.0);
        (t < f64::from(self.plan.end.days_since(self.plan.start))).then(|| self.plan.start.add_days(t as i32))
    }

    /// Emergency admissions, readmissions and in-hospital deaths.
    fn emergencies(&mut self) {
        let rate = 1.2 * self.p.log_risk.exp() / 365.0;
        let mut t = self.plan.start.add_days(-1);
        let mut forced: Option<Date> = None;
        loop {
            let next = match forced.take() {
                Some(d) => d,
                None => t.add_days(self.rng.exponential(rate).ceil() as i32),
            };
            if next >= self.alive_until() {
                break;
            }
            let Some(dis) = self.emergency_spell(next, None) else { break };
            t = dis;
            if self.died_in_hospital {
                return;
            }
            let age = self.age(dis);
            // Readmission within 30 days: more likely for high-risk people.
            let p_re = (0.10 * (self.p.log_risk - base_log_risk(age)).exp().powf(0.35)).min(0.5);
            if self.rng.chance(p_re) {
                forced = Some(dis.add_days(self.rng.range(1, 29) as i32));
            }
            // Death within 30 days of discharge.
            if self.death.is_none_or(|d| d > dis.add_days(30)) && self.rng.chance(0.4 * in_hospital_death_p(age, self.p)) {
                self.death = Some(dis.add_days(self.rng.range(1, 30) as i32));
            }
        }
        // A share of deaths happen in hospital after a final admission.
        if let Some(d) = self.death {
            if !self.died_in_hospital && d <= self.plan.end && self.rng.chance(0.35) {
                let los = self.rng.range(0, 12) as i32;
                let adm = d.add_days(-los).max(self.plan.start);
                self.emergency_spell(adm, Some(d));
            }
        }
    }

    /// Writes one emergency spell from `adm`; returns the discharge date.
    fn emergency_spell(&mut self, adm: Date, die_on: Option<Date>) -> Option<Date> {
        let age = self.age(adm);
        let (diag, tretspef, hrg) = self.presentation(age);
        let mut los = if let Some(d) = die_on {
            d.days_since(adm)
        } else if self.rng.chance(if age < 65 { 0.36 } else { 0.22 }) {
            0
        } else {
            let median = if age < 65 { 2.5 } else if age < 85 { 4.5 } else { 6.5 };
            (self.rng.lognormal(median, 0.8).round() as i32).clamp(1, 120)
        };
        let mut dies = die_on.is_some() || self.rng.chance(in_hospital_death_p(age, self.p));
        if dies && die_on.is_none() {
            los = los.max(1);
        }
        let dis = adm.add_days(los);
        if dis > self.plan.end {
            dies = dies && die_on.is_some();
        }
        let meth = *self.rng.pick(&["21", "21", "21", "21", "21", "21", "21", "22", "22", "23", "24", "2A", "2D"]);
        let src = if self.in_care_home { *self.rng.pick(&["85", "54", "65"]) } else { "19" };
        let transfer_out = !dies && los >= 2 && self.rng.chance(0.02);
        let dest = if dies {
            "79"
        } else if transfer_out {
            "51"
        } else if age >= 75 && !self.in_care_home && self.rng.chance(0.015 + 0.01 * f64::from(self.p.deficits)) {
            self.in_care_home = true;
            *self.rng.pick(&["85", "85", "85", "54", "65"])
        } else if self.in_care_home {
            "85"
        } else {
            "19"
        };
        let trust = self.pick_trust(adm, false);
        let spell = SpellSpec {
            adm,
            dis,
            admimeth: meth,
            admisorc: src,
            disdest: dest,
            dismeth: if dies { "4" } else { "1" },
            classpat: "1",
            intmanig: "1",
            primary: diag,
            tretspef,
            hrg,
            procs: &[],
            trust,
            elective: None,
            epitype: "1",
            delayed: age >= 65 && los >= 4 && self.rng.chance(0.25),
        };
        let (first_epikey, local) = self.write_spell(&spell);
        if meth == "21" && !self.plan.apc_only {
            self.ed_attendance(adm, Some(first_epikey), trust);
        }
        if age >= 16 && self.rng.chance(0.04) && !self.plan.apc_only {
            self.critical_care(first_epikey, adm, dis, dies, local);
        }
        if dies {
            self.death = Some(dis);
            self.died_in_hospital = true;
        } else if transfer_out {
            // The receiving provider admits the same day as a transfer (2B/51).
            let other = self.pick_trust(dis, true);
            let los2 = self.rng.range(1, 15) as i32;
            let onward = SpellSpec { adm: dis, dis: dis.add_days(los2), admimeth: "2B", admisorc: "51", disdest: "19", dismeth: "1", trust: other, delayed: false, ..spell };
            self.write_spell(&onward);
            return Some(dis.add_days(los2));
        }
        Some(dis)
    }

    fn presentation(&mut self, age: i32) -> (&'static str, &'static str, &'static str) {
        let chronic: Vec<_> = CONDITIONS.iter().filter(|c| self.p.has(**c)).collect();
        if !chronic.is_empty() && self.rng.chance(0.45) {
            let weights: Vec<f64> = chronic.iter().map(|c| clinical::facts(**c).emergency_log_rr.exp()).collect();
            let c = *chronic[self.rng.weighted(&weights)];
            let diag = *self.rng.pick(clinical::facts(c).acsc_primary);
            let tfc = match diag.as_bytes()[0] {
                b'J' => "340",
                b'I' => "320",
                b'F' => if age >= 65 { "430" } else { "710" },
                _ => if age >= 75 { "430" } else { "300" },
            };
            return (diag, tfc, clinical::acsc_hrg(diag));
        }
        let group = if age < 16 { 0 } else { 1 };
        let weights: Vec<f64> = EMERGENCY.iter().map(|p| if p.ages == group || p.ages == 2 { p.weight } else { 0.0 }).collect();
        let p = &EMERGENCY[self.rng.weighted(&weights)];
        let tfc = if group == 1 && age >= 80 && p.tretspef == "300" { "430" } else { p.tretspef };
        (p.diag, tfc, p.hrg)
    }

    fn pick_trust(&mut self, on: Date, elsewhere: bool) -> usize {
        let geo = self.plan.lookup.geo;
        let home_icb = geo.lsoas[self.p.lsoa_on(on)].icb;
        if elsewhere || self.rng.chance(0.08) {
            let n = geo.neighbour(home_icb, self.rng);
            return geo.trust_in(n, self.rng);
        }
        geo.trust_in(home_icb, self.rng)
    }

    fn electives(&mut self) {
        let age0 = self.age(self.plan.start);
        let base = match age0 {
            ..=17 => 0.03,
            18..=39 => 0.07,
            40..=59 => 0.14,
            60..=74 => 0.28,
            _ => 0.30,
        };
        let decile = self.decile(self.plan.start);
        let rate = 1.1 * base * (1.0 + 0.15 * f64::from(self.p.condition_count())) / deprivation_factor(decile, 0.1);
        let years = f64::from(self.plan.end.days_since(self.plan.start)) / 365.0;
        let mut n = self.rng.poisson(rate * years);
        if self.p.has(clinical::Condition::Cancer) && self.rng.chance(0.3) {
            n += self.rng.poisson(3.0 * years);
        }
        for _ in 0..n {
            let span = self.alive_until().days_since(self.plan.start);
            if span <= 0 {
                return;
            }
            let adm = self.plan.start.add_days(self.rng.below(span as u64) as i32);
            self.elective_spell(adm);
        }
    }

    fn elective_spell(&mut self, adm: Date) {
        let age = self.age(adm);
        let cancer = self.p.has(clinical::Condition::Cancer);
        let weights: Vec<f64> = ELECTIVE
            .iter()
            .map(|pr| {
                let ok = (pr.min_age as i32..=pr.max_age as i32).contains(&age) && (pr.sex == 0 || pr.sex == self.p.sex);
                let chemo = pr.opcs == "X292";
                match (ok, chemo) {
                    (false, _) => 0.0,
                    (true, true) if !cancer => 0.0,
                    (true, true) => 40.0,
                    _ => pr.weight,
                }
            })
            .collect();
        if weights.iter().all(|w| *w == 0.0) {
            return;
        }
        let pr = &ELECTIVE[self.rng.weighted(&weights)];
        let day_case = self.rng.chance(pr.day_case);
        let los = if day_case { 0 } else { (self.rng.lognormal(2.5, 0.6).round() as i32).clamp(1, 30) };
        let wait = (self.rng.lognormal(60.0, 0.8) as i32).clamp(1, 700);
        let referral_gap = (self.rng.lognormal(35.0, 0.6) as i32).clamp(1, 300);
        let trust = if self.rng.chance(0.1) {
            let geo = self.plan.lookup.geo;
            geo.independents[self.rng.below(geo.independents.len() as u64) as usize]
        } else {
            self.pick_trust(adm, false)
        };
        let meth = if pr.opcs == "X292" { "13" } else { *self.rng.pick(&["11", "11", "11", "12", "12", "13"]) };
        let spell = SpellSpec {
            adm,
            dis: adm.add_days(los),
            admimeth: meth,
            admisorc: "19",
            disdest: "19",
            dismeth: "1",
            classpat: if day_case { "2" } else { "1" },
            intmanig: if day_case { "2" } else { "1" },
            primary: pr.diag,
            tretspef: pr.tretspef,
            hrg: pr.hrg,
            procs: std::slice::from_ref(&pr.opcs),
            trust,
            elective: Some((adm.add_days(-wait), adm.add_days(-wait - referral_gap))),
            epitype: "1",
            delayed: false,
        };
        self.write_spell(&spell);
    }

    fn maternity(&mut self) {
        let age = self.age(self.plan.start);
        if self.p.sex != 2 || !(16..=45).contains(&age) {
            return;
        }
        let years = f64::from(self.plan.end.days_since(self.plan.start)) / 365.0;
        let p = 0.058 * years * if (25..=39).contains(&age) { 1.4 } else { 0.5 };
        if !self.rng.chance(p) {
            return;
        }
        let span = self.alive_until().days_since(self.plan.start);
        if span <= 0 {
            return;
        }
        let adm = self.plan.start.add_days(self.rng.below(span as u64) as i32);
        let caesarean = self.rng.chance(0.35);
        let los = if caesarean { self.rng.range(2, 4) } else { self.rng.range(0, 2) } as i32;
        let trust = self.pick_trust(adm, false);
        let spell = SpellSpec {
            adm,
            dis: adm.add_days(los),
            admimeth: "31",
            admisorc: "19",
            disdest: "19",
            dismeth: "1",
            classpat: "1",
            intmanig: "1",
            primary: if caesarean { "O821" } else { "O800" },
            tretspef: "501",
            hrg: clinical::DELIVERY_HRG,
            procs: if caesarean { &["R182"] } else { &["R249"] },
            trust,
            elective: None,
            epitype: "2",
            delayed: false,
        };
        self.write_spell(&spell);
    }

    /// Writes a spell's episodes; returns the first episode's EPIKEY and
    /// whether the spell went to the focus ICB's flow.
    fn write_spell(&mut self, s: &SpellSpec<'_>) -> (u64, bool) {
        self.spell_seq += 1;
        let los = s.dis.days_since(s.adm);
        let n_eps = if los >= 2 && s.epitype == "1" && s.elective.is_none() {
            1 + usize::from(self.rng.chance(0.45)) + usize::from(self.rng.chance(0.12))
        } else {
            1
        };
        let cuts = episode_cuts(los, n_eps, self.rng);
        let geo = self.plan.lookup.geo;
        let trust = &geo.trusts[s.trust];
        let site = trust.sites[self.rng.below(trust.sites.len() as u64) as usize].as_str();
        let susspellid = 1_000_000_000_000_000_000 + self.p.idx * 1_000 + self.spell_seq;
        let provspno = format!("{}{:09}", trust.code, (self.p.idx * 37 + self.spell_seq) % 1_000_000_000);
        let ctx = self.place_ctx(s.adm, s.trust, site, s.tretspef);
        let is_local = self.is_local(&ctx, s.trust);
        let mut diags = self.secondary_diags(s.primary, s.adm);
        // The cause follows the injury (position 2) and is copied to CAUSE_4.
        let draw = (self.p.idx ^ (self.spell_seq << 40)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 16;
        let cause = clinical::injury_cause(s.primary, self.age(s.adm), draw);
        if let Some(c) = cause {
            diags.insert(1, c);
            diags.truncate(20);
        }
        let disready = if s.delayed {
            Some(s.dis.add_days(-(self.rng.range(1, i64::from(los.clamp(1, 14))) as i32)))
        } else if los >= 2 && self.rng.chance(0.55) {
            Some(s.dis)
        } else {
            None
        };
        let dis_known = (s.dis <= self.plan.end).then_some(s.dis);
        let mut first = 0;
        for e in 0..n_eps {
            self.episode_seq += 1;
            let epikey = self.p.idx * 1_000 + self.episode_seq;
            if e == 0 {
                first = epikey;
            }
            let last = e + 1 == n_eps;
            let (start, end) = (s.adm.add_days(cuts[e]), s.adm.add_days(cuts[e + 1]));
            if start > self.plan.end {
                break;
            }
            let tretspef = if e == 0 { s.tretspef } else if self.age(start) >= 75 { "430" } else { "300" };
            let start_age = self.start_age(start);
            let mut row = ApcRow {
                epikey,
                fyear: FYEARS.with(|f| f.get(start)),
                who: Who::default(),
                provspno: "",
                susrecid: 10_000_000_000_000 + epikey,
                susspellid,
                epiorder: e as u8 + 1,
                epitype: s.epitype,
                spelbgin: if e == 0 { "2" } else { "0" },
                last: last && dis_known.is_some(),
                admidate: Some(s.adm),
                epistart: Some(start),
                epiend: (end <= self.plan.end).then_some(end),
                disdate: if last { dis_known } else { None },
                elecdate: s.elective.map(|x| x.0),
                disreadydate: if last { disready } else { None },
                admimeth: s.admimeth,
                admisorc: s.admisorc,
                disdest: if last && dis_known.is_some() { s.disdest } else { "98" },
                dismeth: if last && dis_known.is_some() { s.dismeth } else { "8" },
                classpat: s.classpat,
                intmanig: s.intmanig,
                mainspef: tretspef,
                tretspef,
                diags: diags.clone(),
                cause: cause.unwrap_or(""),
                procs: if e == 0 { s.procs.to_vec() } else { Vec::new() },
                startage: start_age,
                sex: self.id.sex,
                ethnos: self.p.ethnos,
                place: ctx.place(),
                purcode: ctx.sub_icb_or_default(),
                sushrg: s.hrg,
                suscorehrg: s.hrg,
                rtt: s.elective.map(|x| (x.1, s.adm)),
            };
            let pseud = pseudonymise_spell(self.plan.token_key, &provspno);
            row.who = Who { token: &self.id.token, ..Who::default() };
            row.provspno = &pseud;
            let mut sink = self.out.row(Out::NationalApc);
            rows::apc(&mut sink, Variant::National, &row);
            sink.end();
            if is_local {
                let postcode = geo.postcode(self.p.lsoa_on(start), (self.p.idx % 5) as usize);
                row.who = Who { nhs: &self.id.nhs, dob: Some(self.p.dob), postcode: &postcode, token: "" };
                row.provspno = &provspno;
                let mut sink = self.out.row(Out::LocalApc);
                rows::apc(&mut sink, Variant::Identifiable, &row);
                sink.end();
            }
        }
        if is_local && dis_known.is_some() {
            let mut c = Candidate::apc(self.p, &ctx, susspellid, &provspno, s, los, trust.mff);
            // EBI list 1 as the validator classifies the spell's episodes
            // (haven_model's one rule): these lines need prior approval.
            let coded = rules::CodedAdmission {
                diagnoses: diags.clone(),
                procedures: s.procs.to_vec(),
                startage: u16::try_from(self.start_age(s.adm)).ok(),
                sex: Some(self.id.sex),
                admimeth: Some(s.admimeth),
                admisorc: Some(s.admisorc),
                epiorder: Some("01"),
                epistat: Some("3"),
                epitype: Some(s.epitype),
                classpat: Some(s.classpat),
                cause: None,
            };
            c.ebi = rules::ebi_intervention(&coded).is_some_and(|i| i.list() == 1);
            self.out.candidates.push(c);
        }
        (first, is_local)
    }

    fn start_age(&self, on: Date) -> i64 {
        let days = on.days_since(self.p.dob);
        if days < 365 {
            i64::from(AgeCode::from_days_old(days).code())
        } else {
            i64::from(self.age(on).min(120))
        }
    }

    fn secondary_diags(&mut self, primary: &'static str, on: Date) -> Vec<&'static str> {
        let mut v = vec![primary];
        for c in CONDITIONS {
            if self.p.has(c) && v.len() < 12 {
                let code = clinical::facts(c).icd10_secondary;
                if !v.contains(&code) {
                    v.push(code);
                }
            }
        }
        if self.age(on) >= 65 && self.p.deficits >= 4 {
            for code in FRAILTY_CODES.iter().take(usize::from(self.p.deficits / 2).min(FRAILTY_CODES.len())) {
                if self.rng.chance(0.5) && v.len() < 20 {
                    v.push(code);
                }
            }
        }
        v
    }

    fn place_ctx(&self, on: Date, trust: usize, site: &str, tretspef: &str) -> Ctx {
        let geo = self.plan.lookup.geo;
        let lsoa = self.p.lsoa_on(on);
        let practice = self.p.practice_on(on);
        let gpprac = practice.map_or("V81997".to_string(), |p| geo.practices[p].code.clone());
        let resp = responsible_commissioner(&gpprac, Some(&geo.lsoas[lsoa].code), &geo.trusts[trust].code, tretspef, on, self.plan.lookup);
        Ctx {
            gpprac,
            practice,
            lsoa,
            lsoa_code: geo.lsoas[lsoa].code.clone(),
            decile: geo.lsoas[lsoa].imd_decile,
            procode3: geo.trusts[trust].code.clone(),
            site: site.to_string(),
            resp,
        }
    }

    /// Does a record belong in the focus ICB's DSCRO flow? Registered with or
    /// resident in the ICB, treated by a provider it hosts, or (a small share)
    /// sent in error, so that minimisation has something to remove.
    fn is_local(&mut self, ctx: &Ctx, trust: usize) -> bool {
        let geo = self.plan.lookup.geo;
        let focus = self.plan.focus_icb;
        ctx.practice.is_some_and(|p| geo.practices[p].icb == focus)
            || geo.lsoas[ctx.lsoa].icb == focus
            || geo.trusts[trust].icb == focus
            || self.rng.chance(0.001)
    }

    fn critical_care(&mut self, epikey: u64, adm: Date, dis: Date, died: bool, local: bool) {
        let start = adm.add_days(i32::from(dis > adm && self.rng.chance(0.3)));
        let days = i64::from(dis.days_since(start).clamp(1, 10));
        let level3 = self.rng.range(0, days);
        let row = CcRow {
            susrecid: 10_000_000_000_000 + epikey,
            epikey,
            start: Some(start),
            end: Some(start.add_days(days as i32).min(dis)),
            died,
            level2: days - level3,
            level3,
            organs: self.rng.range(1, 4),
        };
        for out in [Out::NationalCc, Out::LocalCc] {
            // The local copy follows its admission into the focus ICB's flow.
            if out == Out::LocalCc && !local {
                continue;
            }
            let mut sink = self.out.row(out);
            rows::cc(&mut sink, &row);
            sink.end();
        }
    }
}

/// Frailty-related ICD-10 codes (all in the Hospital Frailty Risk Score list,
/// `shared/reference/codelists/hfrs.csv`).
const FRAILTY_CODES: [&str; 10] = ["R54X", "R296", "Z740", "E86X", "R268", "F059", "N394", "L899", "H549", "R410"];

/// Log relative emergency rate of an average person of this age.
fn base_log_risk(age: i32) -> f64 {
    let r: f64 = match age {
        0..=4 => 0.085,
        5..=14 => 0.028,
        15..=44 => 0.05,
        45..=64 => 0.07,
        65..=74 => 0.12,
        75..=84 => 0.22,
        _ => 0.4,
    };
    r.ln()
}

fn in_hospital_death_p(age: i32, p: &Person) -> f64 {
    let base: f64 = match age {
        ..=44 => 0.002,
        45..=64 => 0.008,
        65..=74 => 0.02,
        75..=84 => 0.045,
        _ => 0.085,
    };
    (base * (0.3 * (p.log_risk - base_log_risk(age))).exp()).min(0.4)
}

/// Episode boundaries (days after admission) splitting a stay of `los` days.
fn episode_cuts(los: i32, n: usize, rng: &mut Rng) -> Vec<i32> {
    let mut cuts = vec![0];
    for _ in 1..n {
        let prev = *cuts.last().unwrap();
        cuts.push((prev + rng.range(0, i64::from((los - prev).max(0))) as i32).min(los));
    }
    cuts.push(los);
    cuts
}

fn pseudonymise_spell(key: (u64, u64), provspno: &str) -> String {
    crate::rng::keyed_hex((key.1, key.0), &[provspno.as_bytes()])
}

/// What one spell looks like before it becomes episodes.
#[derive(Clone, Copy)]
pub struct SpellSpec<'s> {
    pub adm: Date,
    pub dis: Date,
    pub admimeth: &'static str,
    pub admisorc: &'static str,
    pub disdest: &'static str,
    pub dismeth: &'static str,
    pub classpat: &'static str,
    pub intmanig: &'static str,
    pub primary: &'static str,
    pub tretspef: &'static str,
    pub hrg: &'static str,
    pub procs: &'s [&'static str],
    pub trust: usize,
    /// (decision to admit, RTT clock start) for electives.
    pub elective: Option<(Date, Date)>,
    pub epitype: &'static str,
    pub delayed: bool,
}

/// Resolved place and responsibility of one record.
pub struct Ctx {
    pub gpprac: String,
    pub practice: Option<usize>,
    pub lsoa: usize,
    pub lsoa_code: String,
    pub decile: u8,
    pub procode3: String,
    pub site: String,
    pub resp: Responsibility,
}

impl Ctx {
    pub fn place(&self) -> Place<'_> {
        let (sub, origin, icb) = match &self.resp {
            Responsibility::SubIcb { sub_icb, icb, origin } => (sub_icb.as_str(), origin.code(), icb.as_str()),
            _ => ("", "9", ""),
        };
        Place {
            gpprac: &self.gpprac,
            procode3: &self.procode3,
            sitetret: &self.site,
            ccg_responsibility: sub,
            ccg_origin: origin,
            icb_responsibility: icb,
            lsoa: &self.lsoa_code,
            imd_decile: Some(i64::from(self.decile)),
        }
    }

    pub fn sub_icb_or_default(&self) -> &str {
        match &self.resp {
            Responsibility::SubIcb { sub_icb, .. } => sub_icb,
            // NHS England-commissioned or unknown: the provider records a
            // national commissioning code.
            _ => "13Q00",
        }
    }

    pub fn icb(&self) -> Option<&str> {
        self.resp.icb()
    }
}

/// Financial-year codes by date, cached per thread.
pub struct FyCache(std::cell::RefCell<Vec<(i32, &'static str)>>);

impl FyCache {
    pub fn get(&self, d: Date) -> &'static str {
        let fy = d.financial_year();
        let mut v = self.0.borrow_mut();
        if let Some((_, s)) = v.iter().find(|(y, _)| *y == fy) {
            return s;
        }
        let s: &'static str = Box::leak(haven_model::date::fyear_code(fy).into_boxed_str());
        v.push((fy, s));
        s
    }
}

thread_local! {
    pub static FYEARS: FyCache = const { FyCache(std::cell::RefCell::new(Vec::new())) };
}


/// Outpatients, emergency-department attendances and deaths.
impl Sim<'_, '_> {
    fn outpatients(&mut self) {
        let age = self.age(self.plan.start);
        let base = match age {
            ..=17 => 0.9,
            18..=39 => 1.3,
            40..=59 => 2.0,
            60..=74 => 3.1,
            _ => 3.7,
        };
        let years = f64::from(self.alive_until().days_since(self.plan.start).max(0)) / 365.0;
        let n = self.rng.poisson(base * (1.0 + 0.2 * f64::from(self.p.condition_count())) * years);
        for _ in 0..n {
            let span = self.alive_until().days_since(self.plan.start);
            let mut day = self.plan.start.add_days(self.rng.below(span.max(1) as u64) as i32);
            // Clinics run on weekdays.
            while day.weekday() >= 5 {
                day = day.add_days(1);
            }
            if day > self.plan.end {
                continue;
            }
            self.outpatient(day);
        }
    }

    fn outpatient(&mut self, day: Date) {
        let age = self.age(day);
        let decile = self.decile(day);
        // DNA about 7% nationally, higher in deprived areas and young adults
        // (ATTENDED codes per shared/reference/codelists/hes_op_attended.csv).
        let age_f = if (18..40).contains(&age) { 1.3 } else if age >= 75 { 0.8 } else { 1.0 };
        let p_dna = 0.068 * deprivation_factor(decile, 0.45) * age_f;
        let x = self.rng.f64();
        let attended = if x < p_dna * 0.9 {
            "3"
        } else if x < p_dna {
            "7"
        } else if x < p_dna + 0.05 {
            "2"
        } else if x < p_dna + 0.095 {
            "4"
        } else if self.rng.chance(0.03) {
            "6"
        } else {
            "5"
        };
        let firstatt = *self.rng.pick(&["1", "1", "1", "2", "2", "2", "2", "2", "2", "3", "4"]);
        let first = matches!(firstatt, "1" | "3");
        let tretspef = *self.rng.pick(&OP_TFCS);
        let trust = if self.rng.chance(0.05) { self.pick_trust(day, true) } else { self.pick_trust(day, false) };
        let geo = self.plan.lookup.geo;
        let site = geo.trusts[trust].sites[0].clone();
        let ctx = self.place_ctx(day, trust, &site, tretspef);
        let local = self.is_local(&ctx, trust);
        let seen = matches!(attended, "5" | "6");
        let (hrg, price) = if first { ("WF01B", 20_000) } else { ("WF01A", 10_000) };
        let tariff = seen.then_some(price);
        let mff = geo.trusts[trust].mff;
        let reqdate = day.add_days(-(self.rng.lognormal(45.0, 0.6) as i32).clamp(1, 400));
        self.other_seq += 1;
        let mut row = OpRow {
            attendkey: self.p.idx * 10_000 + self.other_seq,
            fyear: FYEARS.with(|f| f.get(day)),
            who: Who { token: &self.id.token, ..Who::default() },
            apptdate: Some(day),
            apptage: self.start_age(day),
            sex: self.id.sex,
            ethnos: self.p.ethnos,
            attended,
            firstatt,
            outcome: if seen { *self.rng.pick(&["1", "2", "2", "3"]) } else { "" },
            refsourc: if first { *self.rng.pick(&["03", "03", "03", "05", "10", "01"]) } else { "" },
            priority: *self.rng.pick(&["1", "1", "1", "1", "2", "3"]),
            reqdate: Some(reqdate),
            rtt_start: first.then_some(reqdate),
            rttperstat: if first { "10" } else { "20" },
            medium: if matches!(firstatt, "3" | "4") { "02" } else { "01" },
            tretspef,
            place: ctx.place(),
            sushrg: hrg,
            tariff,
            tariff_mff: tariff.map(|t| rules::pricing::round_pence(t as f64 * mff)),
        };
        let mut sink = self.out.row(Out::NationalOp);
        rows::op(&mut sink, Variant::National, &row);
        sink.end();
        if local {
            let postcode = geo.postcode(ctx.lsoa, (self.p.idx % 5) as usize);
            row.who = Who { nhs: &self.id.nhs, dob: Some(self.p.dob), postcode: &postcode, token: "" };
            let mut sink = self.out.row(Out::LocalOp);
            rows::op(&mut sink, Variant::Identifiable, &row);
            sink.end();
            if let Some(amount) = row.tariff_mff {
                self.out.candidates.push(Candidate::other(self.p, &ctx, "OP", row.attendkey, day, hrg, tretspef, firstatt, amount, mff));
            }
        }
    }

    fn emergency_department(&mut self) {
        let age = self.age(self.plan.start);
        let base: f64 = match age {
            0..=4 => 0.50,
            5..=14 => 0.26,
            15..=24 => 0.38,
            25..=64 => 0.27,
            65..=74 => 0.28,
            75..=84 => 0.40,
            _ => 0.65,
        };
        let rel = ((self.p.log_risk - base_log_risk(age)) * 0.5).exp();
        let decile = self.decile(self.plan.start);
        let years = f64::from(self.alive_until().days_since(self.plan.start).max(0)) / 365.0;
        let n = self.rng.poisson(1.2 * base * rel * deprivation_factor(decile, 0.3) * years);
        for _ in 0..n {
            let span = self.alive_until().days_since(self.plan.start).max(1);
            let day = self.plan.start.add_days(self.rng.below(span as u64) as i32);
            let trust = self.pick_trust(day, false);
            self.ed_attendance(day, None, trust);
        }
    }

    /// One ECDS attendance; `admitted_as` links the admission it led to.
    fn ed_attendance(&mut self, day: Date, admitted_as: Option<u64>, trust: usize) {
        let age = self.age(day);
        let admitted = admitted_as.is_some();
        let dept = if admitted { "01" } else { *self.rng.pick(&DEPT_TYPES) };
        let arrive = self.rng.weighted(&HOUR_WEIGHTS) as u32 * 60 + self.rng.below(60) as u32;
        let (median, sigma) = match (admitted, dept) {
            (true, _) => (330.0, 0.5),
            (false, "01") => (195.0, 0.55),
            _ => (80.0, 0.6),
        };
        let depart = (self.rng.lognormal(median, sigma) as u32).clamp(5, 2_880);
        let assess = (self.rng.lognormal(15.0, 0.5) as u32).min(depart);
        let seen = (assess + self.rng.lognormal(45.0, 0.7) as u32).min(depart);
        let dta = admitted.then(|| depart.saturating_sub(self.rng.range(30, 240) as u32).max(seen));
        let conclusion = depart.saturating_sub(self.rng.below(20) as u32).max(seen);
        let ambulance = self.rng.chance(if admitted { 0.55 } else if age >= 75 { 0.4 } else { 0.15 });
        let geo = self.plan.lookup.geo;
        let site = geo.trusts[trust].sites[0].clone();
        let ctx = self.place_ctx(day, trust, &site, "180");
        let local = self.is_local(&ctx, trust);
        let mff = geo.trusts[trust].mff;
        let hrg_n = if admitted { self.rng.range(1, 4) } else { self.rng.range(3, 11) };
        let hrg: &'static str = ECDS_HRGS[hrg_n as usize - 1];
        let tariff = 40_000 - 2_500 * hrg_n;
        self.other_seq += 1;
        let destination = if admitted {
            "306706006"
        } else {
            *self.rng.pick(&["306689006", "306689006", "306689006", "306689006", "306689006", "306689006", "306691003", "19712007", "1066341000000100"])
        };
        let mut row = EcdsRow {
            ec_ident: self.p.idx * 10_000 + self.other_seq,
            fyear: FYEARS.with(|f| f.get(day)),
            who: Who { token: &self.id.token, ..Who::default() },
            dept_type: dept,
            category: "1",
            arrival: Some((day, arrive)),
            arrival_mode: if ambulance { "1048031000000100" } else { "1048071000000103" },
            source: "1077781000000101",
            complaint: *self.rng.pick(&["29857009", "21522001", "267036007", "22253000", "248062006"]),
            acuity: *self.rng.pick(&["1077251000000100", "1077241000000103", "1064911000000104", "1064901000000101"]),
            clocks: [Some(assess), Some(seen), dta, Some(conclusion), Some(depart)],
            diagnosis: *self.rng.pick(&clinical::ECDS_DIAGNOSES),
            destination,
            status: if admitted { "306706006" } else { "3780001" },
            follow_up: if admitted { "" } else { "989501000000106" },
            age: i64::from(age.clamp(0, 120)),
            sex: self.id.sex,
            ethnos: self.p.ethnos,
            place: ctx.place(),
            hrg,
            tariff: Some(tariff),
            final_price: Some(rules::pricing::round_pence(tariff as f64 * mff)),
            mff: Some(mff),
            epikey: admitted_as,
            admitted,
            ambulance,
        };
        let mut sink = self.out.row(Out::NationalEcds);
        rows::ecds(&mut sink, Variant::National, &row);
        sink.end();
        if local {
            let postcode = geo.postcode(ctx.lsoa, (self.p.idx % 5) as usize);
            row.who = Who { nhs: &self.id.nhs, dob: Some(self.p.dob), postcode: &postcode, token: "" };
            let mut sink = self.out.row(Out::LocalEcds);
            rows::ecds(&mut sink, Variant::Identifiable, &row);
            sink.end();
            let amount = row.final_price.unwrap_or(0);
            self.out.candidates.push(Candidate::other(self.p, &ctx, "ECDS", row.ec_ident, day, hrg, "180", "", amount, mff));
        }
    }

    fn write_death(&mut self) {
        let Some(dod) = self.death.filter(|d| *d <= self.plan.end) else { return };
        let geo = self.plan.lookup.geo;
        let lsoa = self.p.lsoa_on(dod);
        let practice = self.p.practice_on(dod);
        let place = if self.died_in_hospital {
            "HOSPITAL"
        } else if self.in_care_home {
            "CARE_HOME"
        } else if self.rng.chance(0.1) {
            "HOSPICE"
        } else {
            "HOME"
        };
        let cause = CONDITIONS
            .iter()
            .filter(|c| self.p.has(**c))
            .map(|c| clinical::facts(*c).icd10_secondary)
            .find(|code| !code.starts_with('Z'))
            .unwrap_or("R99X");
        let practice_code = practice.map_or("", |p| geo.practices[p].code.as_str());
        let sub_icb = geo.sub_icbs[geo.lsoas[lsoa].sub_icb].code.as_str();
        let pod = match place {
            "HOME" => "H",
            "HOSPICE" => "E",
            _ => "00001",
        };
        let mut row = DeathRow {
            who: Who { token: &self.id.token, ..Who::default() },
            dod: Some(dod),
            registered: Some(dod.add_days(self.rng.range(1, 10) as i32)),
            sex: self.id.sex,
            age: i64::from(self.age(dod)),
            cause,
            place,
            pod_code: pod,
            practice: practice_code,
            lsoa: &geo.lsoas[lsoa].code,
            sub_icb,
        };
        let mut sink = self.out.row(Out::NationalDeath);
        rows::death(&mut sink, Variant::National, &row);
        sink.end();
        let focus = self.plan.focus_icb;
        if geo.lsoas[lsoa].icb == focus || practice.is_some_and(|p| geo.practices[p].icb == focus) {
            let postcode = geo.postcode(lsoa, (self.p.idx % 5) as usize);
            row.who = Who { nhs: &self.id.nhs, dob: Some(self.p.dob), postcode: &postcode, token: "" };
            let mut sink = self.out.row(Out::LocalDeath);
            rows::death(&mut sink, Variant::Identifiable, &row);
            sink.end();
        }
    }
}

const OP_TFCS: [&str; 16] =
    ["100", "101", "110", "120", "130", "300", "301", "320", "330", "340", "361", "400", "410", "420", "502", "800"];
const DEPT_TYPES: [&str; 10] = ["01", "01", "01", "01", "01", "01", "03", "03", "03", "02"];
const ECDS_HRGS: [&str; 11] =
    ["VB01Z", "VB02Z", "VB03Z", "VB04Z", "VB05Z", "VB06Z", "VB07Z", "VB08Z", "VB09Z", "VB10Z", "VB11Z"];

/// Arrivals by hour of day: quiet overnight, busiest late morning to evening.
const HOUR_WEIGHTS: [f64; 24] = [1.0, 0.8, 0.6, 0.5, 0.4, 0.4, 0.5, 0.8, 1.5, 2.2, 2.5, 2.5, 2.4, 2.3, 2.2, 2.1, 2.1, 2.1, 2.0, 1.9, 1.8, 1.6, 1.4, 1.2];
