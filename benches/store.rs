//! Store and parser micro-benchmarks through the public library API.
//!
//! Run with `cargo bench --bench store`; `scripts/bench` runs it and copies the
//! estimates into `docs/benchmarks.md`. The store benchmarks run at 1,000,
//! 100,000 and 1,000,000 VMware records, each holding three IP ranges, so the
//! estimates show how the cost of one operation grows with the store.
//!
//! XML rendering is not measured here because the `xml` module is private to
//! the crate. The HTTP runs in `scripts/bench` include it.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use qualys_mock::domain::id_set::IdSet;
use qualys_mock::domain::ip_set::IpSet;
use qualys_mock::domain::record::{LoginType, RecordFields, RecordKind, Secret, Stamp};
use qualys_mock::domain::store::{ListQuery, Store, StoreSettings};
use time::OffsetDateTime;

/// Store sizes, in records.
const SIZES: [u64; 3] = [1_000, 100_000, 1_000_000];

/// The page size of `action=list` when no `--page-size` is given.
const PAGE_SIZE: usize = 1_000;

/// First address of the records' IP block: 10.0.0.0.
const BASE_ADDRESS: u32 = 10 << 24;

/// Addresses in each record's block. Record `i` contains offsets 0-2, 4-6 and 8-10
/// of its block, so the offsets 3, 7 and 11-15 stay free for a create that
/// must fit between existing records.
const BLOCK: u32 = 16;

fn stamp() -> Stamp {
    Stamp {
        at: OffsetDateTime::UNIX_EPOCH,
        by: "bench".to_owned().into(),
    }
}

fn fields(title: String, ips: IpSet) -> RecordFields {
    RecordFields {
        title: title.into(),
        username: "bench".into(),
        password: Some(Secret::new("pw")),
        login_type: LoginType::Basic,
        vault: None,
        port: Some(443),
        ssl_verify: None,
        hosts: Box::default(),
        is_disconnect: false,
        ips,
        comments: None,
        network_id: None,
    }
}

/// Builds the IP set of record number `index` (0-based): three ranges of
/// three addresses in the record's own block.
fn record_ips(index: u64) -> IpSet {
    let start = BASE_ADDRESS + u32::try_from(index).expect("index fits in u32") * BLOCK;
    [
        start..=start + 2,
        start + 4..=start + 6,
        start + 8..=start + 10,
    ]
    .into_iter()
    .collect()
}

/// Builds a store of `size` VMware records with IDs 1 to `size`.
fn build_store(size: u64) -> Store {
    let settings = StoreSettings {
        require_vcenter_record: false,
        ..StoreSettings::default()
    };
    let mut store = Store::new(settings);
    let started = Instant::now();
    for index in 0..size {
        let record = fields(format!("bench-{index}"), record_ips(index));
        store
            .create(RecordKind::Vmware, record, stamp())
            .expect("bench records do not overlap");
    }
    eprintln!(
        "built a store of {size} records in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    store
}

/// Returns the first address of the middle record's block in a store of
/// `size` records.
fn middle_block(size: u64) -> u32 {
    BASE_ADDRESS + u32::try_from(size / 2).expect("size fits in u32") * BLOCK
}

/// Builds a create whose second range overlaps the middle record, so the
/// store rejects it after the IP index lookup.
fn conflicting_fields(size: u64) -> RecordFields {
    let block = middle_block(size);
    let ips = [
        block + 3..=block + 3,
        block + 5..=block + 5,
        block + 12..=block + 14,
    ];
    fields("conflict-probe".to_owned(), ips.into_iter().collect())
}

/// Builds a create that fits in the free addresses around the middle record.
fn free_fields(size: u64) -> RecordFields {
    let block = middle_block(size);
    let ips = [
        block + 3..=block + 3,
        block + 7..=block + 7,
        block + 12..=block + 14,
    ];
    fields("free-probe".to_owned(), ips.into_iter().collect())
}

fn list_of(entries: usize, format_entry: impl Fn(usize) -> String) -> String {
    (0..entries).map(format_entry).collect::<Vec<_>>().join(",")
}

fn bench_parsers(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_ip_set");
    let documented = "10.0.0.1-10.0.0.3,10.0.1.1";
    let hundred = list_of(100, |i| {
        format!("10.{}.{}.1-10.{0}.{1}.9", i / 256, i % 256)
    });
    group.bench_function("documented_example", |b| {
        b.iter(|| IpSet::parse(black_box(documented)).unwrap())
    });
    group.bench_function("100_ranges", |b| {
        b.iter(|| IpSet::parse(black_box(&hundred)).unwrap())
    });
    group.finish();

    let mut group = c.benchmark_group("parse_id_set");
    let documented = "12,1359-1407";
    let hundred = list_of(100, |i| format!("{}-{}", i * 10 + 1, i * 10 + 5));
    group.bench_function("documented_example", |b| {
        b.iter(|| IdSet::parse(black_box(documented)).unwrap())
    });
    group.bench_function("100_ranges", |b| {
        b.iter(|| IdSet::parse(black_box(&hundred)).unwrap())
    });
    group.finish();
}

fn bench_store(c: &mut Criterion) {
    let mut stores: Vec<(u64, Store)> = SIZES.iter().map(|&n| (n, build_store(n))).collect();

    let mut group = c.benchmark_group("create_conflicting");
    for (size, store) in &mut stores {
        let probe = conflicting_fields(*size);
        group.bench_with_input(BenchmarkId::from_parameter(*size), size, |b, _| {
            b.iter_batched(
                || probe.clone(),
                |probe| {
                    let result = store.create(RecordKind::Vmware, probe, stamp());
                    assert!(result.is_err(), "the probe must conflict");
                    result
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();

    // Only the create is timed; deleting the new record again keeps the store
    // at its size for the next iteration.
    let mut group = c.benchmark_group("create_free");
    for (size, store) in &mut stores {
        let probe = free_fields(*size);
        group.bench_with_input(BenchmarkId::from_parameter(*size), size, |b, _| {
            b.iter_custom(|iterations| {
                let mut timed = Duration::ZERO;
                for _ in 0..iterations {
                    let record = probe.clone();
                    let started = Instant::now();
                    let id = store.create(RecordKind::Vmware, record, stamp());
                    timed += started.elapsed();
                    let id = id.expect("the probe must fit");
                    store.delete(RecordKind::Vmware, &IdSet::from_iter([id]));
                }
                timed
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("list_page_first");
    for (size, store) in &stores {
        let query = ListQuery::default();
        group.bench_with_input(BenchmarkId::from_parameter(*size), size, |b, _| {
            b.iter(|| {
                let page = store.list(RecordKind::Vmware, black_box(&query), PAGE_SIZE);
                assert_eq!(page.records.len(), PAGE_SIZE.min(*size as usize));
                page
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("list_page_middle");
    for (size, store) in &stores {
        let query = ListQuery {
            id_min: Some(*size / 2),
            ..ListQuery::default()
        };
        group.bench_with_input(BenchmarkId::from_parameter(*size), size, |b, _| {
            b.iter(|| store.list(RecordKind::Vmware, black_box(&query), PAGE_SIZE))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("list_one_by_id");
    for (size, store) in &stores {
        let query = ListQuery {
            ids: Some(IdSet::from_iter([*size / 2])),
            ..ListQuery::default()
        };
        group.bench_with_input(BenchmarkId::from_parameter(*size), size, |b, _| {
            b.iter(|| {
                let page = store.list(RecordKind::Vmware, black_box(&query), PAGE_SIZE);
                assert_eq!(page.records.len(), 1);
                page
            })
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_parsers, bench_store
}
criterion_main!(benches);
