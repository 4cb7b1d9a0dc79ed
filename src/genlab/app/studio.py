"""The studio's entry script: `genlab studio` runs `streamlit run` on this file."""

import streamlit as st

from genlab.app import ui

#: (script, title, icon) of every page, in menu order
PAGES = [
    ("views/text_to_image.py", "Text to image", ":material/draw:"),
    ("views/search.py", "Image search", ":material/image_search:"),
    ("views/zero_shot.py", "Zero-shot classifier", ":material/label:"),
    ("views/latent.py", "Latent explorer", ":material/tune:"),
    ("views/generators.py", "Generators", ":material/grid_view:"),
    ("views/diffusion.py", "Diffusion viewer", ":material/blur_on:"),
    ("views/rl.py", "Reinforcement learning", ":material/sports_esports:"),
    ("views/fewshot.py", "Few-shot", ":material/category:"),
    ("views/runs.py", "Runs", ":material/monitoring:"),
]

st.set_page_config(page_title="genlab studio", page_icon=":material/draw:", layout="wide")
page = st.navigation([st.Page(path, title=title, icon=icon) for path, title, icon in PAGES])
ui.start_trainer()
ui.sidebar_status()
page.run()
