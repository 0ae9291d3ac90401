//! Synthetic geography and organisations of England.
//!
//! The 42 ICBs carry their published ODS codes and names (NHS England, 2022
//! establishment; ONS `E54` codes best effort) with approximate populations
//! and a deprivation, age and diversity profile so that places differ the way
//! they do in England. Everything below ICB level — sub-ICB locations, PCNs,
//! ~6,300 practices, ~34,000 LSOAs, ~150 acute trusts with sites, independent
//! providers, postcodes — is synthetic but has the real code shapes
//! (datasets.md §8.2). Sub-ICB `93C` (North Central London) and `36L` (South
//! West London) keep their real codes because the reference text uses them.
//!
//! Geography is built at full size whatever the scale: only people are
//! sampled, so reference tables and referential integrity look the same in
//! tests as in production.

use crate::rng::{Cumulative, Rng};

/// Static profile of one ICB.
pub struct IcbProfile {
    pub code: &'static str,
    pub ons: &'static str,
    pub name: &'static str,
    pub region: &'static str,
    /// Approximate resident population, thousands.
    pub pop_k: u32,
    /// Deprivation relative to England (positive = more deprived).
    pub deprivation: f64,
    /// Years older (+) or younger (−) than England's age structure.
    pub age_shift: f64,
    /// Multiplier on the share of people not White British.
    pub diversity: f64,
}

macro_rules! icb {
    ($code:literal, $ons:literal, $name:literal, $region:literal, $pop:literal, $dep:literal, $age:literal, $div:literal) => {
        IcbProfile { code: $code, ons: $ons, name: $name, region: $region, pop_k: $pop, deprivation: $dep, age_shift: $age, diversity: $div }
    };
}

/// The 42 ICBs, grouped by NHS England region so that list neighbours are
/// geographic neighbours (used for cross-border care and moves).
pub const ICBS: [IcbProfile; 42] = [
    icb!("QMJ", "E54000028", "NHS North Central London ICB", "Y56", 1550, 0.2, -4.0, 3.2),
    icb!("QMF", "E54000029", "NHS North East London ICB", "Y56", 2200, 0.7, -7.0, 4.0),
    icb!("QKK", "E54000030", "NHS South East London ICB", "Y56", 1950, 0.3, -5.0, 3.0),
    icb!("QWE", "E54000031", "NHS South West London ICB", "Y56", 1550, -0.4, -4.0, 2.6),
    icb!("QRV", "E54000027", "NHS North West London ICB", "Y56", 2100, 0.1, -4.0, 4.0),
    icb!("QT6", "E54000036", "NHS Cornwall and the Isles of Scilly ICB", "Y58", 580, 0.2, 5.0, 0.2),
    icb!("QJK", "E54000037", "NHS Devon ICB", "Y58", 1250, -0.2, 4.0, 0.3),
    icb!("QSL", "E54000038", "NHS Somerset ICB", "Y58", 580, -0.1, 5.0, 0.3),
    icb!("QVV", "E54000041", "NHS Dorset ICB", "Y58", 800, -0.3, 6.0, 0.3),
    icb!("QOX", "E54000040", "NHS Bath and North East Somerset, Swindon and Wiltshire ICB", "Y58", 950, -0.5, 1.0, 0.5),
    icb!("QUY", "E54000039", "NHS Bristol, North Somerset and South Gloucestershire ICB", "Y58", 1000, -0.2, -2.0, 0.9),
    icb!("QR1", "E54000043", "NHS Gloucestershire ICB", "Y58", 650, -0.6, 2.0, 0.5),
    icb!("QRL", "E54000042", "NHS Hampshire and Isle of Wight ICB", "Y59", 1850, -0.5, 2.0, 0.6),
    icb!("QNQ", "E54000034", "NHS Frimley ICB", "Y59", 800, -0.7, 0.0, 1.3),
    icb!("QXU", "E54000063", "NHS Surrey Heartlands ICB", "Y59", 1100, -1.0, 1.0, 0.9),
    icb!("QNX", "E54000064", "NHS Sussex ICB", "Y59", 1750, -0.3, 3.0, 0.7),
    icb!("QKS", "E54000032", "NHS Kent and Medway ICB", "Y59", 1900, 0.0, 1.0, 0.8),
    icb!("QU9", "E54000044", "NHS Buckinghamshire, Oxfordshire and Berkshire West ICB", "Y59", 1900, -0.8, 0.0, 1.1),
    icb!("QHG", "E54000024", "NHS Bedfordshire, Luton and Milton Keynes ICB", "Y61", 1000, 0.0, -2.0, 1.8),
    icb!("QM7", "E54000025", "NHS Hertfordshire and West Essex ICB", "Y61", 1600, -0.7, 0.0, 1.2),
    icb!("QH8", "E54000026", "NHS Mid and South Essex ICB", "Y61", 1250, 0.0, 1.0, 0.7),
    icb!("QJG", "E54000023", "NHS Suffolk and North East Essex ICB", "Y61", 1050, -0.1, 3.0, 0.6),
    icb!("QMM", "E54000022", "NHS Norfolk and Waveney ICB", "Y61", 1100, 0.1, 4.0, 0.5),
    icb!("QUE", "E54000056", "NHS Cambridgeshire and Peterborough ICB", "Y61", 950, -0.3, -1.0, 1.0),
    icb!("QPM", "E54000059", "NHS Northamptonshire ICB", "Y60", 800, 0.0, 0.0, 0.9),
    icb!("QK1", "E54000015", "NHS Leicester, Leicestershire and Rutland ICB", "Y60", 1150, 0.2, -1.0, 2.2),
    icb!("QJM", "E54000013", "NHS Lincolnshire ICB", "Y60", 780, 0.3, 4.0, 0.4),
    icb!("QT1", "E54000060", "NHS Nottingham and Nottinghamshire ICB", "Y60", 1100, 0.4, 0.0, 0.9),
    icb!("QJ2", "E54000058", "NHS Derby and Derbyshire ICB", "Y60", 1050, 0.1, 1.0, 0.6),
    icb!("QNC", "E54000010", "NHS Staffordshire and Stoke-on-Trent ICB", "Y60", 1150, 0.4, 1.0, 0.6),
    icb!("QOC", "E54000011", "NHS Shropshire, Telford and Wrekin ICB", "Y60", 520, 0.0, 3.0, 0.4),
    icb!("QGH", "E54000019", "NHS Herefordshire and Worcestershire ICB", "Y60", 800, -0.3, 3.0, 0.4),
    icb!("QWU", "E54000018", "NHS Coventry and Warwickshire ICB", "Y60", 1000, -0.1, 0.0, 1.2),
    icb!("QHL", "E54000055", "NHS Birmingham and Solihull ICB", "Y60", 1300, 1.0, -3.0, 2.8),
    icb!("QUA", "E54000062", "NHS Black Country ICB", "Y60", 1250, 1.0, 0.0, 1.8),
    icb!("QYG", "E54000008", "NHS Cheshire and Merseyside ICB", "Y62", 2700, 0.8, 1.0, 0.6),
    icb!("QOP", "E54000057", "NHS Greater Manchester ICB", "Y62", 2900, 0.9, -1.0, 1.4),
    icb!("QE1", "E54000048", "NHS Lancashire and South Cumbria ICB", "Y62", 1800, 0.6, 1.0, 0.8),
    icb!("QHM", "E54000050", "NHS North East and North Cumbria ICB", "Y63", 3100, 0.9, 1.0, 0.4),
    icb!("QOQ", "E54000051", "NHS Humber and North Yorkshire ICB", "Y63", 1750, 0.4, 2.0, 0.4),
    icb!("QWO", "E54000054", "NHS West Yorkshire ICB", "Y63", 2450, 0.6, -1.0, 1.5),
    icb!("QF7", "E54000061", "NHS South Yorkshire ICB", "Y63", 1450, 0.8, 0.0, 0.8),
];

/// NHS England regions (ODS `Y` code, ONS code, name).
pub const REGIONS: [(&str, &str, &str); 7] = [
    ("Y56", "E40000003", "London"),
    ("Y58", "E40000006", "South West"),
    ("Y59", "E40000005", "South East"),
    ("Y60", "E40000011", "Midlands"),
    ("Y61", "E40000007", "East of England"),
    ("Y62", "E40000010", "North West"),
    ("Y63", "E40000012", "North East and Yorkshire"),
];

/// Parent code of Defence Medical Services practices (datasets.md §8.2).
pub const ARMED_FORCES_PARENT: &str = "13Q";

pub struct SubIcb {
    pub code: String,
    pub icb: usize,
    pub name: String,
}

pub struct Pcn {
    pub code: String,
    pub sub_icb: usize,
}

pub struct Practice {
    pub code: String,
    pub icb: usize,
    pub sub_icb: usize,
    pub pcn: usize,
    /// Nominal (full-scale) registered list.
    pub list_size: u32,
    /// Defence Medical Services practice (parent `13Q`, NHS England commissions).
    pub armed_forces: bool,
}

pub struct Lsoa {
    pub code: String,
    pub icb: usize,
    pub sub_icb: usize,
    pub lad: String,
    pub imd_decile: u8,
    pub imd_rank: u32,
}

pub struct Trust {
    pub code: String,
    pub name: String,
    pub icb: usize,
    pub sites: Vec<String>,
    /// Relative size (share of its ICB's activity).
    pub weight: f64,
    pub independent: bool,
    /// Market forces factor, payment index (rebased so the minimum is 1.00).
    pub mff: f64,
}

/// The whole of synthetic England's organisations and places.
pub struct Geography {
    pub sub_icbs: Vec<SubIcb>,
    pub pcns: Vec<Pcn>,
    pub practices: Vec<Practice>,
    pub lsoas: Vec<Lsoa>,
    pub trusts: Vec<Trust>,
    /// Per ICB: index ranges into `practices` and `lsoas`.
    pub icb_practices: Vec<std::ops::Range<usize>>,
    pub icb_lsoas: Vec<std::ops::Range<usize>>,
    /// Per ICB: its NHS trusts (indices) and a sampler weighted by size.
    pub icb_trusts: Vec<Vec<usize>>,
    icb_trust_pick: Vec<Cumulative>,
    /// Independent-sector providers (indices into `trusts`).
    pub independents: Vec<usize>,
    /// Per ICB: practices weighted by list size, for registration.
    icb_practice_pick: Vec<Cumulative>,
}

/// Average people per LSOA in England (≈ 57M / 33,755).
const PEOPLE_PER_LSOA: u32 = 1_700;
/// Practices in England (NHS Digital, ≈ 6,300 in 2024).
const PRACTICES: u32 = 6_300;

impl Geography {
    /// Builds the organisations for `seed`. Only the IMD noise and list sizes
    /// are random; codes depend on nothing but the ICB list.
    pub fn build(seed: u64) -> Geography {
        let mut rng = Rng::stream(seed, &[0x6E0]);
        let total_pop: u32 = ICBS.iter().map(|i| i.pop_k).sum();
        let mut g = Geography {
            sub_icbs: Vec::new(),
            pcns: Vec::new(),
            practices: Vec::new(),
            lsoas: Vec::new(),
            trusts: Vec::new(),
            icb_practices: Vec::new(),
            icb_lsoas: Vec::new(),
            icb_trusts: Vec::new(),
            icb_trust_pick: Vec::new(),
            independents: Vec::new(),
            icb_practice_pick: Vec::new(),
        };
        let mut sub_code = SubIcbCodes::default();
        let mut trust_codes = TrustCodes::default();
        let mut scores = Vec::new();
        for (i, icb) in ICBS.iter().enumerate() {
            let n_sub = ((icb.pop_k as f64 / 550.0).round() as usize).clamp(1, 7);
            let first_sub = g.sub_icbs.len();
            for s in 0..n_sub {
                let code = match (icb.code, s) {
                    ("QMJ", 0) => "93C".to_string(),
                    ("QWE", 0) => "36L".to_string(),
                    _ => sub_code.next(),
                };
                let name = format!("{} - {}", icb.name, code);
                g.sub_icbs.push(SubIcb { code, icb: i, name });
            }
            g.add_lsoas(i, first_sub, n_sub, &mut scores, &mut rng);
            g.add_practices(i, first_sub, n_sub, total_pop, &mut rng);
            g.add_trusts(i, &mut trust_codes, &mut rng);
        }
        g.add_independents(&mut trust_codes, &mut rng);
        g.add_armed_forces_practices();
        g.assign_imd_deciles(&scores);
        g
    }

    fn add_lsoas(&mut self, icb: usize, first_sub: usize, n_sub: usize, scores: &mut Vec<f64>, rng: &mut Rng) {
        let n = (ICBS[icb].pop_k * 1000 / PEOPLE_PER_LSOA) as usize;
        let start = self.lsoas.len();
        let n_lad = (n / 900).max(1);
        for k in 0..n {
            let code = format!("E01{:06}", start + k + 1);
            let sub_icb = first_sub + k * n_sub / n;
            let lad = format!("E0{}{:06}", 6 + (icb % 4), icb * 20 + k * n_lad / n + 1);
            // Deprivation score: the ICB's level plus local variation, ranked
            // into national deciles once every LSOA exists.
            scores.push(ICBS[icb].deprivation + 0.9 * rng.normal());
            self.lsoas.push(Lsoa { code, icb, sub_icb, lad, imd_decile: 0, imd_rank: 0 });
        }
        self.icb_lsoas.push(start..self.lsoas.len());
    }

    fn add_practices(&mut self, icb: usize, first_sub: usize, n_sub: usize, total_pop: u32, rng: &mut Rng) {
        let pop = ICBS[icb].pop_k;
        let n = ((f64::from(PRACTICES) * f64::from(pop) / f64::from(total_pop)).round() as usize).max(1);
        let start = self.practices.len();
        let mut sizes: Vec<f64> = (0..n).map(|_| rng.lognormal(8_000.0, 0.5)).collect();
        let scale = f64::from(pop) * 1000.0 / sizes.iter().sum::<f64>();
        sizes.iter_mut().for_each(|s| *s *= scale);
        let letter = PRACTICE_LETTERS[icb % PRACTICE_LETTERS.len()];
        let mut prev_sub = usize::MAX;
        for (k, size) in sizes.iter().enumerate() {
            let sub_icb = first_sub + k * n_sub / n;
            // About five practices per PCN, never crossing a sub-ICB boundary.
            if k % 5 == 0 || sub_icb != prev_sub {
                self.pcns.push(Pcn { code: format!("U{:05}", 10_001 + self.pcns.len()), sub_icb });
            }
            prev_sub = sub_icb;
            let code = format!("{letter}{:05}", 81_001 + (icb / PRACTICE_LETTERS.len()) * 1_000 + k);
            self.practices.push(Practice {
                code,
                icb,
                sub_icb,
                pcn: self.pcns.len() - 1,
                list_size: size.round() as u32,
                armed_forces: false,
            });
        }
        self.icb_practices.push(start..self.practices.len());
        self.icb_practice_pick.push(Cumulative::new(sizes));
    }

    fn add_trusts(&mut self, icb: usize, codes: &mut TrustCodes, rng: &mut Rng) {
        let n = ((ICBS[icb].pop_k as f64 / 400.0).round() as usize).max(1);
        let london = ICBS[icb].region == "Y56";
        let mut mine = Vec::new();
        for k in 0..n {
            let code = codes.next_nhs();
            let n_sites = 1 + rng.below(3) as usize;
            let sites = (1..=n_sites).map(|s| format!("{code}{s:02}")).collect();
            let mff = if london { 1.15 + 0.08 * rng.f64() } else { 1.00 + 0.08 * rng.f64() };
            mine.push(self.trusts.len());
            self.trusts.push(Trust {
                name: format!("Synthetic {} Hospitals NHS Trust {}", short_name(ICBS[icb].name), k + 1),
                code,
                icb,
                sites,
                weight: 0.5 + rng.f64(),
                independent: false,
                mff: (mff * 100_000.0).round() / 100_000.0,
            });
        }
        self.icb_trust_pick.push(Cumulative::new(mine.iter().map(|&t| self.trusts[t].weight)));
        self.icb_trusts.push(mine);
    }

    fn add_independents(&mut self, codes: &mut TrustCodes, rng: &mut Rng) {
        for k in 0..20 {
            let code = codes.next_independent();
            let icb = (k * 7 + 3) % ICBS.len();
            self.independents.push(self.trusts.len());
            self.trusts.push(Trust {
                sites: vec![format!("{code}01")],
                name: format!("Synthetic Independent Treatment Centre {}", k + 1),
                code,
                icb,
                weight: 1.0,
                independent: true,
                mff: 1.0 + (0.05 * rng.f64() * 100_000.0).round() / 100_000.0,
            });
        }
    }

    /// A few Defence Medical Services practices (parent 13Q), outside every
    /// ICB's population: NHS England commissions their patients' care.
    fn add_armed_forces_practices(&mut self) {
        for k in 0..7 {
            let icb = k * 6;
            let sub_icb = self.lsoas[self.icb_lsoas[icb].start].sub_icb;
            let pcn = self.practices[self.icb_practices[icb].start].pcn;
            self.practices.push(Practice {
                code: format!("M{:05}", 99_001 + k),
                icb,
                sub_icb,
                pcn,
                list_size: 900,
                armed_forces: true,
            });
        }
    }

    fn assign_imd_deciles(&mut self, scores: &[f64]) {
        let mut order: Vec<usize> = (0..self.lsoas.len()).collect();
        // Rank 1 = most deprived (highest score), as in the English IMD.
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let n = order.len();
        for (rank, &i) in order.iter().enumerate() {
            self.lsoas[i].imd_rank = rank as u32 + 1;
            self.lsoas[i].imd_decile = (1 + rank * 10 / n) as u8;
        }
    }

    /// A practice for someone living in LSOA `lsoa`: practices near it in the
    /// ICB's ordering, so that practice populations differ in deprivation.
    pub fn practice_near(&self, lsoa: usize, rng: &mut Rng) -> usize {
        let icb = self.lsoas[lsoa].icb;
        let lr = &self.icb_lsoas[icb];
        let pr = &self.icb_practices[icb];
        let pos = (lsoa - lr.start) as f64 / lr.len() as f64;
        let centre = (pos * pr.len() as f64) as i64 + rng.range(-3, 3);
        let k = centre.clamp(0, pr.len() as i64 - 1) as usize;
        // Within the neighbourhood, larger lists attract more people.
        if rng.chance(0.3) {
            pr.start + self.icb_practice_pick[icb].sample(rng)
        } else {
            pr.start + k
        }
    }

    /// A random LSOA in an ICB.
    pub fn lsoa_in(&self, icb: usize, rng: &mut Rng) -> usize {
        let r = &self.icb_lsoas[icb];
        r.start + rng.below(r.len() as u64) as usize
    }

    /// An NHS trust of the ICB, weighted by size.
    pub fn trust_in(&self, icb: usize, rng: &mut Rng) -> usize {
        self.icb_trusts[icb][self.icb_trust_pick[icb].sample(rng)]
    }

    /// A neighbouring ICB in the same region (or itself where alone).
    pub fn neighbour(&self, icb: usize, rng: &mut Rng) -> usize {
        let region = ICBS[icb].region;
        let candidates: Vec<usize> = [icb.wrapping_sub(1), icb + 1]
            .into_iter()
            .filter(|&j| j < ICBS.len() && ICBS[j].region == region)
            .collect();
        if candidates.is_empty() {
            icb
        } else {
            *rng.pick(&candidates)
        }
    }

    /// The synthetic postcodes of an LSOA (five per LSOA).
    pub fn postcode(&self, lsoa: usize, k: usize) -> String {
        let icb = self.lsoas[lsoa].icb;
        let local = lsoa - self.icb_lsoas[icb].start;
        // Areas "Z?" and "Q?" are not used by real postcodes (ZE aside, skipped),
        // so a synthetic postcode can never be mistaken for a real address.
        let area = AREAS[icb];
        let district = 1 + local / 40;
        let sector = local / 4 % 10;
        let unit = (local % 4) * 5 + k;
        let u1 = UNIT_LETTERS[unit / UNIT_LETTERS.len() % UNIT_LETTERS.len()];
        let u2 = UNIT_LETTERS[unit % UNIT_LETTERS.len()];
        format!("{area}{district} {sector}{u1}{u2}")
    }

    pub const POSTCODES_PER_LSOA: usize = 5;

    pub fn trust_by_code(&self, code: &str) -> Option<usize> {
        self.trusts.iter().position(|t| t.code == code)
    }
}

const PRACTICE_LETTERS: [char; 16] = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P', 'Y', 'W'];
const UNIT_LETTERS: [char; 20] = ['A', 'B', 'D', 'E', 'F', 'G', 'H', 'J', 'L', 'N', 'P', 'Q', 'R', 'S', 'T', 'U', 'W', 'X', 'Y', 'Z'];
const AREAS: [&str; 42] = [
    "ZA", "ZB", "ZC", "ZD", "ZF", "ZG", "ZH", "ZJ", "ZK", "ZL", "ZM", "ZN", "ZP", "ZQ", "ZR", "ZS", "ZT", "ZU", "ZV", "ZW",
    "ZX", "ZY", "ZZ", "QA", "QB", "QC", "QD", "QE", "QF", "QG", "QH", "QJ", "QK", "QL", "QM", "QN", "QP", "QR", "QS", "QT",
    "QU", "QW",
];

fn short_name(icb_name: &str) -> &str {
    icb_name.trim_start_matches("NHS ").trim_end_matches(" ICB")
}

/// Sequential synthetic sub-ICB codes of the 3-character shape `NNL`.
#[derive(Default)]
struct SubIcbCodes(usize);

impl SubIcbCodes {
    fn next(&mut self) -> String {
        loop {
            let n = self.0;
            self.0 += 1;
            let code = format!("{:02}{}", 10 + n / 20, ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'M', 'N', 'P', 'Q', 'R', 'T', 'V', 'W', 'X', 'Y'][n % 20]);
            if code != "93C" && code != "36L" {
                return code;
            }
        }
    }
}

/// Synthetic trust codes: `R` + two characters; independent providers `N` + two.
#[derive(Default)]
struct TrustCodes(usize, usize);

const CODE_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXY";

impl TrustCodes {
    fn next_nhs(&mut self) -> String {
        let n = self.0 + 40;
        self.0 += 1;
        format!("R{}{}", CODE_CHARS[n / CODE_CHARS.len() % CODE_CHARS.len()] as char, CODE_CHARS[n % CODE_CHARS.len()] as char)
    }

    fn next_independent(&mut self) -> String {
        let n = self.1 + 300;
        self.1 += 1;
        format!("N{}{}", CODE_CHARS[n / CODE_CHARS.len() % CODE_CHARS.len()] as char, CODE_CHARS[n % CODE_CHARS.len()] as char)
    }
}
