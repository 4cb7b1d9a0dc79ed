"""Pipelines built on the trained models: the image search engine and the text-to-image system."""
