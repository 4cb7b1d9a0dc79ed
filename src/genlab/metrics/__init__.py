"""Metrics: reconstruction quality, sample quality (evaluator-FID & co), few-shot, retrieval, RL."""
