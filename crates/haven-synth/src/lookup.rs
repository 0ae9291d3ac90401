//! Code-to-index maps over the synthetic geography, and the `OrgLookup`
//! implementation that lets the generator call haven-model's single
//! responsible-commissioner rule.

use std::collections::HashMap;

use haven_model::rules::OrgLookup;
use haven_model::Date;

use crate::geography::{Geography, ICBS};

pub struct Lookup<'g> {
    pub geo: &'g Geography,
    practices: HashMap<&'g str, usize>,
    lsoas: HashMap<&'g str, usize>,
    trusts: HashMap<&'g str, usize>,
    sub_icbs: HashMap<&'g str, usize>,
}

impl<'g> Lookup<'g> {
    pub fn new(geo: &'g Geography) -> Self {
        Lookup {
            geo,
            practices: geo.practices.iter().enumerate().map(|(i, p)| (p.code.as_str(), i)).collect(),
            lsoas: geo.lsoas.iter().enumerate().map(|(i, l)| (l.code.as_str(), i)).collect(),
            trusts: geo.trusts.iter().enumerate().map(|(i, t)| (t.code.as_str(), i)).collect(),
            sub_icbs: geo.sub_icbs.iter().enumerate().map(|(i, s)| (s.code.as_str(), i)).collect(),
        }
    }

    pub fn practice(&self, code: &str) -> Option<usize> {
        self.practices.get(code).copied()
    }
    pub fn lsoa(&self, code: &str) -> Option<usize> {
        self.lsoas.get(code).copied()
    }
    pub fn trust(&self, code: &str) -> Option<usize> {
        self.trusts.get(code).copied()
    }

    /// The sub-ICB hosting a trust: the first sub-ICB of its ICB.
    fn host_sub_icb(&self, trust: usize) -> usize {
        let icb = self.geo.trusts[trust].icb;
        self.geo.lsoas[self.geo.icb_lsoas[icb].start].sub_icb
    }
}

impl OrgLookup for Lookup<'_> {
    fn practice_sub_icb(&self, practice: &str, _on: Date) -> Option<&str> {
        // Synthetic practices never change sub-ICB; people change practice.
        self.practice(practice).map(|p| self.geo.sub_icbs[self.geo.practices[p].sub_icb].code.as_str())
    }
    fn practice_parent_is_armed_forces(&self, practice: &str) -> bool {
        self.practice(practice).is_some_and(|p| self.geo.practices[p].armed_forces)
    }
    fn practice_is_health_and_justice(&self, _practice: &str) -> bool {
        false
    }
    fn lsoa_sub_icb(&self, lsoa: &str) -> Option<&str> {
        self.lsoa(lsoa).map(|l| self.geo.sub_icbs[self.geo.lsoas[l].sub_icb].code.as_str())
    }
    fn provider_host_sub_icb(&self, procode3: &str) -> Option<&str> {
        self.trust(procode3).map(|t| self.geo.sub_icbs[self.host_sub_icb(t)].code.as_str())
    }
    fn sub_icb_icb(&self, sub_icb: &str) -> Option<&str> {
        self.sub_icbs.get(sub_icb).map(|&s| ICBS[self.geo.sub_icbs[s].icb].code)
    }
}
