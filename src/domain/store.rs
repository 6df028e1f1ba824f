//! The record store: every record of every kind, with the indexes that keep
//! titles unique and IP sets free of conflicts.
//!
//! Records and indexes sit in one struct behind one lock (see `AppState`), so
//! they can never disagree. Each operation checks everything first and writes
//! only when every check passed, so a rejected change leaves no trace.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::RangeInclusive;
use std::sync::Arc;

use super::change::RecordChange;
use super::id_set::IdSet;
use super::ip_index::IpIndex;
use super::record::{LoginType, Record, RecordFields, RecordKind, RuleViolation, Stamp};
use super::title_index::TitleIndex;

/// At most this many IP conflicts are reported for one record; a range that
/// overlaps a million records would otherwise produce a million lines.
const MAX_REPORTED_CONFLICTS: usize = 100;

/// One overlap between a candidate record's IPs and a stored record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpConflict {
    /// The overlapping addresses.
    pub range: RangeInclusive<u32>,
    /// The stored record that already contains them.
    pub other_id: u64,
    /// That record's title.
    pub other_title: String,
    /// That record's kind.
    pub other_kind: RecordKind,
}

/// The reason one record could not be created or changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The fields break a rule that ties them together.
    Rule(RuleViolation),
    /// Another record of the same kind already has the title.
    DuplicateTitle {
        /// The contested title.
        title: String,
        /// The record that has it.
        other_id: u64,
    },
    /// The IPs overlap other records. `truncated` is set when more conflicts
    /// exist than were reported.
    IpConflicts {
        /// The reported conflicts, in address order.
        conflicts: Vec<IpConflict>,
        /// Whether further conflicts were left out.
        truncated: bool,
    },
    /// `login_type=vcenter` while no vCenter record exists.
    NoVcenterRecord,
    /// A restored record whose ID is already taken.
    DuplicateId(u64),
    /// Every ID up to `u64::MAX` has been handed out.
    IdsExhausted,
    /// The store contains its configured maximum number of records.
    StoreFull(usize),
}

/// The result of an update or delete over an ID set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// IDs changed or deleted.
    pub succeeded: IdSet,
    /// Requested IDs with no record of this kind.
    pub not_found: IdSet,
    /// Records that were left unchanged, with the reason.
    pub failed: Vec<(u64, RecordError)>,
}

/// Filters for `action=list`; every filter given must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Only these IDs.
    pub ids: Option<IdSet>,
    /// Only IDs at or above this one.
    pub id_min: Option<u64>,
    /// Only IDs at or below this one.
    pub id_max: Option<u64>,
    /// Only the record with exactly this title.
    pub title: Option<String>,
    /// Only records whose comments contain this text.
    pub comments: Option<String>,
}

/// One page of list results.
#[derive(Clone, Debug, Default)]
pub struct ListPage {
    /// The matching records in ID order, at most the page size.
    pub records: Vec<Arc<Record>>,
    /// The first ID of the next page, when more records match.
    pub next_id: Option<u64>,
}

/// Store-wide settings.
#[derive(Clone, Debug)]
pub struct StoreSettings {
    /// The ID given to the first record.
    pub id_start: u64,
    /// Whether `login_type=vcenter` needs at least one vCenter record.
    pub require_vcenter_record: bool,
    /// Maximum number of records of all kinds together; `None` for no limit.
    pub max_records: Option<usize>,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            id_start: 1,
            require_vcenter_record: true,
            max_records: None,
        }
    }
}

/// Records of one kind with their indexes.
#[derive(Clone, Default)]
struct Table {
    records: BTreeMap<u64, Arc<Record>>,
    titles: TitleIndex,
    /// The interval index of each network, where records without a network
    /// are in network 0. Records of one kind and network never overlap, so
    /// every address belongs to at most one record.
    ips: HashMap<u64, IpIndex>,
}

/// All records and indexes.
#[derive(Clone)]
pub struct Store {
    settings: StoreSettings,
    next_id: u64,
    /// Counts changes, so a writer can tell whether anything changed since
    /// it last saved.
    generation: u64,
    tables: [Table; 3],
    /// One copy of each login found in a stamp, which the stamps of every
    /// record share. A login stays here after its last record is gone,
    /// until `clear`, so the set grows with the number of distinct logins.
    logins: HashSet<Arc<String>>,
}

impl Store {
    /// Creates an empty store.
    pub fn new(settings: StoreSettings) -> Self {
        Store {
            next_id: settings.id_start.max(1),
            generation: 0,
            settings,
            tables: Default::default(),
            logins: HashSet::new(),
        }
    }

    /// The ID the next created record gets.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Raises the next ID to at least `id`; IDs never go back.
    pub fn reserve_ids_below(&mut self, id: u64) {
        self.next_id = self.next_id.max(id);
    }

    /// The change counter; it grows with every successful write.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Every record of `kind` in ID order.
    pub fn records(&self, kind: RecordKind) -> impl Iterator<Item = &Arc<Record>> {
        self.table(kind).records.values()
    }

    /// Stores a record with its own ID and stamps, as saved state and seed
    /// data carry them, under the same rules as a create.
    pub fn restore(&mut self, mut record: Record) -> Result<(), RecordError> {
        if RecordKind::ALL
            .iter()
            .any(|&k| self.get(k, record.id).is_some())
        {
            return Err(RecordError::DuplicateId(record.id));
        }
        record.fields.check().map_err(RecordError::Rule)?;
        self.check_against_others(record.kind, None, &record.fields)?;
        self.check_room()?;
        self.next_id = self.next_id.max(record.id.saturating_add(1));
        record.created = self.shared_stamp(record.created);
        record.modified = self.shared_stamp(record.modified);
        self.insert(Arc::new(record));
        Ok(())
    }

    /// Counts the records of one kind.
    pub fn len(&self, kind: RecordKind) -> usize {
        self.table(kind).records.len()
    }

    /// Returns whether the store contains no record of any kind.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(|t| t.records.is_empty())
    }

    /// Looks up one record.
    pub fn get(&self, kind: RecordKind, id: u64) -> Option<Arc<Record>> {
        self.table(kind).records.get(&id).cloned()
    }

    /// Creates a record and returns its new ID, or the reason it was rejected.
    pub fn create(
        &mut self,
        kind: RecordKind,
        fields: RecordFields,
        stamp: Stamp,
    ) -> Result<u64, RecordError> {
        fields.check().map_err(RecordError::Rule)?;
        self.check_against_others(kind, None, &fields)?;
        self.check_room()?;

        let id = self.next_id;
        self.next_id = id.checked_add(1).ok_or(RecordError::IdsExhausted)?;
        let stamp = self.shared_stamp(stamp);
        let record = Record {
            id,
            kind,
            fields,
            created: stamp.clone(),
            modified: stamp,
        };
        self.insert(Arc::new(record));
        Ok(id)
    }

    /// Applies `change` to each record of `kind` in `ids`, in ID order. Each
    /// record is changed whole or not at all; later records see earlier ones.
    pub fn update(
        &mut self,
        kind: RecordKind,
        ids: &IdSet,
        change: &RecordChange,
        stamp: &Stamp,
    ) -> BatchOutcome {
        let (found, not_found) = self.resolve(kind, ids);
        let mut outcome = BatchOutcome {
            not_found,
            ..BatchOutcome::default()
        };
        for id in found {
            match self.update_one(kind, id, change, stamp) {
                Ok(()) => outcome.succeeded.insert(id),
                Err(error) => outcome.failed.push((id, error)),
            }
        }
        outcome
    }

    /// Deletes each record of `kind` in `ids`.
    pub fn delete(&mut self, kind: RecordKind, ids: &IdSet) -> BatchOutcome {
        let (found, not_found) = self.resolve(kind, ids);
        for &id in &found {
            self.remove(kind, id);
        }
        BatchOutcome {
            succeeded: found.into_iter().collect(),
            not_found,
            failed: Vec::new(),
        }
    }

    /// Returns up to `limit` matching records of `kind` in ID order.
    pub fn list(&self, kind: RecordKind, query: &ListQuery, limit: usize) -> ListPage {
        let table = self.table(kind);
        let bounds = query.id_min.unwrap_or(1)..=query.id_max.unwrap_or(u64::MAX);
        let mut page = ListPage::default();
        let mut matches = self
            .candidates(table, query, bounds)
            .filter(|record| matches_filters(record, query));

        page.records = matches.by_ref().take(limit).cloned().collect();
        page.next_id = matches.next().map(|record| record.id);
        page
    }

    /// Returns the IDs of every matching record of `kind`, without paging.
    pub fn matching_ids(&self, kind: RecordKind, query: &ListQuery) -> IdSet {
        let table = self.table(kind);
        let bounds = query.id_min.unwrap_or(1)..=query.id_max.unwrap_or(u64::MAX);
        self.candidates(table, query, bounds)
            .filter(|record| matches_filters(record, query))
            .map(|record| record.id)
            .collect()
    }

    /// Removes every record. IDs keep counting from where they were, so an ID
    /// is never handed out twice.
    pub fn clear(&mut self) {
        self.tables = Default::default();
        self.logins.clear();
        self.generation += 1;
    }

    /// Returns `stamp` with its login replaced by the store's copy of that
    /// login, so that the records one login changed share one allocation.
    fn shared_stamp(&mut self, stamp: Stamp) -> Stamp {
        let by = match self.logins.get(&*stamp.by) {
            Some(known) => Arc::clone(known),
            None => {
                self.logins.insert(Arc::clone(&stamp.by));
                stamp.by
            }
        };
        Stamp { at: stamp.at, by }
    }

    fn check_room(&self) -> Result<(), RecordError> {
        let Some(max) = self.settings.max_records else {
            return Ok(());
        };
        let total: usize = self.tables.iter().map(|table| table.records.len()).sum();
        if total >= max {
            return Err(RecordError::StoreFull(max));
        }
        Ok(())
    }

    fn table(&self, kind: RecordKind) -> &Table {
        &self.tables[kind as usize]
    }

    fn table_mut(&mut self, kind: RecordKind) -> &mut Table {
        &mut self.tables[kind as usize]
    }

    /// Records that may match, found through the cheapest index: the title
    /// index, else the ID ranges of `ids` clipped to `bounds`, else `bounds`.
    fn candidates<'a>(
        &'a self,
        table: &'a Table,
        query: &'a ListQuery,
        bounds: RangeInclusive<u64>,
    ) -> Box<dyn Iterator<Item = &'a Arc<Record>> + 'a> {
        if bounds.start() > bounds.end() {
            return Box::new(std::iter::empty());
        }
        if let Some(title) = &query.title {
            let found = table.titles.get(title);
            return Box::new(found.into_iter().filter(move |r| bounds.contains(&r.id)));
        }
        let Some(ids) = &query.ids else {
            return Box::new(table.records.range(bounds).map(|(_, record)| record));
        };
        let clipped = ids.ranges().filter_map(move |range| {
            let start = (*range.start()).max(*bounds.start());
            let end = (*range.end()).min(*bounds.end());
            (start <= end).then_some(start..=end)
        });
        Box::new(clipped.flat_map(|range| table.records.range(range).map(|(_, record)| record)))
    }

    /// Splits `ids` into the IDs that have a record of `kind` and those that do not.
    fn resolve(&self, kind: RecordKind, ids: &IdSet) -> (Vec<u64>, IdSet) {
        let records = &self.table(kind).records;
        let found: Vec<u64> = ids
            .ranges()
            .flat_map(|range| records.range(range.clone()).map(|(id, _)| *id))
            .collect();
        let not_found = ids.difference(&found.iter().copied().collect());
        (found, not_found)
    }

    fn update_one(
        &mut self,
        kind: RecordKind,
        id: u64,
        change: &RecordChange,
        stamp: &Stamp,
    ) -> Result<(), RecordError> {
        let Some(current) = self.get(kind, id) else {
            return Ok(());
        };
        let fields = change.apply(&current.fields);
        fields.check().map_err(RecordError::Rule)?;
        self.check_against_others(kind, Some(id), &fields)?;

        // The login joins the store's set only once a record carries it.
        let record = Record {
            fields,
            modified: self.shared_stamp(stamp.clone()),
            ..(*current).clone()
        };
        self.remove(kind, id);
        self.insert(Arc::new(record));
        Ok(())
    }

    /// Checks the rules that involve other records: unique titles, IP overlap
    /// within the kind, disconnected ESXi against Unix records, and the vCenter
    /// record that `login_type=vcenter` relies on. `own_id` is the record being
    /// updated, which never conflicts with itself.
    fn check_against_others(
        &self,
        kind: RecordKind,
        own_id: Option<u64>,
        fields: &RecordFields,
    ) -> Result<(), RecordError> {
        let table = self.table(kind);
        if let Some(other) = table.titles.get(&fields.title) {
            if Some(other.id) != own_id {
                return Err(RecordError::DuplicateTitle {
                    title: fields.title.to_string(),
                    other_id: other.id,
                });
            }
        }

        let mut report = ConflictReport::default();
        self.find_conflicts(kind, own_id, fields, &mut report, |_| true);
        if kind == RecordKind::Vmware && fields.is_disconnect {
            self.find_conflicts(RecordKind::Unix, None, fields, &mut report, |_| true);
        }
        if kind == RecordKind::Unix {
            let disconnected = |r: &Record| r.fields.is_disconnect;
            self.find_conflicts(RecordKind::Vmware, None, fields, &mut report, disconnected);
        }
        if !report.conflicts.is_empty() {
            report.conflicts.sort_by_key(|c| *c.range.start());
            return Err(RecordError::IpConflicts {
                conflicts: report.conflicts,
                truncated: report.truncated,
            });
        }

        let needs_vcenter = kind == RecordKind::Vmware
            && fields.login_type == LoginType::Vcenter
            && self.settings.require_vcenter_record;
        if needs_vcenter && self.table(RecordKind::Vcenter).records.is_empty() {
            return Err(RecordError::NoVcenterRecord);
        }
        Ok(())
    }

    /// Adds to `report` the records of `kind` (other than `own_id`, and only
    /// those `applies` accepts) whose IPs overlap `fields.ips`. Each lookup is
    /// an interval-map query, so the cost is logarithmic plus the overlaps found.
    fn find_conflicts(
        &self,
        kind: RecordKind,
        own_id: Option<u64>,
        fields: &RecordFields,
        report: &mut ConflictReport,
        applies: impl Fn(&Record) -> bool,
    ) {
        let table = self.table(kind);
        let Some(index) = table.ips.get(&network_of(fields)) else {
            return;
        };
        for range in fields.ips.ranges() {
            for (held, other) in index.overlapping(range.clone()) {
                if Some(other.id) == own_id || !applies(other) {
                    continue;
                }
                if report.conflicts.len() == MAX_REPORTED_CONFLICTS {
                    report.truncated = true;
                    return;
                }
                let start = (*held.start()).max(*range.start());
                let end = (*held.end()).min(*range.end());
                report.conflicts.push(IpConflict {
                    range: start..=end,
                    other_id: other.id,
                    other_title: other.fields.title.to_string(),
                    other_kind: kind,
                });
            }
        }
    }

    fn insert(&mut self, record: Arc<Record>) {
        self.generation += 1;
        let table = self.table_mut(record.kind);
        table.titles.insert(Arc::clone(&record));
        let index = table.ips.entry(network_of(&record.fields)).or_default();
        index.insert(&record);
        table.records.insert(record.id, record);
    }

    fn remove(&mut self, kind: RecordKind, id: u64) {
        self.generation += 1;
        let table = self.table_mut(kind);
        let Some(record) = table.records.remove(&id) else {
            return;
        };
        table.titles.remove(&record);
        if let Some(index) = table.ips.get_mut(&network_of(&record.fields)) {
            index.remove(&record);
        }
    }
}

#[derive(Default)]
struct ConflictReport {
    conflicts: Vec<IpConflict>,
    truncated: bool,
}

/// The network whose records a record's IPs must not overlap: its own, or
/// network 0 for records without one.
fn network_of(fields: &RecordFields) -> u64 {
    fields.network_id.unwrap_or(0)
}

fn matches_filters(record: &Record, query: &ListQuery) -> bool {
    if let Some(ids) = &query.ids {
        if !ids.contains(record.id) {
            return false;
        }
    }
    if let Some(text) = &query.comments {
        let comments = record.fields.comments.as_deref().unwrap_or("");
        if !comments.contains(text.as_str()) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;
    use time::OffsetDateTime;

    use super::*;
    use crate::domain::change::IpChange;
    use crate::domain::ip_set::IpSet;
    use crate::domain::record::{LoginType, Secret};

    /// A record in the naive model: a title and the set of its addresses.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct ModelRecord {
        title: String,
        ips: BTreeSet<u32>,
    }

    #[derive(Clone, Debug)]
    enum Op {
        Create {
            title: u8,
            ips: Vec<(u32, u32)>,
        },
        Retitle {
            ids: (u64, u64),
            title: u8,
        },
        AddIps {
            ids: (u64, u64),
            ips: Vec<(u32, u32)>,
        },
        RemoveIps {
            ids: (u64, u64),
            ips: Vec<(u32, u32)>,
        },
        Delete {
            ids: (u64, u64),
        },
    }

    fn ranges() -> impl Strategy<Value = Vec<(u32, u32)>> {
        prop::collection::vec((0u32..40, 0u32..4), 1..3)
    }

    fn id_range() -> impl Strategy<Value = (u64, u64)> {
        (1u64..12, 0u64..3).prop_map(|(start, width)| (start, start + width))
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u8..5, ranges()).prop_map(|(title, ips)| Op::Create { title, ips }),
            1 => (id_range(), 0u8..5).prop_map(|(ids, title)| Op::Retitle { ids, title }),
            1 => (id_range(), ranges()).prop_map(|(ids, ips)| Op::AddIps { ids, ips }),
            1 => (id_range(), ranges()).prop_map(|(ids, ips)| Op::RemoveIps { ids, ips }),
            1 => id_range().prop_map(|ids| Op::Delete { ids }),
        ]
    }

    fn ip_set(ranges: &[(u32, u32)]) -> IpSet {
        ranges.iter().map(|&(s, w)| s..=s + w).collect()
    }

    fn addresses(ranges: &[(u32, u32)]) -> BTreeSet<u32> {
        ranges.iter().flat_map(|&(s, w)| s..=s + w).collect()
    }

    fn stamp() -> Stamp {
        Stamp {
            at: OffsetDateTime::UNIX_EPOCH,
            by: "model".to_owned().into(),
        }
    }

    fn fields(title: u8, ips: IpSet) -> RecordFields {
        RecordFields {
            title: format!("t{title}").into(),
            username: "u".into(),
            password: Some(Secret::new("p")),
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

    /// Whether `candidate` may be stored beside every model record but `own`.
    fn fits(model: &BTreeMap<u64, ModelRecord>, own: Option<u64>, candidate: &ModelRecord) -> bool {
        model
            .iter()
            .filter(|(id, _)| Some(**id) != own)
            .all(|(_, other)| {
                other.title != candidate.title && other.ips.is_disjoint(&candidate.ips)
            })
    }

    type ModelEdit = Box<dyn Fn(&mut ModelRecord)>;

    fn apply_to_model(model: &mut BTreeMap<u64, ModelRecord>, next_id: &mut u64, op: &Op) {
        let (ids, edit): ((u64, u64), ModelEdit) = match op {
            Op::Create { title, ips } => {
                let record = ModelRecord {
                    title: format!("t{title}"),
                    ips: addresses(ips),
                };
                if fits(model, None, &record) {
                    model.insert(*next_id, record);
                    *next_id += 1;
                }
                return;
            }
            Op::Delete { ids } => {
                model.retain(|id, _| !(ids.0..=ids.1).contains(id));
                return;
            }
            Op::Retitle { ids, title } => {
                let title = format!("t{title}");
                (
                    *ids,
                    Box::new(move |r: &mut ModelRecord| r.title = title.clone()),
                )
            }
            Op::AddIps { ids, ips } => {
                let add = addresses(ips);
                (
                    *ids,
                    Box::new(move |r: &mut ModelRecord| r.ips.extend(add.iter().copied())),
                )
            }
            Op::RemoveIps { ids, ips } => {
                let remove = addresses(ips);
                (
                    *ids,
                    Box::new(move |r: &mut ModelRecord| r.ips.retain(|ip| !remove.contains(ip))),
                )
            }
        };
        let targets: Vec<u64> = model.range(ids.0..=ids.1).map(|(id, _)| *id).collect();
        for id in targets {
            let mut candidate = model[&id].clone();
            edit(&mut candidate);
            if fits(model, Some(id), &candidate) {
                model.insert(id, candidate);
            }
        }
    }

    fn apply_to_store(store: &mut Store, op: &Op) {
        let id_set = |(start, end): (u64, u64)| {
            let mut set = IdSet::new();
            set.insert_range(start..=end);
            set
        };
        let change = match op {
            Op::Create { title, ips } => {
                let _ = store.create(RecordKind::Vmware, fields(*title, ip_set(ips)), stamp());
                return;
            }
            Op::Delete { ids } => {
                store.delete(RecordKind::Vmware, &id_set(*ids));
                return;
            }
            Op::Retitle { title, .. } => RecordChange {
                title: Some(format!("t{title}")),
                ..RecordChange::default()
            },
            Op::AddIps { ips, .. } => RecordChange {
                ips: Some(IpChange::Edit {
                    add: ip_set(ips),
                    remove: IpSet::new(),
                }),
                ..RecordChange::default()
            },
            Op::RemoveIps { ips, .. } => RecordChange {
                ips: Some(IpChange::Edit {
                    add: IpSet::new(),
                    remove: ip_set(ips),
                }),
                ..RecordChange::default()
            },
        };
        let (Op::Retitle { ids, .. } | Op::AddIps { ids, .. } | Op::RemoveIps { ids, .. }) = op
        else {
            return;
        };
        store.update(RecordKind::Vmware, &id_set(*ids), &change, &stamp());
    }

    /// Reads the store back as model records, and checks its indexes agree.
    fn store_as_model(store: &Store) -> BTreeMap<u64, ModelRecord> {
        let table = store.table(RecordKind::Vmware);
        let mut out = BTreeMap::new();
        for (id, record) in &table.records {
            let ips: BTreeSet<u32> = record.fields.ips.ranges().flatten().collect();
            assert_eq!(
                table.titles.get(&record.fields.title).map(|r| r.id),
                Some(*id),
                "title index"
            );
            for &ip in &ips {
                let holders: Vec<u64> = table.ips[&0]
                    .overlapping(ip..=ip)
                    .map(|(_, holder)| holder.id)
                    .collect();
                assert_eq!(holders, [*id], "IP index for {ip}");
            }
            out.insert(
                *id,
                ModelRecord {
                    title: record.fields.title.to_string(),
                    ips,
                },
            );
        }
        assert_eq!(table.titles.len(), out.len(), "stale title index entries");
        let indexed: usize = table
            .ips
            .values()
            .flat_map(|index| index.intervals())
            .map(|(r, _)| (r.end() - r.start() + 1) as usize)
            .sum();
        let held: usize = out.values().map(|r| r.ips.len()).sum();
        assert_eq!(indexed, held, "stale IP index entries");
        let entries: usize = table.ips.values().map(|index| index.len()).sum();
        let ranges: usize = table
            .records
            .values()
            .map(|r| r.fields.ips.range_count())
            .sum();
        assert_eq!(
            entries, ranges,
            "IP index entries without a matching interval"
        );
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn store_matches_naive_model(ops in prop::collection::vec(op(), 1..40)) {
            let mut store = Store::new(StoreSettings::default());
            let mut model = BTreeMap::new();
            let mut next_id = 1;

            for op in &ops {
                apply_to_store(&mut store, op);
                apply_to_model(&mut model, &mut next_id, op);

                prop_assert_eq!(&store_as_model(&store), &model, "after {:?}", op);
            }
        }
    }

    #[test]
    fn list_pages_by_id() {
        let mut store = Store::new(StoreSettings::default());
        for n in 0..5u32 {
            let ips: IpSet = [n..=n].into_iter().collect();
            store
                .create(RecordKind::Vmware, fields(n as u8, ips), stamp())
                .unwrap();
        }

        let page = store.list(RecordKind::Vmware, &ListQuery::default(), 2);

        let ids: Vec<u64> = page.records.iter().map(|r| r.id).collect();
        assert_eq!(ids, [1, 2]);
        assert_eq!(page.next_id, Some(3));
    }
}

#[cfg(test)]
mod conflict_tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::domain::ip_set::IpSet;
    use crate::domain::record::Secret;

    fn stamp() -> Stamp {
        Stamp {
            at: OffsetDateTime::UNIX_EPOCH,
            by: "test".to_owned().into(),
        }
    }

    fn fields(title: &str, ips: &[(u32, u32)]) -> RecordFields {
        RecordFields {
            title: title.into(),
            username: "u".into(),
            password: Some(Secret::new("p")),
            login_type: LoginType::Basic,
            vault: None,
            port: Some(443),
            ssl_verify: None,
            hosts: Box::default(),
            is_disconnect: false,
            ips: ips
                .iter()
                .map(|&(start, end)| start..=end)
                .collect::<IpSet>(),
            comments: None,
            network_id: None,
        }
    }

    fn create(store: &mut Store, title: &str, ips: &[(u32, u32)]) -> Result<u64, RecordError> {
        store.create(RecordKind::Vmware, fields(title, ips), stamp())
    }

    #[test]
    fn conflicts_report_each_overlap() {
        let mut store = Store::new(StoreSettings::default());
        let low = create(&mut store, "low", &[(10, 20)]).unwrap();
        let high = create(&mut store, "high", &[(30, 40), (50, 50)]).unwrap();

        let Err(RecordError::IpConflicts {
            conflicts,
            truncated,
        }) = create(&mut store, "both", &[(15, 35), (45, 60)])
        else {
            panic!("expected IP conflicts");
        };

        let found: Vec<(RangeInclusive<u32>, u64)> = conflicts
            .iter()
            .map(|c| (c.range.clone(), c.other_id))
            .collect();
        assert_eq!(found, [(15..=20, low), (30..=35, high), (50..=50, high)]);
        assert_eq!(conflicts[0].other_title, "low");
        assert!(!truncated);
    }

    #[test]
    fn touching_ranges_do_not_conflict() {
        let mut store = Store::new(StoreSettings::default());
        create(&mut store, "middle", &[(10, 20)]).unwrap();

        assert!(create(&mut store, "below", &[(0, 9)]).is_ok());
        assert!(create(&mut store, "above", &[(21, 29)]).is_ok());
        assert!(create(&mut store, "inside", &[(12, 12)]).is_err());
    }

    #[test]
    fn conflict_report_is_capped() {
        let mut store = Store::new(StoreSettings::default());
        let count = MAX_REPORTED_CONFLICTS as u32 + 5;
        for n in 0..count {
            create(&mut store, &format!("r{n}"), &[(n * 2, n * 2)]).unwrap();
        }

        let Err(RecordError::IpConflicts {
            conflicts,
            truncated,
        }) = create(&mut store, "all", &[(0, count * 2)])
        else {
            panic!("expected IP conflicts");
        };

        assert_eq!(conflicts.len(), MAX_REPORTED_CONFLICTS);
        assert!(truncated);
    }

    #[test]
    fn records_share_one_login() {
        let mut store = Store::new(StoreSettings::default());
        let first = create(&mut store, "first", &[(1, 1)]).unwrap();
        let second = create(&mut store, "second", &[(2, 2)]).unwrap();

        let first = store.get(RecordKind::Vmware, first).unwrap();
        let second = store.get(RecordKind::Vmware, second).unwrap();

        assert!(Arc::ptr_eq(&first.created.by, &first.modified.by));
        assert!(Arc::ptr_eq(&first.created.by, &second.created.by));
        assert_eq!(first.created.by.as_str(), "test");
    }

    #[test]
    fn updates_that_change_nothing_keep_no_login() {
        let mut store = Store::new(StoreSettings::default());
        create(&mut store, "only", &[(1, 1)]).unwrap();
        let mut missing = IdSet::new();
        missing.insert(999);
        let change = RecordChange {
            title: Some("renamed".to_owned()),
            ..RecordChange::default()
        };
        let stranger = Stamp {
            at: OffsetDateTime::UNIX_EPOCH,
            by: Arc::new("stranger".to_owned()),
        };

        store.update(RecordKind::Vmware, &missing, &change, &stranger);

        assert!(!store
            .logins
            .iter()
            .any(|login| login.as_str() == "stranger"));
    }

    #[test]
    fn update_may_keep_its_own_ips() {
        let mut store = Store::new(StoreSettings::default());
        let id = create(&mut store, "own", &[(10, 20)]).unwrap();
        let mut ids = IdSet::new();
        ids.insert(id);
        let change = RecordChange {
            ips: Some(crate::domain::change::IpChange::Replace(
                [5..=25].into_iter().collect(),
            )),
            ..RecordChange::default()
        };

        let outcome = store.update(RecordKind::Vmware, &ids, &change, &stamp());

        assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
        let record = store.get(RecordKind::Vmware, id).unwrap();
        assert_eq!(record.fields.ips.to_string(), "0.0.0.5-0.0.0.25");
    }
}
