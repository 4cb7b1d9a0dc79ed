"""Runs: every run in the runs folder with its metrics, curves and pictures; two runs compared."""

import pandas as pd
import streamlit as st

from genlab.app import models, ui
from genlab.app.i18n import t
from genlab.app.runs import all_runs, is_finished, progress
from genlab.app.safety import read_file_inside
from genlab.app.settings import load_settings
from genlab.config import load_config_yaml
from genlab.train.runstore import RunStore

PICTURE_LIMIT = 20 * 2**20

ui.header(t("runs.title"), t("runs.intro"))
s = load_settings()
found = all_runs(s.runs)
if not found:
    st.info(t("runs.none", runs=s.runs))
    st.stop()


def numbers(d: dict) -> dict:
    return {k: v for k, v in d.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


rows = []
for run, model in found:
    p = progress(run)
    ev = numbers(models.runs_eval(run))
    rows.append(
        {
            t("runs.col_run"): run.name,
            t("runs.col_model"): model,
            t("runs.col_step"): f"{p['step']:,} / {p['steps']:,}",
            t("runs.col_status"): t("runs.finished") if is_finished(run) else t("runs.unfinished"),
            t("runs.col_metrics"): ", ".join(f"{k} {v:.3g}" for k, v in list(ev.items())[:4]),
        }
    )
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

by_name = {run.name: run for run, _ in found}
tab_one, tab_two = st.tabs([t("runs.tab_one"), t("runs.tab_two")])


def curves(run) -> pd.DataFrame:
    rows = [r for r in RunStore(run).read_metrics() if "step" in r]
    return (
        pd.DataFrame(rows).drop_duplicates("step", keep="last").set_index("step").select_dtypes("number")
        if rows
        else pd.DataFrame()
    )


with tab_one:
    name = st.selectbox(t("common.run"), list(by_name), key="runs-one")
    run = by_name[name]
    with ui.friendly(t("runs.what_read")):
        doc = load_config_yaml(run / "config.yaml")
        st.caption(t("runs.model_preset", model=doc["model"], preset=doc.get("preset", "?")))
        ev = numbers(models.runs_eval(run))
        if ev:
            st.dataframe(pd.DataFrame({t("runs.col_value"): ev}), width="stretch")
        df = curves(run)
        if not df.empty:
            cols = [c for c in df.columns if c != "elapsed_s"]
            chosen = st.multiselect(t("runs.curves"), cols, default=cols[:1], key="runs-curves")
            if chosen:
                st.line_chart(df[chosen])
        pictures = [
            p for d in ("samples", "plots") for p in sorted((run / d).glob("*")) if p.suffix in (".png", ".gif")
        ]
        if pictures:
            pic = st.selectbox(
                t("runs.picture"),
                pictures,
                format_func=lambda p: f"{p.parent.name}/{p.name}",
                key=f"runs-pic-{name}",
                index=next((i for i, p in enumerate(pictures) if p.name == "final.png"), 0),
            )
            st.image(read_file_inside(pic, s, PICTURE_LIMIT), caption=pic.name)
        with st.expander("config.yaml"):
            st.json(doc["config"], expanded=False)

with tab_two:
    c1, c2 = st.columns(2)
    a = c1.selectbox(t("runs.first"), list(by_name), key="runs-a")
    b = c2.selectbox(t("runs.second"), list(by_name), index=min(1, len(by_name) - 1), key="runs-b")
    with ui.friendly(t("runs.what_compare")):
        ea, eb = numbers(models.runs_eval(by_name[a])), numbers(models.runs_eval(by_name[b]))
        keys = [k for k in ea if k in eb]
        if keys:
            st.dataframe(
                pd.DataFrame({a: [ea[k] for k in keys], b: [eb[k] for k in keys]}, index=keys), width="stretch"
            )
        else:
            st.info(t("runs.no_shared"))
        da, db = curves(by_name[a]), curves(by_name[b])
        if "loss" in da and "loss" in db:
            st.line_chart(pd.concat({t("runs.loss", run=a): da["loss"], t("runs.loss", run=b): db["loss"]}, axis=1))
        for col, run in ((c1, by_name[a]), (c2, by_name[b])):
            final = run / "samples" / "final.png"
            if final.is_file():
                col.image(read_file_inside(final, s, PICTURE_LIMIT), caption=t("runs.samples", run=run.name))
