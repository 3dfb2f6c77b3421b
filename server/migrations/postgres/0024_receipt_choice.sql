-- Bytes per receipt. A receipt's decisions were rows of their own (receipt, site, kind,
-- item, granted): about 300 bytes a receipt with their indexes (two decisions each), a
-- fifth of all it kept. They are now one short text on the receipt row, `choice`, in the
-- form the visitors' heads use (store/heads.rs `choice_of`): `c:<category>=1
-- p:<purpose>=0 …`, categories then purposes, each in id order. The console's item
-- filter reads it on the receipts it already reads (`like`), the item statistics group
-- the receipts by it, and `log verify` checks it against the signed JSON as it checked
-- the rows. (This rewrites every receipt row once: a store of millions takes minutes.)
alter table receipts add column choice text not null default '';
update receipts r set choice = coalesce(
    (select string_agg(case d.kind when 'category' then 'c:' else 'p:' end
                       || d.item || '=' || d.granted, ' ' order by d.kind, d.item collate "C")
     from receipt_decisions d where d.receipt_id = r.receipt_id),
    '');
drop table receipt_decisions;
-- The item filter reads `' ' || choice || ' '` (store/search.rs). Statistics of that
-- expression let the planner know how many receipts a filter keeps: without them it
-- guessed a handful, and read every receipt of the period to sort them (25 ms at
-- 100,000 receipts, growing with the store) instead of walking the newest first and
-- stopping at a page (0.2 ms).
create statistics receipts_choice on ((' ' || choice || ' ')) from receipts;
