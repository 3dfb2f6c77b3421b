-- Bytes per receipt. A receipt's decision rows were a rowid table whose primary key
-- (receipt, kind, item) SQLite kept a second time as an index of its own: 130 of the 2,364
-- bytes a receipt took at 100,000 receipts. WITHOUT ROWID, the table is that key.
create table receipt_decisions_new (
    receipt_id  text not null,
    site_id     text not null,
    kind        text not null,               -- category | purpose
    item        text not null,
    granted     integer not null,            -- 1 or 0
    primary key (receipt_id, kind, item)
) without rowid;
insert into receipt_decisions_new (receipt_id, site_id, kind, item, granted)
    select receipt_id, site_id, kind, item, granted from receipt_decisions;
drop table receipt_decisions;
alter table receipt_decisions_new rename to receipt_decisions;
create index receipt_decisions_search on receipt_decisions (site_id, kind, item, granted);
