"""What 不重复 over a group's span and 当年 change (issue 9), measured from the awards ledger.

    sim run scenarios/yinchuan.yaml --runs 200 --events --out outputs/i9-yinchuan   # and binjiang, baoding
    python benchmarks/stacking.py outputs/i9

Reads PREFIX-yinchuan, PREFIX-binjiang and PREFIX-baoding; amounts are means per run.
"""
import sys
import polars as pl

def awards(folder):
    return pl.read_parquet(f"{folder}/awards/*.parquet").with_columns(pl.col("date").dt.year().alias("year"),
        (pl.col("policy") + "." + pl.col("program")).alias("key"))

def runs(folder):
    return pl.read_parquet(f"{folder}/program_years/*.parquet")["run"].n_unique()

def wan(x): return f"{x/1e4:,.1f}万"

def double_pay(a, keys, n):
    """Paid by both programs over the horizon: per firm the smaller of the two programs' totals."""
    paid = a.filter(pl.col("key").is_in(keys) & (pl.col("granted_yuan") > 0))
    per = paid.group_by("run", "firm", "key").agg(pl.col("granted_yuan").sum())
    both = per.group_by("run", "firm").agg(pl.len().alias("k"), pl.col("granted_yuan").min().alias("smaller"),
                                           pl.col("granted_yuan").sum().alias("total")).filter(pl.col("k") > 1)
    total = paid["granted_yuan"].sum()
    return both["smaller"].sum() / n, total / n, both.height / n

def released(a, keys, n):
    """Paid by one program of the pair the same year the firm's other application was refused (pool, rank, count)."""
    sub = a.filter(pl.col("key").is_in(keys))
    refused = sub.filter(pl.col("outcome").is_in(["ranked_out", "pool_empty", "count_limit", "firm_cap"])).select("run", "firm", "year", pl.col("key").alias("other"))
    j = sub.join(refused, on=["run", "firm", "year"]).filter(pl.col("key") != pl.col("other"))
    return j.filter(pl.col("granted_yuan") > 0)["granted_yuan"].sum() / n, j.filter(pl.col("outcome") == "stacked")["entitled_yuan"].sum() / n

def reclaimed(a, key, n):
    sub = a.filter(pl.col("key") == key)
    first_refused = sub.filter(pl.col("outcome").is_in(["pool_empty", "firm_cap", "count_limit", "ranked_out"])).group_by("run", "firm").agg(pl.col("year").min().alias("refused_in"))
    later = sub.join(first_refused, on=["run", "firm"]).filter((pl.col("year") > pl.col("refused_in")) & (pl.col("granted_yuan") > 0))
    return later["granted_yuan"].sum() / n, sub["granted_yuan"].sum() / n

for label in sys.argv[1:]:
    print(f"== {label}")
    y = f"{label}-yinchuan"; n = runs(y); a = awards(y)
    d, t, f = double_pay(a, ["yinchuan.large_model_compute", "ningxia.large_model"], n)
    print(f"Yinchuan 第九條 + Ningxia （七）: paid by both over the horizon {wan(d)} a run ({f:.2f} firms a run; {d/t:.1%} of the {wan(t)} the two pay)")
    tot = a["granted_yuan"].sum() / n
    print(f"Yinchuan scenario: all grants {wan(tot)} a run")
    b = f"{label}-binjiang"; n = runs(b); a = awards(b)
    keys = ["binjiang.benchmark_demo_project", "binjiang.provincial_scene_selected"]
    d, t, f = double_pay(a, keys, n)
    print(f"Binjiang （十）(a)/(b): paid by both over the horizon {wan(d)} a run ({f:.2f} projects a run; the two pay {wan(t)})")
    p, lost = released(a, keys, n)
    print(f"Binjiang （十）: paid by one after the other refused the same year {wan(p)} a run; stacked although the other was refused {wan(lost)} a run")
    print(f"Binjiang scenario: all grants {wan(a['granted_yuan'].sum() / n)} a run")
    o = f"{label}-baoding"; n = runs(o); a = awards(o)
    r, t = reclaimed(a, "baoding.voucher_new_arrival", n)
    print(f"Baoding 5.(a) landing voucher: paid in a later year after a refusal {wan(r)} a run (the voucher pays {wan(t)} a run)")
    print(f"Baoding scenario: all grants {wan(a['granted_yuan'].sum() / n)} a run")
