"""Exploratory data analysis of a recipe's data stage: statistics, charts, imbalance and
leakage, written as ``eda.json``, PNG charts and one self-contained HTML report."""
