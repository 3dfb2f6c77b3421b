-- The last `yinyom scan` report of each site, uploaded from the console or the admin API.
create table scan_reports (
    site text primary key references sites (id),
    uploaded_at bigint not null,
    uploaded_by text not null,
    violations bigint not null,
    report_json text not null
);
