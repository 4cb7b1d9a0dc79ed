"""The studio's entry script: `genlab studio` runs `streamlit run` on this file."""

import streamlit as st

from genlab.app import status
from genlab.app.i18n import choose_language, t

#: (script, catalogue key of its title, icon) of every page, in menu order
PAGES = [
    ("views/text_to_image.py", "nav.text_to_image", ":material/draw:"),
    ("views/search.py", "nav.search", ":material/image_search:"),
    ("views/zero_shot.py", "nav.zero_shot", ":material/label:"),
    ("views/latent.py", "nav.latent", ":material/tune:"),
    ("views/generators.py", "nav.generators", ":material/grid_view:"),
    ("views/diffusion.py", "nav.diffusion", ":material/blur_on:"),
    ("views/rl.py", "nav.rl", ":material/sports_esports:"),
    ("views/fewshot.py", "nav.fewshot", ":material/category:"),
    ("views/runs.py", "nav.runs", ":material/monitoring:"),
]

choose_language()
st.set_page_config(page_title=t("app.title"), page_icon=":material/draw:", layout="wide")
page = st.navigation([st.Page(path, title=t(title), icon=icon) for path, title, icon in PAGES])
status.start_trainer()
status.sidebar_status()
page.run()
