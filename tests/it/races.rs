//! Many clients at once: colliding titles and overlapping IP ranges over
//! concurrent connections must leave a store that keeps every rule, with one
//! winner per contested title and no lost or duplicated record.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::support::*;

const TITLES: u32 = 50;
const ATTEMPTS_PER_TITLE: u32 = 100;
const MIXED_REQUESTS: u32 = 5_000;
const CONNECTIONS: usize = 64;

/// Sends every form in `forms` over `CONNECTIONS` concurrent workers and
/// returns the replies in the order of `forms`.
async fn blast(mock: &Arc<Mock>, forms: Vec<Vec<(String, String)>>) -> Vec<Reply> {
    let forms = Arc::new(forms);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..CONNECTIONS {
        let (mock, forms, next) = (Arc::clone(mock), Arc::clone(&forms), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(form) = forms.get(index) else {
                    return done;
                };
                let request = mock.request(reqwest::Method::POST, VMWARE).form(form);
                done.push((index, send_unchecked(request).await));
            }
        }));
    }
    let mut replies: Vec<Option<Reply>> = (0..forms.len()).map(|_| None).collect();
    for worker in workers {
        for (index, reply) in worker.await.unwrap() {
            replies[index] = Some(reply);
        }
    }
    let replies: Vec<Reply> = replies
        .into_iter()
        .map(|reply| reply.expect("every request answered"))
        .collect();
    validate_all(&replies);
    replies
}

fn form(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// A small deterministic generator, so a failing run can be repeated.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u32) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % u64::from(bound)) as u32
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_keep_every_rule() {
    let mock = Arc::new(Mock::start().await);
    let mut rng = Lcg(7);

    // Phase 1: 5,000 creates, 100 per title, with IP ranges that overlap
    // inside each title's own block (10.<title>.x.x), so only one create per
    // title can win.
    let creates: Vec<_> = (0..TITLES * ATTEMPTS_PER_TITLE)
        .map(|n| {
            let title = n % TITLES;
            let start = rng.next(200);
            let ips = format!("10.{title}.0.{start}-10.{title}.0.{}", start + rng.next(50));
            form(&[
                ("action", "create".into()),
                ("title", format!("race-{title}")),
                ("username", "u".into()),
                ("password", "p".into()),
                ("ips", ips),
            ])
        })
        .collect();
    let created = blast(&mock, creates.clone()).await;

    let mut winners: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (request, reply) in creates.iter().zip(&created) {
        assert_eq!(reply.status, 200, "{}", reply.body);
        if reply.code().is_none() {
            let id: u64 = reply.texts("ID")[0].parse().unwrap();
            winners.entry(request[1].1.clone()).or_default().push(id);
        }
    }
    assert_eq!(winners.len(), TITLES as usize, "every title has a winner");
    for (title, ids) in &winners {
        assert_eq!(ids.len(), 1, "{title} was won {} times", ids.len());
    }
    let created_ids: BTreeSet<u64> = winners.values().flatten().copied().collect();

    // Phase 2: mixed updates that retitle onto contested titles and widen
    // ranges into neighbouring blocks, and deletes, all at once.
    let ids: Vec<u64> = created_ids.iter().copied().collect();
    let mixed: Vec<_> = (0..MIXED_REQUESTS)
        .map(|_| {
            let id = ids[rng.next(ids.len() as u32) as usize].to_string();
            match rng.next(10) {
                0 => form(&[("action", "delete".into()), ("ids", id)]),
                1..=4 => form(&[
                    ("action", "update".into()),
                    ("ids", id),
                    ("title", format!("race-{}", rng.next(TITLES))),
                ]),
                _ => {
                    let block = rng.next(TITLES);
                    let ips = format!("10.{block}.1.{}", rng.next(250));
                    form(&[("action", "update".into()), ("ids", id), ("add_ips", ips)])
                }
            }
        })
        .collect();
    let replies = blast(&mock, mixed.clone()).await;

    let mut deleted = BTreeSet::new();
    for (request, reply) in mixed.iter().zip(&replies) {
        assert_eq!(reply.status, 200, "{}", reply.body);
        let texts = reply.texts("TEXT");
        if request[0].1 == "delete"
            && texts.first().map(String::as_str) == Some("Successfully Deleted")
        {
            deleted.insert(request[1].1.parse::<u64>().unwrap());
        }
    }

    // The final store, read back through the API.
    let list = mock.list_vmware(&[("details", "Basic")]).await;
    let final_ids: BTreeSet<u64> = list
        .texts("ID")
        .iter()
        .map(|id| id.parse().unwrap())
        .collect();
    let expected: BTreeSet<u64> = created_ids.difference(&deleted).copied().collect();
    assert_eq!(final_ids, expected, "no record lost or duplicated");

    let titles = list.texts("TITLE");
    let unique: BTreeSet<&String> = titles.iter().collect();
    assert_eq!(unique.len(), titles.len(), "titles stay unique: {titles:?}");

    let mut ranges: Vec<(u32, u32)> = list
        .texts("IP")
        .iter()
        .map(|ip| (ip.clone(), ip.clone()))
        .chain(list.texts("IP_RANGE").iter().map(|r| {
            let (a, b) = r.split_once('-').unwrap();
            (a.to_owned(), b.to_owned())
        }))
        .map(|(a, b)| {
            let a: std::net::Ipv4Addr = a.parse().unwrap();
            let b: std::net::Ipv4Addr = b.parse().unwrap();
            (u32::from(a), u32::from(b))
        })
        .collect();
    ranges.sort();
    for pair in ranges.windows(2) {
        assert!(pair[0].1 < pair[1].0, "overlapping IPs survived: {pair:?}");
    }
}
