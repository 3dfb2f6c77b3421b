-- Receipt counts per Thailand day (UTC+7), notice version, method and decision, so the
-- console's search can give an exact total at millions of receipts without counting
-- rows. Kept by the log sequencer in the same transaction that appends receipts to the
-- log: a receipt is counted here once it is in the log; the few not yet appended are
-- counted from log_pending. For each receipt there is one row with item = '' and
-- granted = -1 (every receipt), and per distinct item (category or purpose id) one with
-- granted = -1 (decided either way) and one per decision it holds (1 granted, 0 denied).
create table receipt_counts (
    site_id         text not null,
    day             integer not null,        -- (issued_at + 7 h) / 1 day, in days since 1970
    notice_version  text not null,
    method          text not null,
    item            text not null,
    granted         integer not null,
    n               integer not null,
    primary key (site_id, day, notice_version, method, item, granted)
);

-- Receipts already in the log.
insert into receipt_counts (site_id, day, notice_version, method, item, granted, n)
select r.site_id, (r.issued_at + 25200000) / 86400000, r.notice_version, r.method, '', -1, count(*)
from receipts r
where not exists (select 1 from log_pending p where p.receipt_id = r.receipt_id)
group by r.site_id, (r.issued_at + 25200000) / 86400000, r.notice_version, r.method;

insert into receipt_counts (site_id, day, notice_version, method, item, granted, n)
select r.site_id, (r.issued_at + 25200000) / 86400000, r.notice_version, r.method, d.item, -1, count(distinct r.receipt_id)
from receipts r join receipt_decisions d on d.receipt_id = r.receipt_id
where not exists (select 1 from log_pending p where p.receipt_id = r.receipt_id)
group by r.site_id, (r.issued_at + 25200000) / 86400000, r.notice_version, r.method, d.item;

insert into receipt_counts (site_id, day, notice_version, method, item, granted, n)
select r.site_id, (r.issued_at + 25200000) / 86400000, r.notice_version, r.method, d.item, d.granted, count(distinct r.receipt_id)
from receipts r join receipt_decisions d on d.receipt_id = r.receipt_id
where not exists (select 1 from log_pending p where p.receipt_id = r.receipt_id)
group by r.site_id, (r.issued_at + 25200000) / 86400000, r.notice_version, r.method, d.item, d.granted;

-- Keyset paging in (issued_at, receipt_id) order reads this index without sorting.
create index receipts_site_time_id on receipts (site_id, issued_at, receipt_id);
drop index receipts_site_time;
