"""The web studio: every chapter's demo in one Streamlit app (``genlab studio``).

- :mod:`settings`: what the studio was started with (runs folder, readable folders, limits)
- :mod:`safety`: uploads checked by content, size and pixels; file access only inside allowed folders
- :mod:`runs`: finding finished runs of a model and reading a run's training progress
- :mod:`trainer`: the background trainer (quick presets, one at a time, resumable, one per runs folder)
- :mod:`ui`: the shared page furniture (model loading, friendly errors, image display)
- :mod:`studio`: the Streamlit entry script; :mod:`views`: one script per page
- :mod:`launch`: `genlab studio` as a server process on a free port, and a headless Chromium for it;
  :mod:`studio_client`: a browser-less user speaking Streamlit's websocket protocol (tests and bench)
"""
