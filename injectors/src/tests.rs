//! Host tests of the decision logic, against a machine simulated in memory
//! (a test seam: the real one is the kernel's).

use std::collections::{BTreeMap, BTreeSet};

use crate::*;

/// Linear memory, text and registers in plain vectors.
struct SimulatedMachine {
    memory: Vec<u8>,
    text: Vec<u8>,
    revoked: BTreeSet<u64>,
    registers: BTreeMap<&'static str, u64>,
    in_interrupt: bool,
}

impl SimulatedMachine {
    fn new() -> Self {
        SimulatedMachine {
            memory: (0..4 * 4096).map(|i| (i % 251) as u8).collect(),
            text: (0..256).map(|i| i as u8).collect(),
            revoked: BTreeSet::new(),
            registers: BTreeMap::new(),
            in_interrupt: true,
        }
    }
    fn range(&self, offset: u64, len: usize) -> Result<core::ops::Range<usize>, Refused> {
        let start = offset as usize;
        if start + len > self.memory.len() {
            return Err(Refused("outside linear memory"));
        }
        if self.revoked.contains(&(offset & !4095)) {
            return Err(Refused("page revoked"));
        }
        Ok(start..start + len)
    }
}

impl Machine for SimulatedMachine {
    fn revoke_page(&mut self, offset: u64) -> Result<(), Refused> {
        assert_eq!(
            offset % 4096,
            0,
            "pages are revoked by their aligned offset"
        );
        self.revoked.insert(offset);
        Ok(())
    }
    fn restore_page(&mut self, offset: u64) {
        self.revoked.remove(&offset);
    }
    fn patch_code(&mut self, offset: u64, bytes: &[u8], old: &mut [u8]) -> Result<(), Refused> {
        let at = offset as usize;
        old.copy_from_slice(&self.text[at..at + bytes.len()]);
        self.text[at..at + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }
    fn read_memory(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Refused> {
        let r = self.range(offset, buf.len())?;
        buf.copy_from_slice(&self.memory[r]);
        Ok(())
    }
    fn write_memory(&mut self, offset: u64, bytes: &[u8]) -> Result<(), Refused> {
        let r = self.range(offset, bytes.len())?;
        self.memory[r].copy_from_slice(bytes);
        Ok(())
    }
    fn flip_register(&mut self, register: Register, bit: u8) -> Result<(), Refused> {
        if !self.in_interrupt {
            return Err(Refused("no interrupted context"));
        }
        *self.registers.entry(register.name()).or_insert(0) ^= 1 << bit;
        Ok(())
    }
}

const PAGES: [u64; 3] = [0x0, 0x1000, 0x3000];
const CODE: [u64; 4] = [0x10, 0x14, 0x40, 0x80];

fn facts() -> TargetFacts<'static> {
    TargetFacts {
        touched_pages: &PAGES,
        code_sites: &CODE,
        divisors: Some((0x2000, 16)),
        registers: &Register::DEFAULT_FLIP,
    }
}

fn spec(count: u32) -> CampaignSpec {
    CampaignSpec::every_injector("t", 42, count, vec!["compute.a".into(), "compute.b".into()])
}

#[test]
fn plans_are_a_pure_function_of_seed_and_index() {
    let s = spec(1000);
    for i in [0, 1, 17, 999] {
        let (a, mut ra) = plan(&s, i);
        let (b, mut rb) = plan(&s, i);
        assert_eq!(a, b);
        assert_eq!(ra.rand_u64(), rb.rand_u64(), "the site stream replays too");
    }
    let mut other = s.clone();
    other.seed = 43;
    let differs = (0..100).any(|i| plan(&s, i).0.point != plan(&other, i).0.point);
    assert!(differs, "another seed gives other trigger points");
}

#[test]
fn round_robin_covers_every_injector_and_target_evenly() {
    let s = spec(1000);
    let pairs = s.injectors.len() * s.targets.len();
    let mut seen = BTreeMap::new();
    for i in 0..(pairs * 5) as u32 {
        let (p, _) = plan(&s, i);
        *seen.entry((p.injector, p.target)).or_insert(0) += 1;
        assert_eq!(p.point.trigger(), s.injectors[p.injector].trigger);
    }
    assert_eq!(seen.len(), pairs);
    assert!(seen.values().all(|&n| n == 5), "{seen:?}");
}

#[test]
fn weights_scale_an_injectors_share() {
    let mut s = spec(100);
    s.targets.truncate(1);
    s.injectors.truncate(2);
    s.injectors[1].weight = 3;
    let heavy = (0..400).filter(|&i| plan(&s, i).0.injector == 1).count();
    assert_eq!(heavy, 300);
}

#[test]
fn an_injector_restricted_to_some_targets_strikes_only_those() {
    let mut s = spec(100);
    s.injectors.truncate(2);
    s.injectors[1].targets = Some(vec!["compute.b".into()]);
    assert_eq!(s.validate(), Ok(()));
    let mut pairs = BTreeMap::new();
    for i in 0..300 {
        let (p, _) = plan(&s, i);
        *pairs.entry((p.injector, p.target)).or_insert(0) += 1;
    }
    assert_eq!(
        pairs,
        BTreeMap::from([((0, 0), 100), ((0, 1), 100), ((1, 1), 100)])
    );
    s.injectors[1].targets = Some(vec!["compute.c".into()]);
    assert!(s.validate().unwrap_err().0.contains("compute.c"));
}

#[test]
fn trigger_points_stay_in_range() {
    let s = spec(10_000);
    for i in 0..2000 {
        match plan(&s, i).0.point {
            TriggerPoint::AfterCalls(k) => assert!(k < s.sync_calls),
            TriggerPoint::IntoCall { ppm } => assert!((20_000..980_000).contains(&ppm)),
        }
    }
}

#[test]
fn validate_names_the_field_at_fault() {
    let mut s = spec(10);
    assert_eq!(s.validate(), Ok(()));
    s.injectors.push(InjectorSpec {
        kind: InjectorKind::BitFlipRegister,
        trigger: Trigger::Sync,
        weight: 1,
        registers: None,
        targets: None,
    });
    let e = s.validate().unwrap_err().0;
    assert!(e.contains("injectors[") && e.contains("async"), "{e}");

    let mut s = spec(10);
    s.count = 0;
    assert!(s.validate().unwrap_err().0.starts_with("count"));
    let mut s = spec(10);
    s.targets.clear();
    assert!(s.validate().unwrap_err().0.starts_with("targets"));
    let mut s = spec(10);
    s.injectors[0].registers = Some(vec![Register::Rax]);
    assert!(
        s.validate()
            .unwrap_err()
            .0
            .contains("bit_flip_register only")
    );
    let mut s = spec(10);
    s.name = "a b".into();
    assert!(s.validate().unwrap_err().0.starts_with("name"));
}

#[test]
fn spec_reads_from_json_with_defaults_and_refuses_unknown_fields() {
    let text = r#"{"name":"x","seed":7,"count":5,"targets":["compute.sieve"],
        "injectors":[{"kind":"page_revoke","trigger":"sync"},
                     {"kind":"bit_flip_register","trigger":"async","registers":["rax","r12"]}]}"#;
    let s: CampaignSpec = serde_json::from_str(text).unwrap();
    assert_eq!(s.config, "signals.bt_off");
    assert_eq!(s.injectors[0].weight, 1);
    assert_eq!(s.registers(1), vec![Register::Rax, Register::R12]);
    assert_eq!(s.registers(0), Register::DEFAULT_FLIP.to_vec());
    let back: CampaignSpec = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
    let bad = text.replace("\"count\"", "\"cuont\"");
    let e = serde_json::from_str::<CampaignSpec>(&bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cuont"), "{e}");
}

#[test]
fn isolation_defaults_to_none_and_stays_out_of_the_manifest_then() {
    let text = r#"{"name":"x","seed":7,"count":5,"targets":["compute.sieve"],
        "injectors":[{"kind":"noop","trigger":"sync"}]}"#;
    let s: CampaignSpec = serde_json::from_str(text).unwrap();
    assert_eq!(s.isolation, Isolation::None);
    // Specs without the field serialize (and so hash) as before it existed.
    assert!(!serde_json::to_string(&s).unwrap().contains("isolation"));
    let pks: CampaignSpec =
        serde_json::from_str(&text.replace("\"count\"", "\"isolation\":\"pks\",\"count\""))
            .unwrap();
    assert_eq!(pks.isolation, Isolation::Pks);
    assert_eq!(pks.isolation.name(), "pks");
    let back: CampaignSpec = serde_json::from_str(&serde_json::to_string(&pks).unwrap()).unwrap();
    assert_eq!(back, pks);
    assert!(
        serde_json::from_str::<CampaignSpec>(
            &text.replace("\"count\"", "\"isolation\":\"mpk\",\"count\"")
        )
        .is_err()
    );
}

#[test]
fn noop_changes_nothing() {
    let mut m = SimulatedMachine::new();
    let before = (m.memory.clone(), m.text.clone());
    let mut inj = injector(InjectorKind::Noop);
    let mut rng = plan::rng(1, 0);
    assert_eq!(inj.arm(&facts(), &mut rng), Some(Site::Nothing));
    inj.fire(&mut m).unwrap();
    inj.disarm(&mut m);
    assert_eq!((m.memory, m.text), before);
    assert!(m.revoked.is_empty() && m.registers.is_empty());
}

#[test]
fn page_revoke_picks_a_touched_page_and_disarm_restores_it() {
    for index in 0..50 {
        let mut m = SimulatedMachine::new();
        let mut inj = injector(InjectorKind::PageRevoke);
        let Some(Site::Page { offset }) = inj.arm(&facts(), &mut plan::rng(3, index)) else {
            panic!()
        };
        assert!(PAGES.contains(&offset));
        inj.fire(&mut m).unwrap();
        assert!(
            m.read_memory(offset + 8, &mut [0u8; 4]).is_err(),
            "the page is gone"
        );
        inj.disarm(&mut m);
        inj.disarm(&mut m);
        assert!(m.revoked.is_empty());
        assert!(m.read_memory(offset + 8, &mut [0u8; 4]).is_ok());
    }
}

#[test]
fn code_patch_writes_ud2_at_an_instruction_start_and_restores_the_bytes() {
    let mut m = SimulatedMachine::new();
    let original = m.text.clone();
    let mut inj = injector(InjectorKind::CodePatch);
    let Some(Site::Code { offset }) = inj.arm(&facts(), &mut plan::rng(9, 4)) else {
        panic!()
    };
    assert!(CODE.contains(&offset));
    inj.fire(&mut m).unwrap();
    assert_eq!(
        &m.text[offset as usize..offset as usize + 2],
        &code_patch::UD2
    );
    inj.disarm(&mut m);
    assert_eq!(m.text, original, "disarm puts the code back byte for byte");
    inj.disarm(&mut m);
    assert_eq!(m.text, original, "disarm twice is harmless");
}

#[test]
fn divisor_zero_zeroes_one_table_entry() {
    let mut m = SimulatedMachine::new();
    let before = m.memory.clone();
    let mut inj = injector(InjectorKind::DivisorZero);
    let Some(Site::Divisor { offset, index }) = inj.arm(&facts(), &mut plan::rng(5, 1)) else {
        panic!()
    };
    assert_eq!(offset, 0x2000 + 4 * u64::from(index));
    assert!(index < 16);
    inj.fire(&mut m).unwrap();
    let changed: Vec<usize> = (0..m.memory.len())
        .filter(|&i| m.memory[i] != before[i])
        .collect();
    assert!(
        changed
            .iter()
            .all(|&i| (offset as usize..offset as usize + 4).contains(&i))
    );
    assert_eq!(&m.memory[offset as usize..offset as usize + 4], &[0; 4]);
    let no_table = TargetFacts {
        divisors: None,
        ..facts()
    };
    assert_eq!(
        injector(InjectorKind::DivisorZero).arm(&no_table, &mut plan::rng(5, 1)),
        None
    );
}

#[test]
fn bit_flip_memory_flips_exactly_one_bit_in_a_touched_page() {
    for index in 0..50 {
        let mut m = SimulatedMachine::new();
        let before = m.memory.clone();
        let mut inj = injector(InjectorKind::BitFlipMemory);
        let Some(Site::MemoryBit { offset, .. }) = inj.arm(&facts(), &mut plan::rng(11, index))
        else {
            panic!()
        };
        assert!(PAGES.contains(&(offset & !4095)));
        inj.fire(&mut m).unwrap();
        let flipped: u32 = m
            .memory
            .iter()
            .zip(&before)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        assert_eq!(flipped, 1);
    }
}

#[test]
fn bit_flip_register_flips_one_allowed_register_and_needs_an_interrupt() {
    let mut m = SimulatedMachine::new();
    let mut inj = injector(InjectorKind::BitFlipRegister);
    let Some(Site::RegisterBit { register, bit }) = inj.arm(&facts(), &mut plan::rng(13, 2)) else {
        panic!()
    };
    assert!(Register::DEFAULT_FLIP.contains(&register));
    assert!(register != Register::Rsp && register != Register::Rbp);
    inj.fire(&mut m).unwrap();
    assert_eq!(m.registers[register.name()], 1 << bit);
    m.in_interrupt = false;
    assert_eq!(inj.fire(&mut m), Err(Refused("no interrupted context")));
}

#[test]
fn site_choices_spread_over_the_candidates() {
    let mut pages = BTreeSet::new();
    for index in 0..200 {
        if let Some(Site::Page { offset }) =
            injector(InjectorKind::PageRevoke).arm(&facts(), &mut plan::rng(1, index))
        {
            pages.insert(offset);
        }
    }
    assert_eq!(pages.len(), PAGES.len());
}

#[test]
fn classify_gives_exactly_the_documented_outcome() {
    assert_eq!(classify(&CallEnd::Returned(5), 5), Outcome::Masked);
    assert_eq!(classify(&CallEnd::Returned(6), 5), Outcome::Corrupted);
    assert_eq!(classify(&CallEnd::Trapped, 5), Outcome::Trapped);
    assert_eq!(classify(&CallEnd::Contained, 5), Outcome::Contained);
    assert_eq!(classify(&CallEnd::Watchdog, 5), Outcome::Hang);
    assert!(!Outcome::Masked.manifested());
    assert!(Outcome::ALL.iter().filter(|o| o.manifested()).count() == 5);
}

#[test]
fn site_descriptions_are_stable() {
    assert_eq!(Site::Page { offset: 0x3000 }.describe(), "linear+0x3000");
    assert_eq!(Site::Code { offset: 0x1a4 }.describe(), "text+0x1a4");
    assert_eq!(
        Site::RegisterBit {
            register: Register::R12,
            bit: 7
        }
        .describe(),
        "r12 bit 7"
    );
    assert_eq!(
        Site::Divisor {
            offset: 0x2008,
            index: 2
        }
        .describe(),
        "divisor[2] linear+0x2008"
    );
}
